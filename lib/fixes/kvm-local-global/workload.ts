// Fix 003 in timed mode: what 1b400ba0 costs and saves. A VM of `vcores` vcores (each of `vcpusPerVcore`
// vcpus) on `cores` POWER7 cores: every vcpu loads its share of the guest's pages, then unmaps them (guest
// munmap: one H_REMOVE or H_BULK_REMOVE request per page); the host meanwhile reclaims `reclaim` other pages
// (MMU notifier, one tlbie each). Every guest entry may land on another core (the host loops race for the
// vcores, earliest clock first), so vcpus move. Counters: tlbie, tlbiel, full-LPID flushes (per core), hcalls.

import { int, oneOf, defaultParams } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import { READ } from "../../sim/machine";
import type { Gen } from "../../sim/machine";
import { event } from "../../sim/event";
import { Kvm, KvmWorld, KVMPPC_RMAP_PRESENT, GUEST_VSID, H_AVPN, H_LOCAL } from "../../kvm/index";
import type { GuestOp, KK } from "../../kvm/index";
import { HPTE_V_VALID, PP_RW, guest_vpn, hpte_encode_avpn } from "../../hw/power7";
import { runTimed } from "../../explore/timed";
import type { TimedResult } from "../../explore/timed";
import { kvmLocalGlobalOps, kvmLocalGlobalAfter, HPT_ORDER, reclaim_guest_page } from "./scenario";
import { qemu_create, bulkRemoveRequest } from "./one_vcore";

export const kvmWorkloadParams = {
  cores: int(
    1,
    2,
    2,
    "physical cores that run vcores (the host's qemu and kswapd get one more; the machine has at most 15 CPUs)",
  ),
  vcores: int(1, 4, 1, "vcores of the guest"),
  vcpusPerVcore: int(1, 4, 4, "vcpus per vcore"),
  pages: int(1, 4096, 64, "guest pages unmapped by the guest (H_REMOVE / H_BULK_REMOVE each)"),
  reclaim: int(0, 4096, 16, "other guest pages the host reclaims meanwhile"),
  hcall: oneOf(["remove", "bulk"] as const, "remove", "the hcall of the guest's munmap"),
};

export type KvmWorkloadParams = ParamsOf<typeof kvmWorkloadParams>;

/** Effective address of guest page i (page 0 is GUEST_EA). */
export const pageEa = (i: number): number => 0x1000 * (i + 1);

/** A VM with `n` guest pages, each backed by a host page and mapped by one HPTE (slot 0 of its primary PTEG). */
export function bootedVmPages(w: KvmWorld, id: number, n: number): Kvm {
  const kvm = new Kvm(w, id, -1, HPT_ORDER, n);
  const hpt = kvm.arch.hpt;
  for (let g = 0; g < n; g++) {
    const page = w.pa.take(`vm${id} gfn ${g}`);
    kvm.memslot.hostPte[g] = page;
    const vpn = guest_vpn(GUEST_VSID, pageEa(g));
    const i = hpt.group(vpn, false);
    hpt.set0(i, hpte_encode_avpn(vpn) | HPTE_V_VALID);
    hpt.set1(i, (BigInt(page.pfn) << 12n) | PP_RW);
    hpt.gen.set(i, page.gen);
    kvm.rev(i).guest_rpte = (BigInt(g) << 12n) | PP_RW;
    kvm.memslot.rmap[g] = BigInt(i) | KVMPPC_RMAP_PRESENT;
  }
  w.vms.push(kvm);
  return kvm;
}

export const kvmLocalGlobalWorkload = defineScenario({
  id: "kvm-local-global-workload",
  fix: "kvm-local-global",
  title:
    "HV KVM guest munmap and host reclaim, before and after 1b400ba0: tlbie, tlbiel, full-LPID flushes (timed mode)",
  ops: kvmLocalGlobalOps,
  variants: { before: {}, after: kvmLocalGlobalAfter },
  machine: (p) => ({ cpus: 4 * (p.cores + 1), threadsPerCore: 4 }),
  params: kvmWorkloadParams,
  bounds: { maxSteps: 10_000_000 },
  setup(k, m, p) {
    const n = p.pages + p.reclaim;
    const w = new KvmWorld(m, { frames: n, tlbEntries: 64 });
    const kvm = bootedVmPages(w, 1, n);
    const kk: KK = k;
    const nv = p.vcores * p.vcpusPerVcore;
    const guests: { id: number; ops: GuestOp[] }[] = [];
    for (let c = 0; c < p.vcores; c++) {
      for (let t = 0; t < p.vcpusPerVcore; t++) {
        const j = c * p.vcpusPerVcore + t;
        const ops: GuestOp[] = [];
        for (let g = j; g < n; g += nv) ops.push({ op: "load", ea: pageEa(g) });
        for (let g = j; g < p.pages; g += nv) {
          const pi = kvm.arch.hpt.group(guest_vpn(GUEST_VSID, pageEa(g)), false);
          const avpn = hpte_encode_avpn(guest_vpn(GUEST_VSID, pageEa(g)));
          ops.push(
            p.hcall === "remove"
              ? { op: "h_remove", flags: H_LOCAL | H_AVPN, pte_index: pi, avpn }
              : { op: "h_bulk_remove", args: [bulkRemoveRequest(pi), avpn] },
          );
        }
        guests.push({ id: c * 4 + t, ops }); // vcore = id / threads_per_core
      }
    }
    for (let core = 0; core < p.cores; core++) {
      m.spawn(core * 4, `core${core}`, kk.kvm_host_cpu([kvm]));
      for (let t = 1; t < p.vcpusPerVcore; t++) m.spawn(core * 4 + t, `core${core}.t${t}`, kk.kvm_secondary_thread());
    }
    const host = 4 * p.cores;
    m.spawn(host, "qemu", qemu_create(kk, kvm, guests));
    m.spawn(host + 1, "kswapd", kswapd_reclaim_range(kk, w, kvm, p.pages, n));
  },
});

const E_KSWAPD = event("kswapd", "wait until the guest's memory is in use (the VM runs)", { cost: "none" });

/** kswapd: once the VM runs, reclaim guest pages [from, to) one by one (each: MMU notifier, tlbie, free). */
export function* kswapd_reclaim_range(k: KK, w: KvmWorld, kvm: Kvm, from: number, to: number): Gen {
  k.wait(w.runqObj, READ, E_KSWAPD, () => kvm.created);
  yield;
  for (let g = from; g < to; g++) yield* reclaim_guest_page(k, w, kvm, g, false);
}

/** What one timed run of the workload measured. */
export interface KvmWorkloadCost {
  variant: string;
  params: KvmWorkloadParams;
  makespanNs: number;
  tlbie: number;
  tlbiel: number;
  /** Full-LPID flushes (each 128 tlbiels), and per core. */
  lpidFlushes: number;
  lpidFlushesPerCore: number[];
  hcalls: number;
  /** Virtual time CPUs spent waiting on anything (the tlbie lock among it), ns. */
  waitNs: number;
  violation: string | null;
}

/** Run the workload once in timed mode and pick out its flush counts. */
export function kvmWorkloadCost(variant: "before" | "after", params: Partial<KvmWorkloadParams> = {}): KvmWorkloadCost {
  const r: TimedResult = runTimed(kvmLocalGlobalWorkload, { variant, params });
  const p = { ...defaultParams(kvmWorkloadParams), ...params };
  const c = r.counters;
  const perCore: number[] = [];
  for (let core = 0; core < p.cores; core++) perCore.push(c[`full-LPID flushes on core ${core}`] ?? 0);
  return {
    variant,
    params: p,
    makespanNs: r.makespanNs,
    tlbie: c["tlbie"] ?? 0,
    // 128 of each full-LPID flush are counted as tlbiel by the entry code's flush; keep only the hcalls' here
    tlbiel: (c["tlbiel"] ?? 0) - 128 * (c["full-LPID flushes"] ?? 0),
    lpidFlushes: c["full-LPID flushes"] ?? 0,
    lpidFlushesPerCore: perCore,
    hcalls: c["hcalls"] ?? 0,
    waitNs: r.waitNs.reduce((a, b) => a + b, 0),
    violation: r.violation ? r.violation.invariant : null,
  };
}
