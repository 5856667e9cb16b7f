// Fix 003's later history: the 2014 change-bit race of H_REMOVE. vcpu 0 removes a page's HPTE (a global tlbie)
// while vcpu 4 on another core stores to the page through a TLB entry that has not recorded the change yet:
// the hardware sets C in the HPTE until the tlbie sequence completes. If H_REMOVE takes R/C from a read of the
// HPTE made before the invalidation (6f22bd3265fb, 2014) the change is lost; read after it (v3.7–v3.16, and
// the 2014 fix) it reaches the rmap. Harm, checked once every thread is done: a guest store to the page that
// no dirty record the host keeps for it shows (the rmap's changed bit, C in an HPTE still on its chain),
// which is what KVM_GET_DIRTY_LOG reads: a migration would not send the page again, a write lost on the
// destination (the fix's own account). The page's struct page dirty flag is set when a writable HPTE is made,
// so reclaim's writeback is not what loses it. Threads only: the order of the hcall and the accesses is the
// explorer's.

import { defineScenario } from "../../explore/scenario";
import { defineSources } from "../../sim/sources";
import { KvmWorld, H_AVPN, KVMPPC_RMAP_CHANGED, KVMPPC_RMAP_INDEX, KVMPPC_RMAP_PRESENT } from "../../kvm/index";
import type { GuestOp, KK, Kvm } from "../../kvm/index";
import type { KernelBase } from "../../sim/kernel";
import { HPTE_R_C } from "../../hw/power7";
import {
  kvmLocalGlobalOps,
  kvmLocalGlobalAfter,
  bootedVm,
  guestPteIndex,
  GUEST_EA,
  GUEST_GFN,
  GUEST_AVPN,
} from "./scenario";
import { qemu_create } from "./one_vcore";
import * as rc_before from "./rc_before";
import * as rc_after from "./rc_after";

defineSources(__dirname, { rc_before, rc_after });

export const kvmRcRace = defineScenario({
  id: "kvm-rc-race",
  fix: "kvm-local-global",
  title: "HV KVM: H_REMOVE reads the change bit before the tlbie completes; a guest store's C is lost (2014)",
  description:
    "Two vcores on two POWER7 cores. vcpu 0 removes a page's HPTE with H_REMOVE (global); vcpu 4 loads the page " +
    "(its core's TLB entry, C clear) and then stores to it. At the end the host's dirty record must show the store.",
  ops: kvmLocalGlobalOps,
  variants: {
    before: {},
    after: kvmLocalGlobalAfter,
    "2014-le": { ...kvmLocalGlobalAfter, kvmppc_h_remove: rc_before.kvmppc_h_remove },
    "2014-fix": { ...kvmLocalGlobalAfter, kvmppc_h_remove: rc_after.kvmppc_h_remove },
  },
  machine: { cpus: 12, threadsPerCore: 4 },
  bounds: { preemptions: 2, depth: 3, maxSteps: 3000 },
  setup(k, m) {
    const w = new KvmWorld(m, { frames: 3, tlbEntries: 2 });
    const kvm = bootedVm(w, 1);
    const kk: KK = k;
    const remover: GuestOp[] = [{ op: "h_remove", flags: H_AVPN, pte_index: guestPteIndex(kvm), avpn: GUEST_AVPN }];
    const writer: GuestOp[] = [
      { op: "load", ea: GUEST_EA },
      { op: "store", ea: GUEST_EA },
    ];
    m.spawn(0, "core0", kk.kvm_host_cpu([kvm]));
    m.spawn(4, "core1", kk.kvm_host_cpu([kvm]));
    m.spawn(
      8,
      "qemu",
      qemu_create(kk, kvm, [
        { id: 0, ops: remover },
        { id: 4, ops: writer },
      ]),
    );
    return {
      final: () => check_dirty_recorded(k, kvm, GUEST_GFN),
      observe: () => `rmap=${kvm.memslot.rmap[GUEST_GFN].toString(16)} data=${kvm.memslot.hostPte[GUEST_GFN]?.data}`,
    };
  },
});

/** Harm "write-lost": the page was stored to, and neither the rmap nor an HPTE on its chain says changed. */
export function check_dirty_recorded(k: KernelBase, kvm: Kvm, gfn: number): void {
  const s = kvm.memslot;
  const page = s.hostPte[gfn - s.base_gfn];
  if (page === null || page.data === 0) return; // no guest store reached the page
  const rmap = s.rmap[gfn - s.base_gfn];
  if ((rmap & KVMPPC_RMAP_CHANGED) !== 0n) return;
  if ((rmap & KVMPPC_RMAP_PRESENT) !== 0n) {
    const head = Number(rmap & KVMPPC_RMAP_INDEX);
    let i = head;
    do {
      if ((kvm.arch.hpt.get1(i) & HPTE_R_C) !== 0n) return;
      i = kvm.rev(i).forw;
    } while (i !== head);
  }
  k.violation(
    "write-lost",
    `${page.data} guest store(s) to pfn ${page.pfn} (gfn ${gfn}) are in no dirty record the host keeps (rmap changed bit, HPTE C): KVM_GET_DIRTY_LOG would not report the page`,
  );
}
