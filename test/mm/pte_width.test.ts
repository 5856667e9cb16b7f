// PTEs are 53-bit numbers: frame numbers above bit 31 survive every flag change.

import { describe, it, expect } from "vitest";
import { pfn_pte, pte_pfn, pte_bits, pte_mkclean, pte_wrprotect, pte_same_except } from "../../lib/mm/pgtable";
import { PPC64, pte_set_hidx, pte_hidx, _PAGE_HASHPTE, _PAGE_DIRTY, _PAGE_RW } from "../../lib/powerpc/pgtable_ppc64";
import { X86 } from "../../lib/x86/pgtable_types";
import { lazyMmuCost } from "../../lib/fixes/lazy-mmu-batch/workload";

describe("PTE width", () => {
  it("keeps frame numbers far beyond 2^15 through flag changes, on both layouts", () => {
    for (const L of [PPC64, X86]) {
      for (const pfn of [0, 1, 40_000, 1_000_000, 2 ** 30 + 7]) {
        let v = pfn_pte(pfn, L.RW | L.DIRTY, L);
        expect(pte_pfn(v, L)).toBe(pfn);
        v = pte_wrprotect(pte_mkclean(v, L), L);
        expect(pte_pfn(v, L)).toBe(pfn);
        expect(v & L.RW).toBe(0);
        expect(v & L.DIRTY).toBe(0);
        expect(pte_pfn(pte_bits(v, 0, L.ACCESSED), L)).toBe(pfn);
      }
    }
    const v = pte_bits(pte_set_hidx(pfn_pte(1_000_000, _PAGE_RW | _PAGE_DIRTY, PPC64), 0xb), 0, _PAGE_HASHPTE);
    expect(pte_hidx(v)).toBe(0xb);
    expect(pte_pfn(v, PPC64)).toBe(1_000_000);
    expect(pte_same_except(pfn_pte(1_000_000, 0, PPC64), pfn_pte(1_000_000 + 2 ** 15, 0, PPC64), 0)).toBe(false);
    expect(pte_same_except(pfn_pte(9, _PAGE_DIRTY, PPC64), pfn_pte(9, 0, PPC64), _PAGE_DIRTY)).toBe(true);
  });

  it("a munmap larger than 32-bit PTEs could hold runs in timed mode", () => {
    const c = lazyMmuCost("after", { pages: 40_000, cpus: 2 });
    expect(c.hashFlushes).toBe(40_000);
    expect(c.tlbie).toBe(40_000);
  }, 60_000);
});
