// Fix 003, kvm-local-global: 1b400ba0cd24a5994d792c7cfa0ee24cac266d3c "KVM: PPC: Book3S HV: Improve handling of
// local vs. global TLB invalidations" (Paul Mackerras, v3.8). An SMP guest on POWER7 whose two vcores run on
// two cores: one vcpu removes a page's HPTE with H_LOCAL while the other core's TLB may still hold the
// translation; the host then reclaims the page (MMU notifier → kvm_unmap_rmapp finds the chain empty, so no
// tlbie) and frees it. Threads only: which vcore each core picks up, the hcall order and when the host reclaims
// are the explorer's. Harm: a guest access reaching a host page that no longer backs that guest page.
//
// Machine: POWER7 cores of `threads` hardware threads (4); cores 0 and 1 run vcores (their primary threads run
// the host scheduler loop), core 2's primary thread is qemu and the host's reclaim.

import { int, bool, oneOf } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import type { Gen, Machine } from "../../sim/machine";
import { defineSources } from "../../sim/sources";
import { kvmOps, Kvm, KvmWorld, H_LOCAL, H_AVPN, KVMPPC_RMAP_PRESENT, GUEST_VSID } from "../../kvm/index";
import type { GuestOp, KK } from "../../kvm/index";
import { GFP_KERNEL } from "../../sim/page_alloc";
import { event } from "../../sim/event";
import { HPTE_V_VALID, PP_RW, guest_vpn, hpte_encode_avpn } from "../../hw/power7";
import * as before from "./before";
import * as after from "./after";
import * as later from "./later";

defineSources(__dirname, { before, after, later });

/** The guest page every scenario plays with: effective address, guest physical page. */
export const GUEST_EA = 0x1000;
export const GUEST_GFN = 0;
/** KVM's smallest HPT (PPC_MIN_HPT_ORDER): 2^18 bytes, 2048 PTEGs, so compute_tlbie_rb's 11 low VA bits are exact. */
export const HPT_ORDER = 18;

/** The v3.7 functions 1b400ba0 changes, installed by default (the "before" kernel). */
export const kvmLocalGlobalBefore = {
  kvmppc_h_remove: before.kvmppc_h_remove,
  kvmppc_h_protect: before.kvmppc_h_protect,
  kvmppc_hv_entry: before.kvmppc_hv_entry,
  kvmppc_core_init_vm: before.kvmppc_core_init_vm,
  kvmppc_core_vcpu_create: before.kvmppc_core_vcpu_create,
  kvmppc_alloc_reset_hpt: before.kvmppc_alloc_reset_hpt,
};

/** What 1b400ba0 installs in their place (global_invalidates is new; kvmppc_h_bulk_remove is untouched). */
export const kvmLocalGlobalAfter = {
  kvmppc_h_remove: after.kvmppc_h_remove,
  kvmppc_h_protect: after.kvmppc_h_protect,
  kvmppc_hv_entry: after.kvmppc_hv_entry,
  kvmppc_core_init_vm: after.kvmppc_core_init_vm,
  kvmppc_core_vcpu_create: after.kvmppc_core_vcpu_create,
  kvmppc_alloc_reset_hpt: after.kvmppc_alloc_reset_hpt,
};

/** 2019's entry check (flush, then clear the bit) on top of the fix. */
export const kvmLocalGlobal2019 = { ...kvmLocalGlobalAfter, kvmppc_hv_entry: later.kvmppc_hv_entry };

/** The op table: the shared v3.7 base, the before versions, and names only other eras call. */
export const kvmLocalGlobalOps = {
  ...kvmOps,
  ...kvmLocalGlobalBefore,
  global_invalidates: after.global_invalidates,
  kvmppc_check_need_tlb_flush: later.kvmppc_check_need_tlb_flush,
};

/** HPTE index the guest's mapping of GUEST_EA sits in: slot 0 of its primary PTEG. */
export function guestPteIndex(kvm: Kvm): number {
  return kvm.arch.hpt.group(guest_vpn(GUEST_VSID, GUEST_EA), false);
}

/** The AVPN a guest passes with H_AVPN for GUEST_EA (dword 0 without the low 7 bits). */
export const GUEST_AVPN = hpte_encode_avpn(guest_vpn(GUEST_VSID, GUEST_EA));

/**
 * A VM as qemu left it before the threads start: its memory (one page backing GUEST_GFN) and the HPTE the guest
 * entered at boot for GUEST_EA, on that page's rmap chain. kvm_create_vm and the vcpus are steps of a thread.
 */
export function bootedVm(w: KvmWorld, id: number): Kvm {
  const kvm = new Kvm(w, id, -1, HPT_ORDER, 1);
  const page = w.pa.take(`vm${id} gfn ${GUEST_GFN}`);
  kvm.memslot.hostPte[GUEST_GFN] = page;
  const i = guestPteIndex(kvm);
  const hpt = kvm.arch.hpt;
  hpt.set0(i, GUEST_AVPN | HPTE_V_VALID);
  hpt.set1(i, (BigInt(page.pfn) << 12n) | PP_RW);
  hpt.gen.set(i, page.gen);
  const rev = kvm.rev(i);
  rev.guest_rpte = (BigInt(GUEST_GFN) << 12n) | PP_RW;
  kvm.memslot.rmap[GUEST_GFN] = BigInt(i) | KVMPPC_RMAP_PRESENT;
  w.vms.push(kvm);
  return kvm;
}

export const kvmLocalGlobalParams = {
  threads: int(1, 4, 4, "hardware threads per POWER7 core"),
  flags: oneOf(
    ["local", "global"] as const,
    "local",
    "the remover's H_REMOVE flags: local (H_LOCAL|H_AVPN) or global (H_AVPN)",
  ),
  accesses: int(1, 4, 2, "guest accesses by the other vcpu (the first fills its core's TLB)"),
  reuse: bool(false, "whether the host hands the freed page to another tenant at once"),
};

export type KvmLocalGlobalParams = ParamsOf<typeof kvmLocalGlobalParams>;

export const kvmLocalGlobal = defineScenario({
  id: "kvm-local-global",
  fix: "kvm-local-global",
  title: "HV KVM: H_REMOVE with H_LOCAL leaves another core's TLB mapping a page the host then frees",
  description:
    "An SMP guest, two vcores on two POWER7 cores. vcpu 0 removes the HPTE of a guest page with H_LOCAL while vcpu 4 " +
    "(another vcore) loads from it; the host reclaims the page through its MMU notifier and frees it.",
  ops: kvmLocalGlobalOps,
  variants: { before: {}, after: kvmLocalGlobalAfter, "2019": kvmLocalGlobal2019 },
  machine: (p) => ({ cpus: 3 * p.threads, threadsPerCore: p.threads }),
  params: kvmLocalGlobalParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 3000 },
  setup(k, m, p) {
    const w = new KvmWorld(m, { frames: 3, tlbEntries: 2 });
    const kvm = bootedVm(w, 1);
    const kk: KK = k;
    const flags = (p.flags === "local" ? H_LOCAL : 0n) | H_AVPN;
    const remover: GuestOp[] = [{ op: "h_remove", flags, pte_index: guestPteIndex(kvm), avpn: GUEST_AVPN }];
    const reader: GuestOp[] = [];
    for (let i = 0; i < p.accesses; i++) reader.push({ op: "load", ea: GUEST_EA });
    // vcpu ids 0 and threads: vcores 0 and 1 (vcore = id / threads_per_core)
    const guests = [
      { id: 0, ops: remover },
      { id: p.threads, ops: reader },
    ];
    m.spawn(0, "core0", kk.kvm_host_cpu([kvm]));
    m.spawn(p.threads, "core1", kk.kvm_host_cpu([kvm]));
    m.spawn(2 * p.threads, "qemu+reclaim", qemu_then_reclaim(kk, w, kvm, guests, p.reuse));
    return {
      observe: () => `tlb=${JSON.stringify(w.mmu.dump())} rets=${kvm.vcpus.map((v) => v.rets.join(",")).join("|")}`,
    };
  },
});

const E_UNMAP = event("try_to_unmap_one", "clear qemu's PTE for the guest page (then the MMU notifier)", {
  cost: "pte_update",
});

/** Host core: qemu creates the VM and its vcpus; later the host reclaims the guest page and frees it. */
export function* qemu_then_reclaim(
  k: KK,
  w: KvmWorld,
  kvm: Kvm,
  guests: { id: number; ops: GuestOp[] }[],
  reuse: boolean,
): Gen {
  yield* k.kvm_create_vm(kvm);
  yield* k.kvm_vm_ioctl_create_vcpus(kvm, guests);
  yield* reclaim_guest_page(k, w, kvm, GUEST_GFN, reuse);
}

/** shrink_page_list on the page backing gfn: try_to_unmap (PTE cleared, MMU notifier), free unless pinned, maybe reuse. */
export function* reclaim_guest_page(k: KK, w: KvmWorld, kvm: Kvm, gfn: number, reuse: boolean): Gen {
  const s = kvm.memslot;
  k.W(s.hostPteObj + gfn, E_UNMAP);
  yield;
  const page = s.hostPte[gfn];
  s.hostPte[gfn] = null;
  if (page === null) return;
  yield* k.kvm_mmu_notifier_invalidate_page(kvm, gfn);
  if (s.slot_phys[gfn] === page) return; // pinned by KVM (PPC970): __remove_mapping sees the extra reference, keeps it
  yield* k.free_page(w.pa, page);
  if (reuse) yield* k.alloc_page(w.pa, GFP_KERNEL, "another tenant's page");
}

export type { Machine };
