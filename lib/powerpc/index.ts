// The powerpc 64-bit hash MMU kernel code, v2.6.22 (arch/powerpc/mm, include/asm-powerpc): hash_page,
// flush_hash_page, the per-CPU flush batch, the ppc64 PTE helpers; the hardware it drives is lib/hw. Compose: `{ ...simOps, ...mmOps, ...powerpcHashOps }`, and call powerpcHash(w, cfg) in setup.

import * as hash from "./hash";
import * as pgtable from "./pgtable";
import * as fault from "./fault";
import * as batch from "./tlb_batch";
import * as hugetlbpage from "./hugetlbpage";
import * as gup from "./gup";
import { defineSources } from "../sim/sources";

defineSources(__dirname, { hash, pgtable, fault, tlb_batch: batch, hugetlbpage, gup });

export const powerpcHashOps = {
  find_linux_pte: hash.find_linux_pte,
  hash_page: hash.hash_page,
  __hash_page_4K: hash.__hash_page_4K,
  hpte_insert: hash.hpte_insert,
  hpte_remove: hash.hpte_remove,
  hpte_updatepp: hash.hpte_updatepp,
  hpte_invalidate: hash.hpte_invalidate,
  tlbie: hash.tlbie,
  flush_hash_page: hash.flush_hash_page,
  flush_hash_range: hash.flush_hash_range,
  pte_update: pgtable.pte_update,
  // ppc64_tlb_batch (v2.6.22; fix 000's "before" swaps in the v2.6.21 versions)
  hpte_need_flush: batch.hpte_need_flush,
  __flush_tlb_pending: batch.__flush_tlb_pending,
  arch_enter_lazy_mmu_mode: batch.arch_enter_lazy_mmu_mode,
  arch_leave_lazy_mmu_mode: batch.arch_leave_lazy_mmu_mode,
  ptep_get_and_clear: pgtable.ptep_get_and_clear,
  ptep_set_wrprotect: pgtable.ptep_set_wrprotect,
  ptep_test_and_clear_young: pgtable.ptep_test_and_clear_young,
  set_pte_at: pgtable.set_pte_at,
  ptep_set_access_flags: pgtable.ptep_set_access_flags,
  flush_tlb_page: batch.flush_tlb_page,
  tlb_flush: batch.tlb_flush,
  user_access: fault.user_access,
};

export type PowerpcHashOps = typeof powerpcHashOps;

/** The lockless walkers of the v3.0 kernel (find_linux_pte_or_hugepte, gup_fast): each file's header gives its era. */
export const powerpcLocklessOps = {
  find_linux_pte_or_hugepte: hugetlbpage.find_linux_pte_or_hugepte,
  get_user_pages_fast: gup.get_user_pages_fast,
  gup_pud_range: gup.gup_pud_range,
  gup_pmd_range: gup.gup_pmd_range,
  gup_pte_range: gup.gup_pte_range,
};
export type { PK } from "./kernel";
export * from "./mmu_hash64";
export { ppcHw, powerpcHash } from "./fault";
export type { PowerpcHashConfig } from "./fault";
export { prefault } from "./prefault";
export * from "./tlb_batch";
export { hashMmuState } from "./state";
export type { HashMmuRow } from "./state";
