// Models mm/memory.c, v3.14: page-table population (__pmd_alloc/__pte_alloc under
// mm->page_table_lock), the fault path (handle_mm_fault → do_anonymous_page / __do_fault / do_wp_page) with the
// split PTE lock, and unmapping (zap_page_range → unmap_vmas → zap_pte_range, free_pgtables) through an
// mmu_gather. zap_pte_range is the v3.14 shape: set_page_dirty and page_remove_rmap under the PTL, pages
// gathered, and a forced flush (gather full) done only after the PTL is dropped.

import { Gen, READ, WRITE } from "../sim/machine";
import { event } from "../sim/event";
import "./costs";
import { GFP_KERNEL } from "../sim/page_alloc";
import type { PageFrame } from "../sim/page_alloc";
import type { K } from "./kernel";
import { MmStruct, PtPage, Ptep, Vma, PMD_LEVEL, PTE_LEVEL, mmWorld } from "./mm_types";
import {
  PAGE_SIZE,
  pfn_pte,
  pte_pfn,
  pte_same_except,
  pte_dirty,
  pte_present,
  pte_write,
  pte_mkclean,
  pte_wrprotect,
} from "./pgtable";
import type { MmuGather } from "./mmu_gather";
import { checkTable, pt_entry_announce, E_OFFSET } from "./pt_entry";

export const VM_FAULT_OK = 0;
export const VM_FAULT_OOM = 1;
export const VM_FAULT_SIGSEGV = 2;
export const VM_FAULT_SIGBUS = 4;

// Populating a pgd entry is __pmd_alloc's step, a pmd entry __pte_alloc's.
const E_POPULATE = [
  event("__pmd_alloc", "populate pgd entry", { cost: "mem" }),
  event("__pte_alloc", "populate pmd entry", { cost: "mem" }),
];
const E_READ_PTE = event("handle_pte_fault", "read PTE", { cost: "mem" });
const E_ANON_CHECK = event("do_anonymous_page", "pte_none recheck, page_add_new_anon_rmap", {
  cost: "page_fault",
  counter: "page faults",
});
const E_FILE_CHECK = event("__do_fault", "pte_none recheck, page_add_file_rmap", {
  cost: "page_fault",
  counter: "page faults",
});
const E_WP_CHECK = event("do_wp_page", "pte_same recheck", { cost: "mem" });
export const E_ZAP_READ = event("zap_pte_range", "read PTE", { cost: "mem" });
const E_PUT = event("put_page", "drop page reference", { cost: "atomic" });
const E_FREE_PGD = event("free_pgtables", "clear pmd entry", { cost: "mem" });
const E_MM_SWITCH = event("switch_mm", "set cpu_vm_mask bit", { cost: "mem" });

export { checkTable };

/** switch_mm: this CPU now runs `mm`; cpu_vm_mask gains this CPU (never cleared, as on ppc64 of the era). */
export function* switch_mm(k: K, mm: MmStruct): Gen {
  k.W(mm.maskId, E_MM_SWITCH);
  yield;
  const cpu = k.cpu();
  mm.cpu_vm_mask |= 1 << cpu;
  mm.w.current[cpu] = mm;
}

/** Read one upper-level entry of `t` for `addr` (a step, lockless); the child table, null, or undefined if t was freed. */
function* readUpper(k: K, t: PtPage, addr: number, who: string): Gen<PtPage | null | undefined> {
  const i = t.w.index(t.level, addr);
  pt_entry_announce(k, t, t.base + i, READ, E_OFFSET[t.level]);
  yield;
  if (!checkTable(k, t, who)) return undefined;
  return t.w.child(t.ent[i]);
}

/** __pmd_alloc / __pte_alloc: return the table below `parent` for addr, allocating and linking one if none. */
function* populate(k: K, mm: MmStruct, parent: PtPage, addr: number, who: string): Gen<PtPage | null> {
  const w = mm.w;
  const cur = yield* readUpper(k, parent, addr, who);
  if (cur === undefined) return null;
  if (cur !== null) return cur;
  const f = yield* k.alloc_page(w.pa, GFP_KERNEL, "table");
  if (f === null) return null;
  const level = parent.level + 1;
  const span = w.span(parent.level);
  const t = w.newTable(f, level, addr - (addr % span));
  yield* k.spin_lock(mm.page_table_lock);
  const i = w.index(parent.level, addr);
  k.RW2(parent.base + i, WRITE, parent.frame.id, READ, E_POPULATE[parent.level]);
  yield;
  let winner: PtPage | null = null;
  if (checkTable(k, parent, who)) {
    if (parent.ent[i] === 0) {
      parent.ent[i] = f.pfn + 1;
      winner = t;
    } else winner = w.child(parent.ent[i]);
  }
  yield* k.spin_unlock(mm.page_table_lock);
  if (winner !== t) yield* k.pte_free(t); // another CPU populated it first
  return winner;
}

export function* __pmd_alloc(k: K, mm: MmStruct, addr: number): Gen<PtPage | null> {
  return yield* populate(k, mm, mm.pgd, addr, "__pmd_alloc");
}

export function* __pte_alloc(k: K, mm: MmStruct, pmd: PtPage, addr: number): Gen<PtPage | null> {
  return yield* populate(k, mm, pmd, addr, "__pte_alloc");
}

/** pte_free: give a table page back to the allocator (no users may remain). */
export function* pte_free(k: K, t: PtPage): Gen {
  const w = t.w;
  yield* k.free_page(w.pa, t.frame);
  if (w.tables[t.frame.pfn] === t) w.tables[t.frame.pfn] = null;
}

/** The PTE table and pointer for addr by a walk that does not allocate (steps per level); null if absent. */
export function* follow_pte_table(k: K, mm: MmStruct, addr: number): Gen<Ptep | null> {
  const pmd = yield* readUpper(k, mm.pgd, addr, "walk");
  if (!pmd) return null;
  const pte = yield* readUpper(k, pmd, addr, "walk");
  if (!pte) return null;
  return pte.pteps[mm.w.index(PTE_LEVEL, addr)];
}

/** do_page_fault: the generic part of the arch fault handler: find the vma, handle the fault. */
export function* do_page_fault(k: K, mm: MmStruct, addr: number, write: boolean): Gen<number> {
  const vma = mm.find_vma(addr);
  if (vma === null) return VM_FAULT_SIGSEGV;
  return yield* k.handle_mm_fault(mm, vma, addr, write);
}

/** handle_mm_fault: allocate tables as needed, then fault the PTE in (anon, file) or make it writable. */
export function* handle_mm_fault(k: K, mm: MmStruct, vma: Vma, addr: number, write: boolean): Gen<number> {
  const w = mm.w;
  const L = w.L;
  const pmd = yield* k.__pmd_alloc(mm, addr);
  if (pmd === null) return VM_FAULT_OOM;
  const pt = yield* k.__pte_alloc(mm, pmd, addr);
  if (pt === null) return VM_FAULT_OOM;
  const ptep = pt.pteps[w.index(PTE_LEVEL, addr)];
  k.RW2(ptep.id, READ, pt.frame.id, READ, E_READ_PTE);
  yield;
  if (!checkTable(k, pt, "handle_pte_fault")) return VM_FAULT_SIGBUS;
  const entry = ptep.v;
  if (!pte_present(entry, L)) {
    if (vma.anon) return yield* k.do_anonymous_page(mm, vma, addr, ptep, write);
    return yield* k.__do_fault(mm, vma, addr, ptep, write);
  }
  if (write && !pte_write(entry, L)) return yield* k.do_wp_page(mm, vma, addr, ptep, entry);
  return VM_FAULT_OK; // fixed up meanwhile (another CPU, or the arch's own handler)
}

/** do_anonymous_page: a new zeroed page mapped writable (dirty if this is a store), under the PTL. */
export function* do_anonymous_page(
  k: K,
  mm: MmStruct,
  _vma: Vma,
  addr: number,
  ptep: Ptep,
  write: boolean,
): Gen<number> {
  const w = mm.w;
  const L = w.L;
  const f = yield* k.alloc_page(w.pa, GFP_KERNEL, "anon");
  if (f === null) return VM_FAULT_OOM;
  const ptl = ptep.pt.ptl!;
  yield* k.spin_lock(ptl);
  const page = w.pages[f.pfn];
  k.RW2(ptep.id, READ, page.id, WRITE, E_ANON_CHECK);
  yield;
  if (ptep.v !== 0) {
    yield* k.spin_unlock(ptl);
    yield* k.free_page(w.pa, f);
    return VM_FAULT_OK;
  }
  page.anon = true;
  page.mapping = null;
  page.dirty = false;
  page.count = 1;
  page.mapcount = 1;
  page.rmap.length = 0;
  page.rmap.push({ mm, addr });
  const entry = pfn_pte(f.pfn, L.RW | L.ACCESSED | (write ? L.DIRTY : 0), L);
  yield* k.set_pte_at(mm, addr, ptep, entry);
  yield* k.spin_unlock(ptl);
  return VM_FAULT_OK;
}

/**
 * __do_fault for a MAP_SHARED file (v3.14 do_read_fault / do_shared_fault): filemap_fault returns the page-cache
 * page locked; map it (read-only while clean: write-notify); a write fault maps it dirty and writable, then,
 * after dropping the PTL, set_page_dirty before unlock_page, so clear_page_dirty_for_io (which holds the page
 * lock) cannot clean the page between its page_mkclean and TestClearPageDirty while this PTE is made dirty.
 */
export function* __do_fault(k: K, mm: MmStruct, vma: Vma, addr: number, ptep: Ptep, write: boolean): Gen<number> {
  const w = mm.w;
  const L = w.L;
  const index = vma.pgoff + Math.floor((addr - vma.start) / PAGE_SIZE);
  const f = yield* k.find_get_page(vma.file!, index);
  if (f === null) return VM_FAULT_OOM;
  yield* k.lock_page(f); // filemap_fault: lock_page_or_retry
  const page = w.pages[f.pfn];
  const ptl = ptep.pt.ptl!;
  yield* k.spin_lock(ptl);
  k.RW2(ptep.id, READ, page.id, WRITE, E_FILE_CHECK);
  yield;
  if (ptep.v !== 0) {
    page.count--; // drop find_get_page's reference: someone else mapped it
    yield* k.spin_unlock(ptl);
    yield* k.unlock_page(f);
    return VM_FAULT_OK;
  }
  page.mapcount++;
  page.rmap.push({ mm, addr });
  const entry = pfn_pte(f.pfn, L.ACCESSED | (write ? L.RW | L.DIRTY : 0), L);
  yield* k.set_pte_at(mm, addr, ptep, entry);
  yield* k.spin_unlock(ptl);
  if (write) yield* k.set_page_dirty(f); // do_shared_fault
  yield* k.unlock_page(f);
  return VM_FAULT_OK;
}

/**
 * do_wp_page: store to a present read-only PTE of a writable vma: write-notify (file) or reuse (anon). For a
 * shared file page without ->page_mkwrite (v3.14 "reuse:"): make the PTE dirty and writable under the PTL, then
 * wait_on_page_locked and set_page_dirty ("Yes, Virginia": so clear_page_dirty_for_io, which holds the page
 * lock from its page_mkclean to TestClearPageDirty, cannot clear PG_dirty after a racing fault re-dirtied it).
 */
export function* do_wp_page(k: K, mm: MmStruct, vma: Vma, addr: number, ptep: Ptep, orig: number): Gen<number> {
  const w = mm.w;
  const L = w.L;
  const ptl = ptep.pt.ptl!;
  yield* k.spin_lock(ptl);
  k.R(ptep.id, E_WP_CHECK);
  yield;
  if (!pte_same_except(ptep.v, orig, L.HPTEFLAGS | L.ACCESSED)) {
    yield* k.spin_unlock(ptl);
    return VM_FAULT_OK; // pte_same failed: changed under us
  }
  const f = w.pa.frames[pte_pfn(ptep.v, L)];
  yield* k.ptep_set_access_flags(mm, addr, ptep, L.RW | L.DIRTY | L.ACCESSED);
  yield* k.spin_unlock(ptl);
  if (!vma.anon) {
    yield* k.wait_on_page_locked(f);
    yield* k.set_page_dirty(f); // set_page_dirty_balance
  }
  return VM_FAULT_OK;
}

/** put_page: drop a reference; the last one frees the frame. */
export function* put_page(k: K, f: PageFrame): Gen {
  const w = mmWorld(k.m);
  const page = w.pages[f.pfn];
  k.W(page.id, E_PUT);
  yield;
  page.count--;
  if (page.count > 0) return;
  page.mapping = null;
  page.anon = false;
  page.dirty = false;
  page.rmap.length = 0;
  yield* k.free_page(w.pa, f);
}

/**
 * zap_pte_range (v3.14): clear each PTE of [addr, end) under the PTL, transfer dirtiness, drop the rmap and
 * gather the page; if the gather fills, stop, and flush + free after unlocking, then continue.
 */
export function* zap_pte_range(k: K, tlb: MmuGather, vma: Vma, pt: PtPage, addr: number, end: number): Gen<number> {
  const mm = vma.mm;
  const w = mm.w;
  const L = w.L;
  for (;;) {
    // again:
    let force_flush = false;
    const ptl = pt.ptl!;
    yield* k.spin_lock(ptl);
    yield* k.arch_enter_lazy_mmu_mode();
    while (addr < end) {
      const ptep = pt.pteps[w.index(PTE_LEVEL, addr)];
      k.RW2(ptep.id, READ, pt.frame.id, READ, E_ZAP_READ);
      yield;
      if (!checkTable(k, pt, "zap_pte_range")) break;
      if (!pte_present(ptep.v, L)) {
        addr += PAGE_SIZE;
        continue;
      }
      const ptent = yield* k.ptep_get_and_clear(mm, addr, ptep);
      tlb.need_flush = true; // tlb_remove_tlb_entry
      tlb.start = Math.min(tlb.start, addr);
      tlb.end = Math.max(tlb.end, addr + PAGE_SIZE);
      const f = w.pa.frames[pte_pfn(ptent, L)];
      const page = w.pages[f.pfn];
      if (!page.anon) {
        if (pte_dirty(ptent, L)) yield* k.set_page_dirty(f);
      }
      yield* k.page_remove_rmap(f, mm, addr);
      addr += PAGE_SIZE;
      force_flush = (yield* k.__tlb_remove_page(tlb, f)) === 0;
      if (force_flush) break;
    }
    yield* k.arch_leave_lazy_mmu_mode();
    yield* k.spin_unlock(ptl);
    // mmu_gather ran out of room to batch pages: flush and free outside the PTE lock, for the part done so far.
    if (force_flush) {
      const old_end = tlb.end;
      tlb.end = addr;
      yield* k.tlb_flush_mmu(tlb);
      tlb.start = addr;
      tlb.end = old_end;
      if (addr !== end) continue; // goto again
    }
    return addr;
  }
}

/** unmap_vmas / unmap_page_range: walk [start, end) of the vma and zap each PTE table under it. */
export function* unmap_vmas(k: K, tlb: MmuGather, vma: Vma, start: number, end: number): Gen {
  const w = vma.mm.w;
  let addr = Math.max(start, vma.start);
  end = Math.min(end, vma.end);
  while (addr < end) {
    const next = Math.min(end, addr - (addr % w.span(PMD_LEVEL)) + w.span(PMD_LEVEL));
    const pmd = yield* readUpper(k, vma.mm.pgd, addr, "unmap_vmas");
    if (pmd) {
      const pt = yield* readUpper(k, pmd, addr, "unmap_vmas");
      if (pt) yield* k.zap_pte_range(tlb, vma, pt, addr, next);
    }
    addr = next;
  }
}

/** zap_page_range (MADV_DONTNEED): unmap a range with its own gather. Faults may run concurrently. */
export function* zap_page_range(k: K, vma: Vma, start: number, size: number): Gen {
  const tlb = yield* k.tlb_gather_mmu(vma.mm, false);
  yield* k.unmap_vmas(tlb, vma, start, start + size);
  yield* k.tlb_finish_mmu(tlb, start, start + size);
}

/** free_pgtables: unlink PTE tables lying wholly inside [floor, ceiling) and hand them to the gather. */
export function* free_pgtables(k: K, tlb: MmuGather, vma: Vma, floor: number, ceiling: number): Gen {
  const mm = vma.mm;
  const w = mm.w;
  const span = w.span(PMD_LEVEL);
  for (let addr = vma.start - (vma.start % span); addr < vma.end; addr += span) {
    if (addr < floor || addr + span > ceiling) continue;
    const pmd = yield* readUpper(k, mm.pgd, addr, "free_pgtables");
    if (!pmd) continue;
    const i = w.index(PMD_LEVEL, addr);
    k.RW2(pmd.base + i, WRITE, pmd.frame.id, READ, E_FREE_PGD);
    yield;
    const pt = w.child(pmd.ent[i]);
    pmd.ent[i] = 0; // pmd_clear
    if (pt) yield* k.pte_free_tlb(tlb, pt);
  }
}

/** ptep_clear_flush: clear a PTE and flush its translation now (outside any gather). */
export function* ptep_clear_flush(k: K, mm: MmStruct, addr: number, ptep: Ptep): Gen<number> {
  const old = yield* k.ptep_get_and_clear(mm, addr, ptep);
  yield* k.flush_tlb_page(mm, addr);
  return old;
}

/** arch_enter_lazy_mmu_mode (asm-generic): a no-op unless an arch batches (powerpc hash does, from v2.6.22). */
export function* arch_enter_lazy_mmu_mode(_k: K): Gen {}
/** arch_leave_lazy_mmu_mode (asm-generic): the no-op leave. */
export function* arch_leave_lazy_mmu_mode(_k: K): Gen {}

export { pte_mkclean, pte_wrprotect };
