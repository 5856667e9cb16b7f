// Linux mm, v3.14 (one version of each kernel function; other eras live in the fix folders that use them):
// page tables, faults, unmapping through mmu_gather, rmap, page cache and writeback. Compose with an architecture table: `{ ...simOps, ...mmOps, ...powerpcHashOps }` or `x86Ops`.

import * as memory from "./memory";
import "./costs";
import * as gather from "./mmu_gather";
import * as rmap from "./rmap";
import * as filemap from "./filemap";
import * as wb from "./page_writeback";
import * as vmscan from "./vmscan";
import * as mmap from "./mmap";
import * as fork from "./fork";
import * as mmuContext from "./mmu_context";
import * as pagemap from "./pagemap";
import { defineSources } from "../sim/sources";

defineSources(__dirname, {
  memory,
  mmu_gather: gather,
  rmap,
  filemap,
  page_writeback: wb,
  vmscan,
  mmap,
  fork,
  mmu_context: mmuContext,
  pagemap,
});

export const mmOps = {
  switch_mm: memory.switch_mm,
  __pmd_alloc: memory.__pmd_alloc,
  __pte_alloc: memory.__pte_alloc,
  pte_free: memory.pte_free,
  follow_pte_table: memory.follow_pte_table,
  do_page_fault: memory.do_page_fault,
  handle_mm_fault: memory.handle_mm_fault,
  do_anonymous_page: memory.do_anonymous_page,
  __do_fault: memory.__do_fault,
  do_wp_page: memory.do_wp_page,
  put_page: memory.put_page,
  zap_pte_range: memory.zap_pte_range,
  unmap_vmas: memory.unmap_vmas,
  zap_page_range: memory.zap_page_range,
  free_pgtables: memory.free_pgtables,
  unmap_region: mmap.unmap_region,
  exit_mmap: mmap.exit_mmap,
  get_task_mm: fork.get_task_mm,
  mmput: fork.mmput,
  mmgrab: fork.mmgrab,
  mmdrop: fork.mmdrop,
  __mmdrop: fork.__mmdrop,
  context_switch: mmuContext.context_switch,
  use_mm: mmuContext.use_mm,
  unuse_mm: mmuContext.unuse_mm,
  page_cache_get_speculative: pagemap.page_cache_get_speculative,
  ptep_clear_flush: memory.ptep_clear_flush,
  arch_enter_lazy_mmu_mode: memory.arch_enter_lazy_mmu_mode,
  arch_leave_lazy_mmu_mode: memory.arch_leave_lazy_mmu_mode,
  tlb_gather_mmu: gather.tlb_gather_mmu,
  __tlb_remove_page: gather.__tlb_remove_page,
  tlb_flush_mmu: gather.tlb_flush_mmu,
  tlb_finish_mmu: gather.tlb_finish_mmu,
  pte_free_tlb: gather.pte_free_tlb,
  page_remove_rmap: rmap.page_remove_rmap,
  page_mkclean: rmap.page_mkclean,
  page_mkclean_one: rmap.page_mkclean_one,
  page_referenced_one: rmap.page_referenced_one,
  find_get_page: filemap.find_get_page,
  lock_page: filemap.lock_page,
  unlock_page: filemap.unlock_page,
  wait_on_page_locked: filemap.wait_on_page_locked,
  set_page_dirty: wb.set_page_dirty,
  clear_page_dirty_for_io: wb.clear_page_dirty_for_io,
  writepage: wb.writepage,
  write_one_page: wb.write_one_page,
  shrink_page: vmscan.shrink_page,
};

export type MmOps = typeof mmOps;
export type { K, ArchOps } from "./kernel";
export * from "./pgtable";
export {
  MmWorld,
  MmStruct,
  Vma,
  PtPage,
  Ptep,
  PageInfo,
  AddressSpace,
  mmWorld,
  VM_READ,
  VM_WRITE,
  VM_SHARED,
  PGD_LEVEL,
  PMD_LEVEL,
  PTE_LEVEL,
} from "./mm_types";
export type { MmConfig, HwModel } from "./mm_types";
export { MmuGather, MMU_GATHER_BUNDLE } from "./mmu_gather";
export type { EncodedPage } from "./mmu_gather";
export { VM_FAULT_OK, VM_FAULT_OOM, VM_FAULT_SIGSEGV, VM_FAULT_SIGBUS, checkTable } from "./memory";
export { check_lost_writes } from "./vmscan";
export { populate } from "./prefault";
export { pt_entry_get_lockless, ptep_get_lockless } from "./pt_entry";
export { FIRST_USER_ADDRESS, USER_PGTABLES_CEILING } from "./mmap";
export type { PrefaultOptions } from "./prefault";
