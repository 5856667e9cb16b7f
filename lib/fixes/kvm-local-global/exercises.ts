// Exercises of notebook 04 (fix 003, kvm-local-global), and the state a student reads beside a timeline. Each
// checker computes the truth by running the model: a placement replayed in timed mode for flush counts, the
// explorer for a student's global_invalidates.

import { READ, WRITE } from "../../sim/machine";
import type { Gen, Machine } from "../../sim/machine";
import type { KernelFn } from "../../sim/kernel";
import { event } from "../../sim/event";
import { int, intList } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import { explore } from "../../explore/explore";
import { runTimed } from "../../explore/timed";
import { KvmWorld, H_LOCAL, H_AVPN, VCORE_INACTIVE, VCORE_RUNNING, kvmWorld } from "../../kvm/index";
import type { GuestOp, KK, Kvm } from "../../kvm/index";
import { checkExercise, ExerciseResult } from "../../classroom/exercise";
import { PAGE_FREE } from "../../sim/page_alloc";
import {
  kvmLocalGlobal,
  kvmLocalGlobalOps,
  kvmLocalGlobalAfter,
  bootedVm,
  guestPteIndex,
  GUEST_EA,
  GUEST_AVPN,
} from "./scenario";
import { kvmOneVcore, qemu_create } from "./one_vcore";

// ---- state beside a timeline -------------------------------------------------------------------------------

export type KvmStateRow = { where: string; detail: string };

/** Ghost read of what decides the harm: each core's LPIDR and TLB entries, each VM's HPTE, rmap, flush bits. */
export function kvmState(m: Machine): KvmStateRow[] {
  const w = kvmWorld(m);
  const rows: KvmStateRow[] = [];
  for (let c = 0; c < w.mmu.cores; c++) {
    const es = w.mmu.dump().filter((e) => e.core === c);
    const f = (pfn: number) =>
      `pfn ${pfn} (${w.pa.frames[pfn].state === PAGE_FREE ? "FREE" : `in use: ${w.pa.frames[pfn].use}`})`;
    rows.push({
      where: `core ${c} (LPIDR ${w.mmu.lpidr[c]})`,
      detail:
        es.length === 0
          ? "TLB: no entries"
          : es.map((e) => `LPID ${e.lpid} vpn 0x${e.vpn.toString(16)} → ${f(e.pfn)}, filled by VM ${e.vm}`).join("; "),
    });
  }
  for (const kvm of w.vms) {
    const i = guestPteIndex(kvm);
    const v = kvm.arch.hpt.get0(i);
    const bits = [];
    for (let c = 0; c < w.mmu.cores; c++) if (kvm.arch.need_tlb_flush & (1 << (c * m.threadsPerCore))) bits.push(c);
    rows.push({
      where: `VM ${kvm.id} (LPID ${kvm.arch.lpid})`,
      detail: `HPTE ${i}: ${v === 0n ? "empty" : "0x" + v.toString(16)}; rmap ${(kvm.memslot.rmap[0] & (1n << 32n)) !== 0n ? "chain present" : "chain empty"}; need_tlb_flush: cores [${bits.join(", ")}]`,
    });
  }
  return rows;
}

// ---- exercise 1: predict the flushes for a placement --------------------------------------------------------

export const placementParams = {
  placement: intList(0, 1, 16, [0, 1, 0], "core (0 or 1) that runs the vcore at each guest entry"),
  vcpus: int(1, 4, 4, "vcpus of the one vcore"),
  removeAt: int(
    -1,
    15,
    -1,
    "entry (index into placement) at which vcpu 0 removes the page with H_REMOVE(H_LOCAL); -1: never",
  ),
};

export type PlacementParams = ParamsOf<typeof placementParams>;

const E_TURN = event("(host scheduler)", "this core's turn in the placement? take the vcore", { cost: "spin_lock" });
const E_DONE = event("(host scheduler)", "vcore released: next turn", { cost: "spin_unlock" });

/** The host scheduler as data: core `core` runs the vcore at the entries the placement gives it, in turn. */
export function* placed_host_cpu(k: KK, kvm: Kvm, core: number, placement: number[], turn: { n: number }): Gen {
  const w = kvmWorld(k.m);
  const vc = () => kvm.arch.vcores[0]!;
  for (let i = 0; i < placement.length; i++) {
    if (placement[i] !== core) continue;
    k.wait(w.runqObj, WRITE, E_TURN, () => kvm.created && turn.n === i && vc().vcore_state === VCORE_INACTIVE);
    yield;
    vc().vcore_state = VCORE_RUNNING;
    vc().pcpu = k.cpu();
    yield* k.kvmppc_run_core(vc());
    k.W(w.runqObj, E_DONE);
    yield;
    turn.n++;
  }
}

export const kvmPlacement = defineScenario({
  id: "kvm-placement",
  fix: "kvm-local-global",
  title: "HV KVM: one vcore entered on the cores a placement names (timed mode; exercise 1)",
  ops: kvmLocalGlobalOps,
  variants: { before: {}, after: kvmLocalGlobalAfter },
  machine: { cpus: 12, threadsPerCore: 4 },
  params: placementParams,
  bounds: { maxSteps: 100_000 },
  setup(k, m, p) {
    const w = new KvmWorld(m, { frames: 2, tlbEntries: 4 });
    const kvm = bootedVm(w, 1);
    const kk: KK = k;
    const guests: { id: number; ops: GuestOp[] }[] = [];
    for (let id = 0; id < p.vcpus; id++) {
      const ops: GuestOp[] = [];
      for (let e = 0; e < p.placement.length; e++)
        ops.push(
          id === 0 && e === p.removeAt
            ? { op: "h_remove", flags: H_LOCAL | H_AVPN, pte_index: guestPteIndex(kvm), avpn: GUEST_AVPN }
            : { op: "load", ea: GUEST_EA },
        );
      guests.push({ id, ops });
    }
    const turn = { n: 0 };
    for (let core = 0; core < 2; core++) {
      m.spawn(core * 4, `core${core}`, placed_host_cpu(kk, kvm, core, p.placement, turn));
      for (let t = 1; t < p.vcpus; t++) m.spawn(core * 4 + t, `core${core}.t${t}`, kk.kvm_secondary_thread());
    }
    m.spawn(8, "qemu", qemu_then_stop(kk, w, kvm, guests));
  },
});

const E_STOP = event("(host scheduler)", "every entry done: secondary threads stay offline", { cost: "none" });

/** qemu creates the VM; once every vcpu's program is done the secondaries are told to stop napping. */
export function* qemu_then_stop(k: KK, w: KvmWorld, kvm: Kvm, guests: { id: number; ops: GuestOp[] }[]): Gen {
  yield* qemu_create(k, kvm, guests);
  k.wait(
    w.runqObj,
    READ,
    E_STOP,
    () => kvm.vcpus.every((v) => v.done) && kvm.arch.vcores[0]!.vcore_state === VCORE_INACTIVE,
  );
  yield;
  for (let c = 0; c < k.m.ncpu; c++) w.stopped[c] = true;
}

/** Full-LPID flushes (128 tlbiels each) that `variant` does for a placement: the model's answer. */
export function placementFlushes(variant: "before" | "after", p: Partial<PlacementParams> = {}): number {
  const r = runTimed(kvmPlacement, { variant, params: p });
  if (r.violation) throw new Error(`placement run: ${r.violation.invariant}: ${r.violation.message}`);
  return r.counters["full-LPID flushes"] ?? 0;
}

/** Exercise 1: four vcpus in one vcore enter on cores 0, 1, 0, 1; vcpu 0 removes the page (H_LOCAL) at entry 2. */
export const EXERCISE1: PlacementParams = { placement: [0, 1, 0, 1], vcpus: 4, removeAt: 2 };

export function checkPlacementFlushes(answer: { before: number; after: number } | undefined): ExerciseResult {
  return checkExercise("exercise 1 (flushes for a placement)", answer, (a) => {
    const b = placementFlushes("before", EXERCISE1);
    const f = placementFlushes("after", EXERCISE1);
    const ok = a.before === b && a.after === f;
    if (ok)
      return {
        ok,
        message: `right: v3.7 flushes ${b} times (every thread, on every move), 1b400ba0 ${f} times (once per core whose bit is set)`,
      };
    const hint =
      a.before !== b
        ? "before: each of the 4 threads checks its own last_cpu on every entry"
        : "after: only thread 0 checks its core's bit; who sets bits, and when?";
    return { ok, message: `not quite (${hint})` };
  });
}

// ---- exercise 2: write global_invalidates, let the explorer judge -----------------------------------------

export interface GlobalInvalidatesVerdict {
  /** kvm-local-global (SMP guest, H_LOCAL): the invariant broken, or null. */
  smp: string | null;
  /** kvm-one-vcore (one vcore that moves): the invariant broken, or null. */
  oneVcore: string | null;
  /** tlbiels the one-vcore guest's H_REMOVE did in its serial run (0: the policy never goes local). */
  localRemoves: number;
}

/** Run a student's global_invalidates on both scenarios (after's other functions), and count its tlbiels. */
export function judgeGlobalInvalidates(fn: KernelFn): GlobalInvalidatesVerdict {
  const smp = explore(kvmLocalGlobal, { variant: "after", overrides: { global_invalidates: fn }, minimise: false });
  const one = explore(kvmOneVcore, {
    variant: "after",
    params: { vcpus: 1 },
    overrides: { global_invalidates: fn },
    minimise: false,
  });
  const serial = runTimed(kvmOneVcore, {
    variant: "after",
    params: { vcpus: 1 },
    overrides: { global_invalidates: fn },
  });
  const local = (serial.counters["tlbiel"] ?? 0) - 128 * (serial.counters["full-LPID flushes"] ?? 0);
  return { smp: smp.violation?.invariant ?? null, oneVcore: one.violation?.invariant ?? null, localRemoves: local };
}

export function checkGlobalInvalidates(fn: KernelFn | undefined): ExerciseResult {
  return checkExercise("exercise 2 (write global_invalidates)", fn, (f) => {
    const v = judgeGlobalInvalidates(f);
    if (v.smp)
      return {
        ok: false,
        message: `the SMP guest breaks: ${v.smp} (an H_LOCAL from a guest with two vcores must not stay local)`,
      };
    if (v.oneVcore)
      return {
        ok: false,
        message: `the one-vcore guest breaks: ${v.oneVcore} (a local invalidation must leave work for the other cores)`,
      };
    if (v.localRemoves === 0)
      return { ok: false, message: "safe, but never local: the one-vcore guest paid a tlbie it did not need" };
    return { ok: true, message: "safe in both scenarios, and the one-vcore guest's H_REMOVE stayed local" };
  });
}
