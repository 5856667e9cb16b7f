// HV KVM on POWER7 (arch/powerpc/kvm, v3.7 base): structures, real-mode hcalls, guest entry/exit, vcore
// placement, MMU notifiers and the HDSI path. The functions fix 003 (1b400ba0) changes are not here: each
// scenario installs the era it runs (lib/fixes/kvm-local-global/{before,after,later}.ts).

import { simOps } from "../sim/index";
import { defineSources } from "../sim/sources";
import * as kvm_book3s_64 from "./kvm_book3s_64";
import * as book3s_hv_rm_mmu from "./book3s_hv_rm_mmu";
import * as book3s_64_mmu_hv from "./book3s_64_mmu_hv";
import * as book3s_hv from "./book3s_hv";
import * as book3s_hv_rmhandlers from "./book3s_hv_rmhandlers";
import * as powerpc from "./powerpc";
import * as kvm_main from "./kvm_main";
import * as guest from "./guest";

defineSources(__dirname, {
  kvm_book3s_64,
  book3s_hv_rm_mmu,
  book3s_64_mmu_hv,
  book3s_hv,
  book3s_hv_rmhandlers,
  powerpc,
  kvm_main,
  guest,
});

/** The v3.7 HV KVM functions every era shares, callable as `yield* k.name(...)`. */
export const kvmOps = {
  ...simOps,
  try_lock_hpte: kvm_book3s_64.try_lock_hpte,
  try_lock_hpte_spin: kvm_book3s_64.try_lock_hpte_spin,
  unlock_hpte: kvm_book3s_64.unlock_hpte,
  lock_rmap: kvm_book3s_64.lock_rmap,
  unlock_rmap: kvm_book3s_64.unlock_rmap,
  kvmppc_add_revmap_chain: book3s_hv_rm_mmu.kvmppc_add_revmap_chain,
  remove_revmap_chain: book3s_hv_rm_mmu.remove_revmap_chain,
  do_tlbies: book3s_hv_rm_mmu.do_tlbies,
  kvmppc_do_h_enter: book3s_hv_rm_mmu.kvmppc_do_h_enter,
  kvmppc_h_enter: book3s_hv_rm_mmu.kvmppc_h_enter,
  kvmppc_h_bulk_remove: book3s_hv_rm_mmu.kvmppc_h_bulk_remove,
  kvmppc_invalidate_hpte: book3s_hv_rm_mmu.kvmppc_invalidate_hpte,
  kvmppc_hv_find_lock_hpte: book3s_hv_rm_mmu.kvmppc_hv_find_lock_hpte,
  kvmppc_hpte_hv_fault: book3s_hv_rm_mmu.kvmppc_hpte_hv_fault,
  kvm_mmu_notifier_invalidate_page: book3s_64_mmu_hv.kvm_mmu_notifier_invalidate_page,
  kvm_unmap_hva: book3s_64_mmu_hv.kvm_unmap_hva,
  kvm_unmap_rmapp: book3s_64_mmu_hv.kvm_unmap_rmapp,
  get_user_pages_fast: book3s_64_mmu_hv.get_user_pages_fast,
  kvmppc_book3s_hv_page_fault: book3s_64_mmu_hv.kvmppc_book3s_hv_page_fault,
  kvm_host_cpu: book3s_hv.kvm_host_cpu,
  kvm_host_cpu_run: book3s_hv.kvm_host_cpu_run,
  kvmppc_vcpu_run: book3s_hv.kvmppc_vcpu_run,
  kvmppc_hv_setup_htab_rma: book3s_hv.kvmppc_hv_setup_htab_rma,
  kvm_mutex_lock: book3s_hv.kvm_mutex_lock,
  kvm_mutex_unlock: book3s_hv.kvm_mutex_unlock,
  kvmppc_run_core: book3s_hv.kvmppc_run_core,
  kvm_secondary_thread: book3s_hv.kvm_secondary_thread,
  kvmppc_core_destroy_vm: book3s_hv.kvmppc_core_destroy_vm,
  kvmppc_hv_entry_count: book3s_hv_rmhandlers.kvmppc_hv_entry_count,
  kvmppc_partition_switch: book3s_hv_rmhandlers.kvmppc_partition_switch,
  kvmppc_in_guest: book3s_hv_rmhandlers.kvmppc_in_guest,
  kvmppc_hv_entry_970: book3s_hv_rmhandlers.kvmppc_hv_entry_970,
  kvmppc_flush_lpid_tlb: book3s_hv_rmhandlers.kvmppc_flush_lpid_tlb,
  kvmppc_interrupt: book3s_hv_rmhandlers.kvmppc_interrupt,
  kvmppc_alloc_lpid: powerpc.kvmppc_alloc_lpid,
  kvmppc_free_lpid: powerpc.kvmppc_free_lpid,
  kvm_create_vm: kvm_main.kvm_create_vm,
  kvm_vm_ioctl_create_vcpus: kvm_main.kvm_vm_ioctl_create_vcpus,
  guest_run: guest.guest_run,
};

export * from "./kvm_host";
export * from "./hvcall";
export * from "./kvm_book3s_64";
export { GUEST_VSID } from "./guest";
export { vmFinished } from "./book3s_hv";
export type { KK } from "./kernel";
