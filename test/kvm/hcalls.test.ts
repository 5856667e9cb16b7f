// HV KVM real-mode hcalls on the POWER7 model: return codes, HPTE and rmap effects, tlbie vs tlbiel per era.
import { describe, it, expect } from "vitest";
import { defineScenario, explore } from "../../lib/explore/index";
import type { Gen } from "../../lib/sim/machine";
import {
  KvmWorld,
  H_SUCCESS,
  H_NOT_FOUND,
  H_PARAMETER,
  H_PTEG_FULL,
  H_LOCAL,
  H_AVPN,
  H_EXACT,
  KVMPPC_RMAP_PRESENT,
  KVMPPC_RMAP_INDEX,
  HPTE_V_ABSENT,
  compute_tlbie_rb,
  GUEST_VSID,
} from "../../lib/kvm/index";
import type { Kvm, KK, KvmVcpu } from "../../lib/kvm/index";
import {
  kvmLocalGlobalOps,
  kvmLocalGlobalAfter,
  bootedVm,
  guestPteIndex,
  GUEST_AVPN,
  GUEST_EA,
} from "../../lib/fixes/kvm-local-global/scenario";
import {
  HPTE_V_VALID,
  HPTE_R_PP,
  PP_RO,
  PP_RW,
  Power7Mmu,
  guest_vpn,
  rb_of_vpn,
  hpte_encode_avpn,
} from "../../lib/hw/power7";

type Body = (k: KK, w: KvmWorld, kvm: Kvm, vcpus: KvmVcpu[]) => Gen<void>;
let last: { w: KvmWorld; kvm: Kvm; out: unknown[] } | null = null;

/** Run `body` once on cpu 0 of a 2-core POWER7 (4 threads each) after creating a VM with vcpus 0 and 4. */
function run(body: Body, variant: "before" | "after" = "before", prefillTlbCore1 = false) {
  const def = defineScenario<typeof kvmLocalGlobalOps, Record<string, never>>({
    id: "kvm-hcall-probe",
    title: "one thread calls hcalls",
    ops: kvmLocalGlobalOps,
    variants: { before: {}, after: kvmLocalGlobalAfter },
    machine: { cpus: 8, threadsPerCore: 4 },
    setup(k, m) {
      const w = new KvmWorld(m, { frames: 4, tlbEntries: 2 });
      const kvm = bootedVm(w, 1);
      last = { w, kvm, out: [] };
      m.spawn(0, "probe", probe(k as unknown as KK, w, kvm, body, prefillTlbCore1));
    },
  });
  const r = explore(def, { variant, preemptions: 0 });
  expect(r.violation).toBeNull();
  return last!;
}

function* probe(k: KK, w: KvmWorld, kvm: Kvm, body: Body, prefill: boolean): Gen {
  yield* k.kvm_create_vm(kvm);
  yield* k.kvm_vm_ioctl_create_vcpus(kvm, [
    { id: 0, ops: [] },
    { id: 4, ops: [] },
  ]);
  // the hcalls run as vcpu 0 on this CPU, in the guest partition
  w.hstate[0] = { kvm_vcpu: kvm.vcpus[0], kvm_vcore: kvm.vcpus[0].arch.vcore };
  kvm.vcpus[0].arch.vcore.pcpu = 0;
  yield* k.kvmppc_partition_switch(kvm.vcpus[0]);
  if (prefill) {
    const vpn = guest_vpn(GUEST_VSID, GUEST_EA);
    const page = kvm.memslot.hostPte[0]!;
    const i = w.mmu.tlb.fill(1, Power7Mmu.tag(kvm.arch.lpid, vpn), page.pfn, page.gen, 1);
    w.mmu.owner[i] = kvm.id;
  }
  yield* body(k, w, kvm, kvm.vcpus);
}

describe("H_REMOVE", () => {
  it("removes a valid HPTE: H_SUCCESS, old dwords in r4/r5, HPTE zero, rmap chain empty", () => {
    const s = run(function* (k, _w, kvm, v) {
      last!.out.push(yield* k.kvmppc_h_remove(v[0], H_AVPN, guestPteIndex(kvm), GUEST_AVPN));
    });
    const i = guestPteIndex(s.kvm);
    expect(s.out).toEqual([H_SUCCESS]);
    expect(s.kvm.vcpus[0].arch.gpr[4]).toBe(GUEST_AVPN | HPTE_V_VALID);
    expect(s.kvm.vcpus[0].arch.gpr[5] & HPTE_R_PP).toBe(PP_RW);
    expect(s.kvm.arch.hpt.get0(i)).toBe(0n);
    expect(s.kvm.memslot.rmap[0] & (KVMPPC_RMAP_PRESENT | KVMPPC_RMAP_INDEX)).toBe(0n);
    expect(s.kvm.memslot.rmap[0] >> 63n).toBe(0n);
  });
  it("H_NOT_FOUND for a wrong AVPN, an H_ANDCOND hit or an empty slot; H_PARAMETER past the HPT", () => {
    const s = run(function* (k, _w, kvm, v) {
      const i = guestPteIndex(kvm);
      last!.out.push(yield* k.kvmppc_h_remove(v[0], H_AVPN, i, GUEST_AVPN + 0x80n));
      last!.out.push(yield* k.kvmppc_h_remove(v[0], 1n << 30n /* H_ANDCOND */, i, HPTE_V_VALID));
      last!.out.push(yield* k.kvmppc_h_remove(v[0], 0n, i + 1, 0n));
      last!.out.push(yield* k.kvmppc_h_remove(v[0], 0n, kvm.arch.hpt_npte, 0n));
    });
    expect(s.out).toEqual([H_NOT_FOUND, H_NOT_FOUND, H_NOT_FOUND, H_PARAMETER]);
    expect(s.kvm.arch.hpt.get0(guestPteIndex(s.kvm))).toBe(GUEST_AVPN | HPTE_V_VALID); // untouched, unlocked
  });
  it("before: H_LOCAL on a 2-vcpu VM is a tlbiel, another core keeps the translation; after: tlbie drops it", () => {
    const body: Body = function* (k, _w, kvm, v) {
      last!.out.push(yield* k.kvmppc_h_remove(v[0], H_LOCAL | H_AVPN, guestPteIndex(kvm), GUEST_AVPN));
    };
    const b = run(body, "before", true);
    expect(b.w.mmu.dump().filter((e) => e.core === 1)).toHaveLength(1);
    const a = run(body, "after", true);
    expect(a.w.mmu.dump().filter((e) => e.core === 1)).toHaveLength(0);
  });
  it("after, without MMU notifiers (PPC970's pinned memory): global_invalidates honours H_LOCAL, and only H_LOCAL", () => {
    const body = (flags: bigint): Body =>
      function* (k, _w, kvm, v) {
        kvm.arch.using_mmu_notifiers = 0;
        last!.out.push(yield* k.kvmppc_h_remove(v[0], flags | H_AVPN, guestPteIndex(kvm), GUEST_AVPN));
      };
    const local = run(body(H_LOCAL), "after", true);
    expect(local.out).toEqual([H_SUCCESS]);
    expect(local.w.mmu.dump().filter((e) => e.core === 1)).toHaveLength(1); // a tlbiel: core 1 keeps it
    expect(local.kvm.arch.need_tlb_flush).toBe(0xfe); // every !global marks the other CPUs (a PPC970 never reads them)
    const global = run(body(0n), "after", true);
    expect(global.w.mmu.dump().filter((e) => e.core === 1)).toHaveLength(0);
  });
});

describe("H_ENTER, H_PROTECT, H_BULK_REMOVE", () => {
  it("H_ENTER H_EXACT: a free slot gets the host address and joins the chain; a used slot is H_PTEG_FULL; large pages H_PARAMETER", () => {
    const s = run(function* (k, _w, kvm, v) {
      const i = guestPteIndex(kvm);
      const pteh = GUEST_AVPN | HPTE_V_VALID;
      last!.out.push(yield* k.kvmppc_h_enter(v[0], H_EXACT, i + 1, pteh, PP_RW)); // gpa 0: the same guest page
      last!.out.push(yield* k.kvmppc_h_enter(v[0], H_EXACT, i, pteh, PP_RW));
      last!.out.push(yield* k.kvmppc_h_enter(v[0], H_EXACT, i + 2, pteh | 0x4n, PP_RW));
    });
    const i = guestPteIndex(s.kvm);
    expect(s.out).toEqual([H_SUCCESS, H_PTEG_FULL, H_PARAMETER]);
    const pfn = s.kvm.memslot.hostPte[0]!.pfn;
    expect(s.kvm.arch.hpt.get1(i + 1) >> 12n).toBe(BigInt(pfn)); // host real address, not the gpa
    expect(s.kvm.rev(i + 1).guest_rpte >> 12n).toBe(0n); // the guest's view keeps the gpa
    expect(s.kvm.rev(i).forw).toBe(i + 1); // two HPTEs on gfn 0's chain
    expect(s.kvm.rev(i + 1).forw).toBe(i);
  });
  it("H_PROTECT makes the page read-only in the HPTE and the guest view; H_NOT_FOUND on a wrong AVPN", () => {
    const s = run(function* (k, _w, kvm, v) {
      last!.out.push(yield* k.kvmppc_h_protect(v[0], H_AVPN | PP_RO, guestPteIndex(kvm), GUEST_AVPN));
      last!.out.push(yield* k.kvmppc_h_protect(v[0], H_AVPN | PP_RO, guestPteIndex(kvm), 0n));
    });
    const i = guestPteIndex(s.kvm);
    expect(s.out).toEqual([H_SUCCESS, H_NOT_FOUND]);
    expect(s.kvm.arch.hpt.get1(i) & HPTE_R_PP).toBe(PP_RO);
    expect(s.kvm.rev(i).guest_rpte & HPTE_R_PP).toBe(PP_RO);
    expect(s.kvm.arch.hpt.get0(i) & HPTE_V_VALID).toBe(HPTE_V_VALID);
  });
  it("H_BULK_REMOVE: per-request status bytes 0x80 (removed), 0x90 (not found), 0xa0 (parameter error)", () => {
    const s = run(function* (k, _w, kvm, v) {
      const i = BigInt(guestPteIndex(kvm));
      const req = (flags: bigint, idx: bigint) => ((0x40n | flags) << 56n) | idx; // req 1
      const args = [req(2n, i), GUEST_AVPN, req(0n, i + 1n), 0n, (0x80n << 56n) | 0n, 0n];
      for (let j = 0; j < 8; j++) v[0].arch.gpr[4 + j] = args[j] ?? (j % 2 === 0 ? 0xc0n << 56n : 0n);
      last!.out.push(yield* k.kvmppc_h_bulk_remove(v[0]));
    });
    const g = s.kvm.vcpus[0].arch.gpr;
    expect(s.out).toEqual([H_PARAMETER]);
    expect((g[4] >> 56n) & 0xf0n).toBe(0x80n);
    expect((g[6] >> 56n) & 0xf0n).toBe(0x90n);
    expect((g[8] >> 56n) & 0xf0n).toBe(0xa0n);
    expect(s.kvm.arch.hpt.get0(guestPteIndex(s.kvm))).toBe(0n);
  });
});

describe("POWER7 MMU and HPT arithmetic", () => {
  it("compute_tlbie_rb recovers the page's VA from the HPTE and its PTEG index (order-18 HPT)", () => {
    const s = run(function* () {});
    const vpn = guest_vpn(GUEST_VSID, GUEST_EA);
    const i = guestPteIndex(s.kvm);
    expect(compute_tlbie_rb(hpte_encode_avpn(vpn) | HPTE_V_VALID, 0n, i)).toBe(rb_of_vpn(vpn));
    expect(compute_tlbie_rb(hpte_encode_avpn(vpn + 1) | HPTE_V_VALID, 0n, s.kvm.arch.hpt.group(vpn + 1, false))).toBe(
      rb_of_vpn(vpn + 1),
    );
  });
  it("the MMU notifier marks the HPTE absent and a global tlbie empties every core's entry for it", () => {
    const s = run(
      function* (k, _w, kvm) {
        yield* k.kvm_mmu_notifier_invalidate_page(kvm, 0);
      },
      "before",
      true,
    );
    const i = guestPteIndex(s.kvm);
    expect(s.kvm.arch.hpt.get0(i) & (HPTE_V_ABSENT | HPTE_V_VALID)).toBe(HPTE_V_ABSENT);
    expect(s.w.mmu.dump()).toHaveLength(0);
    expect(s.kvm.memslot.rmap[0] & KVMPPC_RMAP_PRESENT).toBe(0n);
  });
});

describe("kvmppc_alloc_reset_hpt", () => {
  const reset = (running: number) =>
    function* (k: KK, _w: KvmWorld, kvm: Kvm): Gen {
      kvm.arch.rma_setup_done = 1;
      kvm.arch.vcpus_running = running;
      last!.out.push(yield* k.kvmppc_alloc_reset_hpt(kvm));
    };
  it("-EBUSY while a vcpu is in KVM_RUN: the HPT is untouched and rma_setup_done is set again", () => {
    for (const variant of ["before", "after"] as const) {
      const s = run(reset(1), variant, true);
      expect(s.out, variant).toEqual([-16]);
      expect(s.kvm.arch.hpt.get0(guestPteIndex(s.kvm)), variant).toBe(GUEST_AVPN | HPTE_V_VALID);
      expect(s.kvm.arch.rma_setup_done, variant).toBe(1);
      expect(s.kvm.lock, variant).toBe(0);
    }
  });
  it("otherwise zeroes the HPT without any flush; before fills last_vcpu[] with 0xffff, after sets every bit", () => {
    const b = run(reset(0), "before", true);
    expect(b.out).toEqual([0]);
    expect(b.kvm.arch.hpt.get0(guestPteIndex(b.kvm))).toBe(0n);
    expect(b.kvm.arch.rma_setup_done).toBe(0);
    expect(b.kvm.arch.last_vcpu.every((x) => x === 0xffff)).toBe(true);
    expect(b.w.mmu.dump().filter((e) => e.core === 1)).toHaveLength(1); // core 1's TLB still maps the page
    expect(b.kvm.memslot.rmap[0] & KVMPPC_RMAP_PRESENT).toBe(KVMPPC_RMAP_PRESENT); // 1b400ba0 leaves the chains
    const a = run(reset(0), "after", true);
    expect(a.out).toEqual([0]);
    expect(a.kvm.arch.need_tlb_flush).toBe(0xff); // cpumask_setall over the 8 CPUs
    expect(a.w.mmu.dump().filter((e) => e.core === 1)).toHaveLength(1);
  });
});
