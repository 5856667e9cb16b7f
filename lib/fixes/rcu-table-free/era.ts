// The v3.0-era kernel both sides of 267239116987 run on, where it differs from the base model (lib/mm is v3.14,
// lib/powerpc v2.6.22): the table-freeing walk of mm/memory.c (free_pgtables → free_pgd_range → free_pud_range →
// free_pmd_range → free_pte_range), asm-generic/tlb.h's pte_free_tlb / pmd_free_tlb, powerpc's __pte_free_tlb /
// __pmd_free_tlb / pgtable_free (include/asm/pgalloc.h, pgalloc-64.h, 4K pages), and hash_page (hash_utils_64.c),
// which finds the PTE with find_linux_pte_or_hugepte. The commit does not touch these.
//
// Table pointers are numbers, as C's `void *table` is: page_address(frame) is the frame's address (pfn << 12,
// without PAGE_OFFSET, which does not fit a double exactly), so it is page-aligned and its low bits are free
// for pgtable_free_tlb to pack the table's index size into.

import { PPC64 } from "../../powerpc/pgtable_ppc64";
import { Gen, READ, WRITE } from "../../sim/machine";
import { event } from "../../sim/event";
import type { PageFrame } from "../../sim/page_alloc";
import { mmWorld, PGD_LEVEL, PMD_LEVEL, PTE_LEVEL } from "../../mm/mm_types";
import type { MmStruct, MmWorld, PtPage, Vma } from "../../mm/mm_types";
import type { MmuGather } from "../../mm/mmu_gather";
import { checkTable } from "../../mm/memory";
import { ptep_get_lockless } from "../../mm/pt_entry";
import { PAGE_SIZE, pte_present } from "../../mm/pgtable";
import type { PKL } from "../../powerpc/kernel";
import { get_vsid } from "../../powerpc/mmu_hash64";

/** The kernel seen by this fix's code: the base kernel plus the v3.0 names both sides call through `k`. */
export interface RK extends PKL {
  free_pgd_range(tlb: MmuGather, addr: number, end: number, floor: number, ceiling: number): Gen;
  free_pud_range(tlb: MmuGather, pgd: PtPage, addr: number, end: number, floor: number, ceiling: number): Gen;
  free_pmd_range(tlb: MmuGather, pgd: PtPage, addr: number, end: number, floor: number, ceiling: number): Gen;
  free_pte_range(tlb: MmuGather, pmdt: PtPage, addr: number): Gen;
  pte_free_tlb(tlb: MmuGather, pt: PtPage, address?: number): Gen;
  pmd_free_tlb(tlb: MmuGather, pmdt: PtPage, address: number): Gen;
  __pte_free_tlb(tlb: MmuGather, pt: PtPage, address: number): Gen;
  __pmd_free_tlb(tlb: MmuGather, pmdt: PtPage, address: number): Gen;
  pgtable_free(table: number, index_size: number): Gen;
  pgtable_free_tlb(tlb: MmuGather, table: number, shift: number): Gen;
  // before (d6bf29b44ddf's powerpc pgtable.c)
  pte_free_finish(tlb: MmuGather): Gen;
  pte_free_submit(batch: unknown): Gen;
  pte_free_rcu_callback(batch: unknown): Gen;
  pgtable_free_now(table: number, shift: number): Gen;
  pte_free_smp_sync(arg: unknown): Gen;
  // after (267239116987's mm/memory.c and powerpc pgalloc.h)
  tlb_remove_table(tlb: MmuGather, table: number): Gen;
  tlb_table_flush(tlb: MmuGather): Gen;
  tlb_remove_table_rcu(batch: unknown): Gen;
  tlb_remove_table_one(table: number): Gen;
  tlb_remove_table_smp_sync(arg: unknown): Gen;
  __tlb_remove_table(table: number): Gen;
  // the scenario's walker (walker.ts)
  rcu_sched_walk(mm: MmStruct, ea: number): Gen<number>;
}

// ---- include/asm/pgtable-ppc64-4k.h, pgalloc-64.h (v3.0) ------------------------------------------------

/** Index sizes of the 4K-page layout: a PTE page is a whole page (index size 0 to pgtable_free); pmd and pud
 *  tables come from kmem_caches PGT_CACHE(7). */
export const PTE_INDEX_SIZE = 9;
export const PMD_INDEX_SIZE = 7;
export const PUD_INDEX_SIZE = 7;
/** Largest index size; also the mask of the low pointer bits every table's alignment leaves free. */
export const MAX_PGTABLE_INDEX_SIZE = 0xf;

/** page_address: the table's address as a number (page-aligned). */
export function page_address(f: PageFrame): number {
  return f.pfn * PAGE_SIZE;
}

/** The table at address `table` (virt_to_page, then the table the model keeps for that frame). */
export function table_at(w: MmWorld, table: number): PtPage {
  const t = w.tables[Math.floor(table / PAGE_SIZE)];
  if (t === null || table % PAGE_SIZE !== 0) throw new Error(`no page table at 0x${table.toString(16)}`);
  return t;
}

/**
 * pgtable_free (pgalloc-64.h, v3.0): index size 0 is a PTE page (free_page); any other is a table from
 * PGT_CACHE(index_size) (kmem_cache_free). Freeing a table into the wrong allocator corrupts it, so a size
 * that does not match the table is harm. Each pmd table has a slab page of its own here, so the object
 * freed is reusable at once, like the page.
 */
export function* pgtable_free(k: RK, table: number, index_size: number): Gen {
  const w = mmWorld(k.m);
  const t = table_at(w, table);
  k.BUG_ON(index_size > MAX_PGTABLE_INDEX_SIZE, "bug-on", `pgtable_free: index size ${index_size}`);
  const want = t.level === PTE_LEVEL ? 0 : t.level === PMD_LEVEL ? PMD_INDEX_SIZE : -1;
  if (index_size !== want) {
    k.violation(
      "pgtable-free-mismatch",
      `a ${t.level === PTE_LEVEL ? "PTE page" : "pmd table"} at 0x${table.toString(16)} freed as index size ${index_size} (${index_size === 0 ? "free_page" : `kmem_cache_free(PGT_CACHE(${index_size}))`})`,
    );
    return;
  }
  k.count("tables freed");
  yield* k.free_page(w.pa, t.frame);
  if (w.tables[t.frame.pfn] === t) w.tables[t.frame.pfn] = null;
}

/** __pte_free_tlb (powerpc pgalloc.h, v3.0): tlb_flush_pgtable (BookE only), pgtable_page_dtor, then the page. */
export function* __pte_free_tlb(k: RK, tlb: MmuGather, pt: PtPage, _address: number): Gen {
  yield* k.pgtable_free_tlb(tlb, page_address(pt.frame), 0);
}

/** __pmd_free_tlb (pgalloc-64.h, v3.0): the pmd table, tagged with its cache's index size. */
export function* __pmd_free_tlb(k: RK, tlb: MmuGather, pmdt: PtPage, _address: number): Gen {
  yield* k.pgtable_free_tlb(tlb, page_address(pmdt.frame), PMD_INDEX_SIZE);
}

// ---- include/asm-generic/tlb.h (v3.0) ---------------------------------------------------------------------

/** pte_free_tlb: the gather must flush (need_flush = 1), then the arch queues the PTE page. */
export function* pte_free_tlb(k: RK, tlb: MmuGather, pt: PtPage, address = 0): Gen {
  tlb.need_flush = true;
  yield* k.__pte_free_tlb(tlb, pt, address);
}

/** pmd_free_tlb: likewise for a pmd table. */
export function* pmd_free_tlb(k: RK, tlb: MmuGather, pmdt: PtPage, address: number): Gen {
  tlb.need_flush = true;
  yield* k.__pmd_free_tlb(tlb, pmdt, address);
}

// ---- mm/memory.c (v3.0) -------------------------------------------------------------------------------------

const E_READ = event("free_pgd_range", "read table entry (mmap_sem held for write)", { cost: "mem" });
const E_PMD_CLEAR = event("free_pte_range", "pmd_clear", { cost: "mem" });
const E_PUD_CLEAR = event("free_pmd_range", "pud_clear (the folded pud is the pgd entry)", { cost: "mem" });

/** The kernel's unsigned `x - 1` on an address, where 0 means the top of the address space. */
const last = (x: number): number => (x === 0 ? Number.MAX_SAFE_INTEGER : x - 1);
const mask = (x: number, size: number): number => x - (x % size);

function* readEntry(k: RK, t: PtPage, addr: number): Gen<number> {
  const i = t.w.index(t.level, addr);
  k.RW2(t.base + i, READ, t.frame.id, READ, E_READ);
  yield;
  return checkTable(k, t, "free_pgd_range") ? t.ent[i] : 0;
}

function* clearEntry(k: RK, t: PtPage, addr: number, ev: typeof E_PMD_CLEAR): Gen<PtPage | null> {
  const i = t.w.index(t.level, addr);
  k.RW2(t.base + i, WRITE, t.frame.id, READ, ev);
  yield;
  if (!checkTable(k, t, ev.fn)) return null;
  const child = t.w.child(t.ent[i]);
  t.ent[i] = 0;
  return child;
}

/** free_pte_range: unlink the PTE page under this pmd entry and hand it to the gather. */
export function* free_pte_range(k: RK, tlb: MmuGather, pmdt: PtPage, addr: number): Gen {
  const token = yield* clearEntry(k, pmdt, addr, E_PMD_CLEAR); // pmd_pgtable(*pmd); pmd_clear(pmd)
  if (token !== null) yield* k.pte_free_tlb(tlb, token, addr);
}

/**
 * free_pmd_range: free_pte_range for each used pmd entry of [addr, end); then, if the whole pud span lies
 * inside [floor, ceiling), unlink the pmd table itself (pud_clear) and pmd_free_tlb it.
 */
export function* free_pmd_range(
  k: RK,
  tlb: MmuGather,
  pgd: PtPage,
  addr: number,
  end: number,
  floor: number,
  ceiling: number,
): Gen {
  const w = pgd.w;
  const PMD_SIZE = w.span(PMD_LEVEL);
  const PUD_SIZE = w.span(PGD_LEVEL);
  let start = addr;
  const pmdt = w.child(yield* readEntry(k, pgd, addr)); // pmd_offset(pud, addr)
  if (pmdt === null) return;
  do {
    const next = Math.min(mask(addr, PMD_SIZE) + PMD_SIZE, end);
    if ((yield* readEntry(k, pmdt, addr)) !== 0) yield* k.free_pte_range(tlb, pmdt, addr); // pmd_none_or_clear_bad
    addr = next;
  } while (addr !== end);
  start = mask(start, PUD_SIZE);
  if (start < floor) return;
  if (ceiling) {
    ceiling = mask(ceiling, PUD_SIZE);
    if (!ceiling) return;
  }
  if (last(end) > last(ceiling)) return;
  const freed = yield* clearEntry(k, pgd, start, E_PUD_CLEAR);
  if (freed !== null) yield* k.pmd_free_tlb(tlb, freed, start);
}

/** free_pud_range: the pud level is folded into the pgd here, so its pgd_clear and pud_free_tlb free nothing. */
export function* free_pud_range(
  k: RK,
  tlb: MmuGather,
  pgd: PtPage,
  addr: number,
  end: number,
  floor: number,
  ceiling: number,
): Gen {
  yield* k.free_pmd_range(tlb, pgd, addr, end, floor, ceiling);
}

/**
 * free_pgd_range: free the tables mapping [addr, end) that nothing in [floor, ceiling) still needs: the
 * range is widened to PMD_SIZE and trimmed where a neighbour shares a table (ceiling 0: the top).
 */
export function* free_pgd_range(k: RK, tlb: MmuGather, addr: number, end: number, floor: number, ceiling: number): Gen {
  const mm = tlb.mm;
  const w = mm.w;
  const PMD_SIZE = w.span(PMD_LEVEL);
  const PGDIR_SIZE = w.span(PGD_LEVEL);
  addr = mask(addr, PMD_SIZE);
  if (addr < floor) addr += PMD_SIZE;
  if (ceiling) {
    ceiling = mask(ceiling, PMD_SIZE);
    if (!ceiling) return;
  }
  if (last(end) > last(ceiling)) end -= PMD_SIZE;
  if (addr > last(end)) return;
  do {
    const boundary = mask(addr, PGDIR_SIZE) + PGDIR_SIZE;
    const next = last(boundary) < last(end) ? boundary : end; // pgd_addr_end
    if (mm.pgd.ent[w.index(PGD_LEVEL, addr)] !== 0) yield* k.free_pud_range(tlb, mm.pgd, addr, next, floor, ceiling); // pgd_none_or_clear_bad: read in free_pmd_range
    addr = next;
  } while (addr !== end);
}

/**
 * free_pgtables (v3.0): for each vma being unmapped (here the one passed: the detached list ends there), free
 * its tables between the neighbours' bounds. unlink_anon_vmas / unlink_file_vma are not modelled.
 */
export function* free_pgtables(k: RK, tlb: MmuGather, vma: Vma, floor: number, ceiling: number): Gen {
  yield* k.free_pgd_range(tlb, vma.start, vma.end, floor, ceiling);
}

// ---- arch/powerpc/mm/hash_utils_64.c (v3.0) ---------------------------------------------------------------

const E_PTE = event("hash_page", "!pte_present(*ptep)", { cost: "mem" });

/**
 * hash_page (v3.0): the hash-miss handler for a user address: current->mm (a kernel thread that use_mm()s an
 * mm hashes on it too), find_linux_pte_or_hugepte, then __hash_page_4K. The low-level exception code calls it
 * with interrupts hard-disabled; local_irq_save/restore here stand for that. 0: HPTE inserted; 1: page fault.
 */
export function* hash_page(k: RK, ea: number, write: boolean): Gen<number> {
  const w = mmWorld(k.m);
  const mm = w.current_mm[k.cpu()];
  if (mm === null) return 1;
  const flags = yield* k.local_irq_save();
  let rc = 1;
  const ptep = yield* k.find_linux_pte_or_hugepte(mm.pgd, ea);
  if (ptep !== null) {
    const pte = yield* ptep_get_lockless(k, ptep, "hash_page", E_PTE);
    if (pte !== undefined && pte_present(pte, PPC64))
      rc = yield* k.__hash_page_4K(mm, ea, write, get_vsid(mm.contextId, ea), ptep);
  }
  yield* k.local_irq_restore(flags);
  return rc;
}

// ---- batch capacity ----------------------------------------------------------------------------------------

/** sizeof(struct rcu_head) + the index/nr word, padded: the header of both batch pages on 64-bit. */
export const BATCH_HEADER_BYTES = 24;

/** A scenario's batch capacity (set in setup to reach "batch full" in small searches), else the kernel's value. */
export function batchCapacity(m: { ext: { [key: string]: unknown } }, kernelValue: number): number {
  const n = m.ext.rcuTableBatchMax as number | undefined;
  return n ?? kernelValue;
}

// ---- timed-mode gauges (no kernel counterpart) ---------------------------------------------------------------

/** Bytes a table of index size `shift` holds: a PTE page is a page; a PGT_CACHE(s) object is 8 << s bytes. */
export const tableBytes = (shift: number): number => (shift === 0 ? PAGE_SIZE : 8 << shift);

/**
 * Timed mode: tables (and their bytes, batch pages included) now waiting for a grace period, sampled at each
 * change, so a workload can report the peak; `delta` tables of `bytes` bytes join (> 0) or leave (< 0).
 */
export function awaitingGracePeriod(k: RK, delta: number, bytes: number): void {
  if (!k.m.timed) return;
  const g = ((k.m.ext.rcuTableAwaiting as { tables: number; bytes: number } | undefined) ??= {
    tables: 0,
    bytes: 0,
  }) as { tables: number; bytes: number };
  g.tables += delta;
  g.bytes += bytes;
  k.sample("tables awaiting a grace period", g.tables);
  k.sample("bytes awaiting a grace period", g.bytes);
  if (delta < 0) k.sample("memory back after", k.now() - ((k.m.ext.rcuTableT0 as number | undefined) ?? 0));
}
