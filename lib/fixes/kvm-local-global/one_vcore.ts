// Fix 003, kvm-local-global: the case 1b400ba0 keeps local. A guest with ONE vcore (its vcpus share a physical
// core) may invalidate with tlbiel; the vcore can later be picked up by another core whose TLB still holds the
// translation from an earlier run, so that core must flush on entry. After the fix its need_tlb_flush bit does
// it; before, the per-thread last_cpu/last_vcpu check did (it flushed on every move). The host reclaims the page
// after the hcall unlinked it (kvm_unmap_rmapp finds nothing to tlbie). Harm: a guest load through a stale entry
// to a freed page. Threads only: which core picks the vcore up each time and when the host reclaims are the
// explorer's.
//
// The finding: v3.8–v3.11's kvmppc_h_bulk_remove still takes tlbiel when online_vcpus == 1 and marks no core
// (the files read: book3s_hv_rm_mmu.c of v3.8, v3.9, v3.10, v3.11; v3.12 calls global_invalidates). With the
// per-move flush gone, a one-vcpu guest that bulk-removes a page and moves back to a core it left reads it.

import { int, bool, oneOf } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import { READ } from "../../sim/machine";
import type { Gen, Machine } from "../../sim/machine";
import { event } from "../../sim/event";
import { KvmWorld, H_LOCAL, H_AVPN } from "../../kvm/index";
import type { GuestOp, KK, Kvm } from "../../kvm/index";
import {
  kvmLocalGlobalOps,
  kvmLocalGlobalAfter,
  kvmLocalGlobal2019,
  bootedVm,
  guestPteIndex,
  reclaim_guest_page,
  GUEST_EA,
  GUEST_GFN,
  GUEST_AVPN,
} from "./scenario";
import * as later from "./later";
import * as broken from "./broken";
import { defineSources } from "../../sim/sources";

defineSources(__dirname, { broken });

export const kvmOneVcoreParams = {
  threads: int(1, 4, 4, "hardware threads per POWER7 core (v3.7's entry check assumes 4)"),
  vcpus: int(1, 4, 2, "vcpus of the one vcore (ids 0..vcpus-1, so all in vcore 0)"),
  hcall: oneOf(
    ["remove", "bulk"] as const,
    "remove",
    "the hcall vcpu 0 removes the page with: H_REMOVE(H_LOCAL|H_AVPN) or H_BULK_REMOVE (one AVPN request)",
  ),
  reuse: bool(false, "whether the host hands the freed page to another tenant at once"),
};

export type KvmOneVcoreParams = ParamsOf<typeof kvmOneVcoreParams>;

/** H_BULK_REMOVE's request word: req 1 (remove), flags 2 (match AVPN), then the PTE index. */
export function bulkRemoveRequest(pte_index: number): bigint {
  return ((0x40n | 0x02n) << 56n) | BigInt(pte_index);
}

export const kvmOneVcore = defineScenario({
  id: "kvm-one-vcore",
  fix: "kvm-local-global",
  title: "HV KVM: a one-vcore guest's tlbiel, then its vcore moves to a core that still holds the translation",
  description:
    "A guest whose vcpus share one vcore. vcpu 0 loads a page, removes its HPTE by hcall and loads it again; the " +
    "other vcpus load it. Two cores may pick the vcore up, one entry at a time; the host reclaims the page.",
  ops: kvmLocalGlobalOps,
  variants: {
    before: {},
    after: kvmLocalGlobalAfter,
    "2019": kvmLocalGlobal2019,
    later: { ...kvmLocalGlobal2019, kvmppc_h_bulk_remove: later.kvmppc_h_bulk_remove },
    "no-setall": { ...kvmLocalGlobalAfter, global_invalidates: broken.global_invalidates_no_setall },
    "clear-no-flush": { ...kvmLocalGlobalAfter, kvmppc_hv_entry: broken.kvmppc_hv_entry_clear_no_flush },
  },
  machine: (p) => ({ cpus: 3 * p.threads, threadsPerCore: p.threads }),
  params: kvmOneVcoreParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 3000 },
  setup(k, m, p) {
    if (p.hcall !== "remove" && p.hcall !== "bulk")
      throw new Error(`hcall must be "remove" or "bulk", got ${String(p.hcall)}`);
    const w = new KvmWorld(m, { frames: 3, tlbEntries: 2 });
    const kvm = bootedVm(w, 1);
    const kk: KK = k;
    const pi = guestPteIndex(kvm);
    const remove: GuestOp =
      p.hcall === "remove"
        ? { op: "h_remove", flags: H_LOCAL | H_AVPN, pte_index: pi, avpn: GUEST_AVPN }
        : { op: "h_bulk_remove", args: [bulkRemoveRequest(pi), GUEST_AVPN] };
    const load: GuestOp = { op: "load", ea: GUEST_EA };
    const guests: { id: number; ops: GuestOp[] }[] = [{ id: 0, ops: [load, remove, load] }];
    for (let id = 1; id < p.vcpus; id++) guests.push({ id, ops: [load, load, load] });
    spawnGuestCores(kk, m, p.threads, p.vcpus - 1, [kvm]);
    m.spawn(2 * p.threads, "qemu", qemu_create(kk, kvm, guests));
    m.spawn(2 * p.threads + 1, "kswapd", kswapd_reclaim(kk, w, kvm, p.reuse));
    return {
      observe: () => `tlb=${JSON.stringify(w.mmu.dump())} rets=${kvm.vcpus.map((v) => v.rets.join(",")).join("|")}`,
    };
  },
});

const E_KSWAPD = event("kswapd", "wait until the guest's memory is in use (the VM exists)", { cost: "none" });

/** qemu on the host core: KVM_CREATE_VM, then the vcpus; then it is done (its vcpu threads are the cores' loops). */
export function* qemu_create(k: KK, kvm: Kvm, guests: { id: number; ops: GuestOp[] }[]): Gen {
  yield* k.kvm_create_vm(kvm);
  yield* k.kvm_vm_ioctl_create_vcpus(kvm, guests);
}

/** kswapd on the host core's second thread: once the VM runs, reclaim the page backing GUEST_GFN. */
export function* kswapd_reclaim(k: KK, w: KvmWorld, kvm: Kvm, reuse: boolean): Gen {
  k.wait(w.runqObj, READ, E_KSWAPD, () => kvm.created);
  yield;
  yield* reclaim_guest_page(k, w, kvm, GUEST_GFN, reuse);
}

/** Cores 0 and 1: the host scheduler loop on thread 0, kvm_start_guest's nap loop on the next `secondaries`. */
export function spawnGuestCores(k: KK, m: Machine, threads: number, secondaries: number, vms: Kvm[]): void {
  for (let core = 0; core < 2; core++) {
    m.spawn(core * threads, `core${core}`, k.kvm_host_cpu(vms));
    for (let t = 1; t <= secondaries; t++) m.spawn(core * threads + t, `core${core}.t${t}`, k.kvm_secondary_thread());
  }
}
