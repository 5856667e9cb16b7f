// The powerpc 64-bit hash MMU (2007 era): HPT, hash_page, flush_hash_page, per-core TLBs, and the ppc64 PTE
// helpers. Compose: `{ ...simOps, ...mmOps, ...powerpcHashOps }`, and call powerpcHash(w, cfg) in setup.

import * as hash from "./hash";
import * as pgtable from "./pgtable";
import * as tlb from "./tlb";
import * as batch from "./tlb_batch";

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
  // ppc64_tlb_batch (v2.6.22 by default; fix 000's "before" swaps in the v2.6.21 versions)
  hpte_need_flush: batch.hpte_need_flush,
  hpte_update: batch.hpte_update,
  flush_tlb_pending: batch.flush_tlb_pending,
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
  user_access: tlb.user_access,
};

export type PowerpcHashOps = typeof powerpcHashOps;
export type { PK } from "./kernel";
export * from "./mmu_hash64";
export { PpcHw, ppcHw, powerpcHash, ACCESS_OK, ACCESS_HPT_MISS, ACCESS_PROT } from "./tlb";
export type { PowerpcHashConfig } from "./tlb";
export { prefault } from "./prefault";
export * from "./tlb_batch";
export { pte_update_v2621 } from "./pgtable";
export { hashMmuState } from "./state";
export type { HashMmuRow } from "./state";
