// The kernel type seen by modelled mm code: the runtime primitives, the generic mm ops (lib/mm), and the
// architecture hooks every arch table (lib/powerpc, lib/x86) must supply. An interface, so the ops tables and
// the functions typed against it do not make TypeScript go round in circles.

import type { KernelBase, Bound } from "../sim/kernel";
import type { Gen } from "../sim/machine";
import type { simOps } from "../sim/index";
import type { mmOps } from "./index";
import type { MmStruct, Ptep, Vma } from "./mm_types";
import type { MmuGather } from "./mmu_gather";

/** What generic mm code needs from an architecture. */
export interface ArchOps {
  /** set_pte_at: install a PTE (caller holds the PTL). */
  set_pte_at(mm: MmStruct, addr: number, ptep: Ptep, pte: number): Gen;
  /** ptep_get_and_clear: clear a PTE, return the old value (arch flushes as it must). */
  ptep_get_and_clear(mm: MmStruct, addr: number, ptep: Ptep): Gen<number>;
  /** ptep_set_wrprotect: clear RW (fork's copy_pte_range, page_mkclean on some eras). */
  ptep_set_wrprotect(mm: MmStruct, addr: number, ptep: Ptep): Gen;
  /** ptep_set_access_flags: OR bits into a present PTE (write fault upgrade), under the PTL. */
  ptep_set_access_flags(mm: MmStruct, addr: number, ptep: Ptep, bits: number): Gen;
  /** ptep_test_and_clear_young: clear the accessed bit; was it set? (page aging) */
  ptep_test_and_clear_young(mm: MmStruct, addr: number, ptep: Ptep): Gen<boolean>;
  /** flush_tlb_page: after a PTE change outside an mmu_gather. */
  flush_tlb_page(mm: MmStruct, addr: number): Gen;
  /** tlb_flush: the arch flush of an mmu_gather (tlb_flush_mmu's first half). */
  tlb_flush(tlb: MmuGather): Gen;
  /** A user load or store by the current CPU: hardware translation, faults, retry. False on SIGSEGV. */
  user_access(mm: MmStruct, ea: number, write: boolean): Gen<boolean>;
}

export interface K extends KernelBase, Bound<typeof simOps>, Bound<typeof mmOps>, ArchOps {}

export type { Vma };
