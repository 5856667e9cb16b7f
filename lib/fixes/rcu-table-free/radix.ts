// Fix 001's later history needs an MMU that walks Linux's tables: book3s64 with radix translation (POWER9, v4.7+),
// whose page-walk cache (lib/hw/pwc.ts) holds upper-level entries. book3s64's tlb_flush dispatches on
// radix_enabled() (asm/book3s/64/tlbflush.h): hash keeps the base model's hash batch flush (tlb_hash64.c); radix
// flushes by tlbie. radix__tlb_flush is modelled by what it does when tables were freed (a46cc7a90fd8, v4.14:
// __p*_free_tlb set need_flush_all, so radix__flush_all_mm, tlbie RIC=2: TLB and PWC of the PID, broadcast); its
// range path is not modelled. On radix, the hash PTE helpers still run on PTEs never hashed: they do nothing.

import type { Gen } from "../../sim/machine";
import type { MmuGather } from "../../mm/mmu_gather";
import type { MmStruct } from "../../mm/mm_types";
import { pwcOf } from "../../hw/pwc";
import type { RK } from "./era";

/** The kernel of the later-history scenario: RK plus book3s64's tlb_flush halves and tlb_table_invalidate. */
export interface RKW extends RK {
  hash__tlb_flush(tlb: MmuGather): Gen;
  radix__tlb_flush(tlb: MmuGather): Gen;
  radix__flush_all_mm(mm: MmStruct): Gen;
  tlb_table_invalidate(tlb: MmuGather): Gen;
}

/** radix_enabled() (mmu_has_feature(MMU_FTR_TYPE_RADIX)): set once at boot; the scenario's `mmu`. */
export function radix_enabled(k: RK): boolean {
  return k.m.ext.radix === true;
}

/** tlb_flush (book3s64): radix__tlb_flush or hash__tlb_flush. */
export function* tlb_flush(k: RKW, tlb: MmuGather): Gen {
  if (radix_enabled(k)) yield* k.radix__tlb_flush(tlb);
  else yield* k.hash__tlb_flush(tlb);
}

/** radix__tlb_flush (tables freed, need_flush_all): radix__flush_all_mm; the range is reset. */
export function* radix__tlb_flush(k: RKW, tlb: MmuGather): Gen {
  yield* k.radix__flush_all_mm(tlb.mm);
  tlb.start = Infinity;
  tlb.end = 0;
}

/** radix__flush_all_mm: _tlbie_pid(pid, RIC_FLUSH_ALL): TLB and page-walk cache of the PID on every CPU. */
export function* radix__flush_all_mm(k: RKW, mm: MmStruct): Gen {
  k.count("tlbie RIC=2 (TLB + PWC)");
  yield* pwcOf(k.m)!.invalidate_mm(k, mm);
}

/** 2011–2018: no tlb_table_invalidate exists; the name is the later commits' hook, a no-op before them. */
export function* tlb_table_invalidate(_k: RKW, _tlb: MmuGather): Gen {}
