// Fix 004's later history, as variants of the pmd-clear race (scenario thp-pmd-clear below):
//  - 13bd817bb884 (May 2015, v4.1, "powerpc/thp: Serialize pmd clear against a linux page table walk."):
//    pmdp_get_and_clear (arch/powerpc/mm/pgtable_64.c) ends with kick_all_cpus_sync, so MADV_DONTNEED's
//    zap_huge_pmd waits for IRQ-off walkers before a small-page refault can put a table pointer in the pmd;
//  - 2020, v5.8 ("powerpc/kvm/book3s: Use find_kvm_host_pte in h_enter", "powerpc/mm/book3s64: Avoid sending IPI
//    on clearing PMD"): kvmppc_do_h_enter walks under kvm->mmu_lock with find_kvm_host_pte's mmu_notifier_retry
//    check, and the IPI after the pmd clear goes.
// 13bd817bb884's pmdp_get_and_clear is pgtable_64_2015.ts; a00196a27216 (2019, pmd_is_serializing) is
// split_2019.ts with pgtable_2019.ts, on the post-2016 split.

import type { Gen } from "../../sim/machine";
import { WRITE } from "../../sim/machine";
import { event } from "../../sim/event";
import { GFP_KERNEL } from "../../sim/page_alloc";
import { spin_lock_init } from "../../sim/spinlock";
import type { Spinlock } from "../../sim/spinlock";
import { mmWorld, PMD_LEVEL, PTE_LEVEL } from "../../mm/mm_types";
import type { MmStruct, PtPage, Ptep } from "../../mm/mm_types";
import { PAGE_SIZE, pfn_pte, pte_present, pte_pfn, pte_write } from "../../mm/pgtable";
import {
  _PAGE_BUSY,
  _PAGE_PRESENT,
  _PAGE_USER,
  _PAGE_RW,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
} from "../../powerpc/pgtable_ppc64";
import { HPTE_V_VALID } from "../../hw/power7";
import { H_PARAMETER } from "../../kvm/hvcall";
import { HPTE_V_ABSENT, HPTE_V_HVLOCK, HPTE_GR_RESERVED, hpte_is_writable } from "../../kvm/kvm_book3s_64";
import type { PageFrame } from "../../sim/page_alloc";
import type { Kvm } from "../../kvm/index";
import {
  PPC64_64K,
  thp,
  pmd_trans_huge,
  kvmOfMm,
  hvaToGfn,
  mmu_notifier_retry,
  kvmppc_read_update_linux_pte as read_update_v4,
  h_enter_gpa,
  hpte_page_size,
  slot_is_aligned,
  hostGeometry,
  pte_protnone,
  hpte_cache_bits,
  check_wimg,
  pteFrame,
  HPTE_R_KEY_MMIO,
  hpte_make_readonly,
  h_enter_insert,
  ptel_with_pa,
} from "./era";
import type { PmdPtep, TK } from "./era";

/** The kernel seen by the later history: the era's names plus the zap, the refault and the 2020 walk. */
export interface LK extends TK {
  // pgtable_trans_huge_withdraw is the era's (it zeroes the withdrawn page, the hash-slot array)
  pmdp_get_and_clear(mm: MmStruct, addr: number, pmdt: PtPage, i: number): Gen<number>;
  zap_huge_pmd(mm: MmStruct, pmdt: PtPage, i: number, addr: number): Gen;
  madvise_dontneed(mm: MmStruct, start: number): Gen;
  fault_small_page(mm: MmStruct, addr: number): Gen;
  find_kvm_host_pte(kvm: Kvm, mmu_seq: number, ea: number, shift: { v: number }): Gen<Ptep | PmdPtep | null>;
}

// ---- the kernel's kvm->mmu_lock, which the notifiers take in every era (virt/kvm/kvm_main.c) ----------------

/** kvm->mmu_lock of the VM (built on first use). */
export function kvmMmuLock(k: TK, kvm: Kvm): Spinlock {
  const ext = k.m.ext as { kvmMmuLock?: Map<Kvm, Spinlock> };
  const map = (ext.kvmMmuLock ??= new Map());
  let l = map.get(kvm);
  if (l === undefined) map.set(kvm, (l = spin_lock_init(k.m, `kvm${kvm.id}.mmu_lock`)));
  return l;
}

const E_MN_START = event("kvm_mmu_notifier_invalidate_range_start", "mmu_notifier_count++", { cost: "mem" });
const E_MN_END = event("kvm_mmu_notifier_invalidate_range_end", "mmu_notifier_seq++; smp_wmb; count--", {
  cost: "mem",
});

/** kvm_mmu_notifier_invalidate_range_start (kvm_main.c, v4.1 to v5.8): spin_lock(mmu_lock); count++; unmap; unlock. */
export function* mmu_notifier_invalidate_range_start(k: LK, mm: MmStruct, start: number, end: number): Gen {
  const kvm = kvmOfMm(k.m, mm);
  if (kvm === null) return;
  yield* k.spin_lock(kvmMmuLock(k, kvm));
  k.W(kvm.mmuSeqObj, E_MN_START);
  yield;
  kvm.mmu_notifier_count++;
  for (let a = start; a < end; a += PAGE_SIZE) yield* k.kvm_unmap_hva(kvm, hvaToGfn(k.m, kvm, a));
  yield* k.spin_unlock(kvmMmuLock(k, kvm));
}

/** kvm_mmu_notifier_invalidate_range_end (kvm_main.c): under mmu_lock, seq++ (smp_wmb) then count--. */
export function* mmu_notifier_invalidate_range_end(k: LK, mm: MmStruct, _start: number, _end: number): Gen {
  const kvm = kvmOfMm(k.m, mm);
  if (kvm === null) return;
  yield* k.spin_lock(kvmMmuLock(k, kvm));
  k.W(kvm.mmuSeqObj, E_MN_END);
  yield;
  kvm.mmu_notifier_seq++;
  kvm.mmu_notifier_count--;
  yield* k.spin_unlock(kvmMmuLock(k, kvm));
}

// ---- MADV_DONTNEED on a huge pmd, then a small-page refault (mm/madvise.c, mm/huge_memory.c, v4.1) ------------

export const E_PMD_UPDATE = event("pmdp_get_and_clear", "old = pmd_hugepage_update(mm, addr, pmdp, ~0UL, 0)", {
  cost: "atomic",
});
export const E_SLOT_ZERO = event("pmdp_get_and_clear", "memset(deposited pgtable, 0): the hash-slot array", {
  cost: "mem",
});

/**
 * pmdp_get_and_clear (arch/powerpc/mm/pgtable_64.c, v4.1 before 13bd817bb884): clear the huge pmd
 * (pmd_hugepage_update: an ldarx/stdcx. loop that waits while __hash_page_thp holds _PAGE_BUSY), zero the
 * deposited table's hash-slot array (hash faults read it). No IPI.
 */
export function* pmdp_get_and_clear(k: LK, _mm: MmStruct, _addr: number, pmdt: PtPage, i: number): Gen<number> {
  k.wait(pmdt.base + i, WRITE, E_PMD_UPDATE, () => (pmdt.ent[i] & _PAGE_BUSY) === 0); // ldarx loop: not while busy
  yield;
  const old = pmdt.ent[i];
  pmdt.ent[i] = 0;
  const pgtable = thp(k.m).deposited.get(pmdt.base + i)!;
  k.multi([pgtable.frame.id, WRITE], E_SLOT_ZERO);
  yield;
  return old;
}

/**
 * zap_huge_pmd (mm/huge_memory.c, v4.1) for an anonymous THP: under the pmd lock, pmdp_get_and_clear_full,
 * withdraw the deposit, drop the rmap; after unlocking, the huge page goes to the gather and the withdrawn PTE
 * page is freed (pte_free). The huge page is freed here at once: tlb_finish_mmu follows with nothing between.
 */
export function* zap_huge_pmd(k: LK, mm: MmStruct, pmdt: PtPage, i: number, addr: number): Gen {
  const w = mmWorld(k.m);
  yield* k.spin_lock(mm.page_table_lock); // pmd_lock: the split pmd lock is page_table_lock here
  const orig = yield* k.pmdp_get_and_clear(mm, addr, pmdt, i);
  const pgtable = yield* k.pgtable_trans_huge_withdraw(pmdt, i);
  yield* k.spin_unlock(mm.page_table_lock);
  yield* k.free_page(w.pa, w.pa.frames[pte_pfn(orig, PPC64_64K)]); // tlb_remove_page + tlb_finish_mmu
  yield* k.free_page(w.pa, pgtable.frame); // pte_free
}

const E_ZAP_PMD = event("zap_pmd_range", "pmd = *pmdp: pmd_trans_huge?", { cost: "mem" });

/** madvise(MADV_DONTNEED) → zap_page_range over one huge pmd (mmap_sem held for read), notifiers around it. */
export function* madvise_dontneed(k: LK, mm: MmStruct, start: number): Gen {
  const w = mmWorld(k.m);
  const end = start + w.span(PMD_LEVEL);
  yield* k.mmu_notifier_invalidate_range_start(mm, start, end);
  const pmdt = w.child(mm.pgd.ent[w.index(0, start)])!;
  const i = w.index(PMD_LEVEL, start);
  k.R(pmdt.base + i, E_ZAP_PMD);
  yield;
  if (pmd_trans_huge(pmdt.ent[i])) yield* k.zap_huge_pmd(mm, pmdt, i, start);
  yield* k.mmu_notifier_invalidate_range_end(mm, start, end);
}

const E_FAULT_PMD = event("__handle_mm_fault", "pmd = *pmdp: none → __pte_alloc", { cost: "mem" });
const E_POPULATE = event("__pte_alloc", "pmd_none? pmd_populate(mm, pmd, new) (page_table_lock)", { cost: "mem" });
const E_SET_PTE = event("do_anonymous_page", "set_pte_at (PTL held)", { cost: "mem" });

/**
 * A task touching the range, faulted in as small pages once the pmd is none (the THP allocation fell back, as
 * when no huge page is free): __pte_alloc puts a new PTE page's pointer in the pmd, do_anonymous_page maps a
 * fresh page. A huge pmd is simply used (no fault).
 */
export function* fault_small_page(k: LK, mm: MmStruct, addr: number): Gen {
  const w = mmWorld(k.m);
  const pmdt = w.child(mm.pgd.ent[w.index(0, addr)])!;
  const i = w.index(PMD_LEVEL, addr);
  k.R(pmdt.base + i, E_FAULT_PMD);
  yield;
  if (pmdt.ent[i] !== 0) return;
  const f = yield* k.alloc_page(w.pa, GFP_KERNEL, "pte");
  if (f === null) return;
  const pt = w.newTable(f, PTE_LEVEL, addr - (addr % w.span(PMD_LEVEL)));
  yield* k.spin_lock(mm.page_table_lock);
  k.W(pmdt.base + i, E_POPULATE);
  yield;
  if (pmdt.ent[i] === 0) pmdt.ent[i] = f.pfn + 1;
  yield* k.spin_unlock(mm.page_table_lock);
  const page = yield* k.alloc_page(w.pa, GFP_KERNEL, "anon");
  if (page === null) return;
  const ptep = pt.pteps[w.index(PTE_LEVEL, addr)];
  yield* k.spin_lock(pt.ptl!);
  k.W(ptep.id, E_SET_PTE);
  yield;
  ptep.v = pfn_pte(page.pfn, _PAGE_PRESENT | _PAGE_USER | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY, PPC64_64K);
  yield* k.spin_unlock(pt.ptl!);
}

// ---- the harm: a (pte_t *)pmdp read after its pmd became a table pointer ------------------------------------

/**
 * The reads a walker makes through the pointer it was handed, checked where each happens: a leaf pmd's
 * (pte_t *)pmdp that now holds a table pointer is a pmd-format value read as a PTE ("format of pte_t is
 * different from pmd_t", 13bd817bb884). Wraps the era's kvmppc_read_update_linux_pte step by step (a ghost
 * check: the function itself is unchanged).
 */
export function* kvmppc_read_update_linux_pte(
  k: LK,
  ptep: Ptep | PmdPtep,
  writing: boolean,
  hugepage: number,
): Gen<number> {
  k.m.ext.thpHeld = { cpu: k.cpu(), pt: ptep.pt, pmd: "pmd" in ptep }; // for the notebook's state table
  const g = read_update_v4(k, ptep, writing, hugepage);
  for (let r = g.next(); ; r = g.next()) {
    if (r.done) return r.value;
    yield r.value;
    if ("pmd" in ptep && !pmd_as_pte_ok(k, ptep)) return 0;
  }
}

/** False (and the violation) if the entry a (pte_t *)pmdp names is now a pointer to a PTE page. */
export function pmd_as_pte_ok(k: TK, p: PmdPtep): boolean {
  const v = p.pt.ent[p.i];
  if (v === 0 || pmd_trans_huge(v)) return true;
  const t = mmWorld(k.m).child(v);
  k.violation(
    "pmd-as-pte",
    `a walker read the huge pmd's (pte_t *)pmdp after it became a pointer to a PTE page (pfn ${t?.frame.pfn}): ` +
      `a pmd-format value used as a PTE`,
  );
  return false;
}

// ---- 2020: find_kvm_host_pte under kvm->mmu_lock (asm/kvm_book3s_64.h, book3s_hv_rm_mmu.c, v5.8) -----------

/**
 * find_kvm_host_pte (asm/kvm_book3s_64.h, v5.8): VM_WARN unless kvm->mmu_lock is held; NULL if an invalidation
 * is under way or happened since mmu_seq (mmu_notifier_retry); else the raw walk of kvm->mm's page tables.
 */
export function* find_kvm_host_pte(
  k: LK,
  kvm: Kvm,
  mmu_seq: number,
  ea: number,
  shift: { v: number },
): Gen<Ptep | PmdPtep | null> {
  if (kvmMmuLock(k, kvm).owner < 0) k.count("find_kvm_host_pte called with kvm mmu_lock not held");
  k.R(kvm.mmuSeqObj, E_RETRY);
  yield;
  if (mmu_notifier_retry(kvm, mmu_seq)) return null;
  const mm = (k.m.ext.thpKvm as { mm: MmStruct }).mm;
  return yield* k.__find_linux_pte_or_hugepte(mm.pgd, ea, shift);
}
const E_RETRY = event("find_kvm_host_pte", "mmu_notifier_retry(kvm, mmu_seq)?", { cost: "mem" });

const E_SEQ = event("kvmppc_do_h_enter", "mmu_seq = kvm->mmu_notifier_seq; smp_rmb()", { cost: "mem" });

/**
 * kvmppc_do_h_enter (book3s_hv_rm_mmu.c, v5.8, "Use find_kvm_host_pte in h_enter"): 691e95fd's, with the
 * local_irq_save of virtual mode (and irq_flags) gone: arch_spin_lock(kvm->mmu_lock) in both modes around
 * find_kvm_host_pte and the use of the PTE, released on the H_PARAMETER return (which restored `flags` before)
 * and after pa is computed. The rest as this model's 691e95fd.
 */
export function* kvmppc_do_h_enter(
  k: LK,
  kvm: Kvm,
  flags: bigint,
  pte_index: number,
  pteh: bigint,
  ptel: bigint,
  _pgdir: PtPage,
  _realmode: boolean,
): Gen<{ ret: number; pte_index: number }> {
  const psize = hpte_page_size(pteh, ptel);
  if (psize === 0n) return { ret: H_PARAMETER, pte_index };
  const writing = hpte_is_writable(ptel);
  pteh &= ~(HPTE_V_HVLOCK | HPTE_V_ABSENT | HPTE_V_VALID);
  ptel &= ~HPTE_GR_RESERVED;
  const g_ptel = ptel;
  k.R(kvm.mmuSeqObj, E_SEQ);
  yield;
  const mmu_seq = kvm.mmu_notifier_seq; // smp_rmb()
  const { gpa, gfn, inSlot, hva } = h_enter_gpa(k, kvm, ptel, psize);
  let pa = 0n;
  let is_io = ~0n;
  let frame: PageFrame | null = null;
  if (inSlot) {
    if (!slot_is_aligned(k.m, kvm, psize)) return { ret: H_PARAMETER, pte_index };
    const shift = { v: 0 };
    yield* k.spin_lock(kvmMmuLock(k, kvm)); // arch_spin_lock(&kvm->mmu_lock.rlock.raw_lock)
    const ptep = yield* k.find_kvm_host_pte(kvm, mmu_seq, hva, shift);
    if (ptep !== null) {
      const host_pte_size = shift.v !== 0 ? 2n ** BigInt(shift.v) : BigInt(hostGeometry(k.m).PAGE_SIZE);
      // We should always find the guest page size to <= host page size, if host is using hugepage
      if (host_pte_size < psize) {
        yield* k.spin_unlock(kvmMmuLock(k, kvm));
        return { ret: H_PARAMETER, pte_index };
      }
      const pte = yield* k.kvmppc_read_update_linux_pte(ptep, writing, shift.v);
      if (pte_present(pte, PPC64_64K) && !pte_protnone(pte)) {
        if (writing && !pte_write(pte, PPC64_64K)) ptel = hpte_make_readonly(ptel); // make the HPTE read-only
        is_io = hpte_cache_bits(pte);
        frame = pteFrame(mmWorld(k.m), pte);
        pa = BigInt(frame.pfn) << 12n; // the model's frame address; hva's offset in the host page is 0 here
        pa |= gpa & 0xfffn;
      }
    }
    yield* k.spin_unlock(kvmMmuLock(k, kvm));
    ptel = ptel_with_pa(ptel, psize, pa);
    pteh |= pa !== 0n ? HPTE_V_VALID : HPTE_V_ABSENT;
    const wimg = check_wimg(ptel, is_io);
    if (wimg === null) return { ret: H_PARAMETER, pte_index };
    ptel = wimg;
  } else {
    pteh |= HPTE_V_ABSENT; // emulated MMIO: mark with key 31
    ptel |= HPTE_R_KEY_MMIO;
  }
  return yield* h_enter_insert(k, kvm, flags, pte_index, pteh, ptel, g_ptel, gfn, mmu_seq, frame);
}
