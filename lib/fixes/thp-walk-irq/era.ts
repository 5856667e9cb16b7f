// The v4.0/v4.1 kernel both sides of 691e95fd7396 run on, where it differs from the base model (lib/mm v3.14,
// lib/powerpc v2.6.22, lib/kvm v3.7), as a model:
//  - ppc64's lazy (soft) IRQ disabling (arch/powerpc/kernel/irq.c, asm/hw_irq.h): registered as the runtime's
//    IRQ model (lib/powerpc/irq.ts: soft_enabled a u8, flags the `unsigned long` the arch returns,
//    arch_local_irq_restore storing the low byte but testing the word, replaying what irq_happened latched);
//  - transparent huge pages on ppc64 hash (asm/pgtable-ppc64.h, pgtable-ppc64-64k.h, mm/pgtable_64.c): pmd
//    states none / table / huge / splitting, the PTE page deposited beside a huge pmd (it holds the huge page's
//    hash-slot array), pmdp_clear_flush with kick_all_cpus_sync (kernel/smp.c, online CPUs only);
//  - split_huge_page before the 2016 refcount rework (pmdp_splitting_flush, withdraw, pmdp_invalidate,
//    pmd_populate) and hash_page's __hash_page_thp (hugepage-hash64.c);
//  - khugepaged's collapse_huge_page (mm/huge_memory.c) in its steps, with the MMU notifiers KVM registers
//    (virt/kvm/kvm_main.c: mmu_notifier_count/seq; mmu_notifier_retry of include/linux/kvm_host.h);
//  - POWER7's page sizes as KVM decodes them (__hpte_page_size), slot_is_aligned, the WIMG check;
//  - kvmppc_read_update_linux_pte (asm/kvm_book3s_64.h), kvmppc_virtmode_do_h_enter (book3s_64_mmu_hv.c),
//    kvmppc_h_enter and the insert part of kvmppc_do_h_enter (book3s_hv_rm_mmu.c), hash_page's walk.
// Scale: tables of 2 entries, so a "huge page" covers 2 small pages (HPAGE_PMD_NR = 2; the kernel's is a 16M
// page of 256 64K pages) and is one frame here; the sizes kvmppc_do_h_enter compares are the kernel's (hostGeometry).
// PTE bits are the base model's layout plus the two THP bits.

import type { Gen, Machine } from "../../sim/machine";
import { READ, WRITE } from "../../sim/machine";
import { event } from "../../sim/event";
import { defineCosts } from "../../sim/cost";
import type { PageFrame } from "../../sim/page_alloc";
import { GFP_KERNEL } from "../../sim/page_alloc";
import type { IrqFlags } from "../../sim/irq_arch";
import { arch_irq_state_step } from "../../sim/irqflags";
import { ModelError } from "../../sim/model_error";
import {
  PPC64_LAZY_IRQ,
  SOFT_ENABLED,
  HARD_DISABLED,
  hard_irq_entry_state,
  hard_irq_return_state,
} from "../../powerpc/irq";
import { checkTable, pt_entry_get_lockless } from "../../mm/pt_entry";
import { mmWorld, PMD_LEVEL, PTE_LEVEL } from "../../mm/mm_types";
import type { MmStruct, MmWorld, PtPage, Ptep } from "../../mm/mm_types";
import { PAGE_SIZE, pte_bits, pte_pfn, pte_write, pte_mkyoung, pte_mkdirty } from "../../mm/pgtable";
import type { PteLayout } from "../../mm/pgtable";
import {
  PPC64,
  _PAGE_BUSY,
  _PAGE_PRESENT,
  _PAGE_RW,
  _PAGE_USER,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_HASHPTE,
} from "../../powerpc/pgtable_ppc64";
import {
  HPTE_V_VALID,
  HPTE_V_LARGE,
  HPTE_R_R,
  HPTE_R_C,
  HPTE_R_PP0,
  HPTE_R_PP,
  HPTE_R_RPN,
  HPTE_R_KEY_HI,
  HPTE_R_KEY_LO,
  HPTE_R_W,
  HPTE_R_I,
  HPTE_R_M,
  HPTE_R_G,
  PP_RO,
  U64,
} from "../../hw/power7";
import { H_SUCCESS, H_PTEG_FULL, H_PARAMETER, H_EXACT } from "../../kvm/hvcall";
import { HPTE_V_ABSENT, HPTE_V_HVLOCK, KVMPPC_RMAP_RC_SHIFT } from "../../kvm/kvm_book3s_64";
import { add_revmap_chain_locked } from "../../kvm/book3s_hv_rm_mmu";
import type { Kvm, KvmVcpu, KK } from "../../kvm/index";
import type { VcoreThreads } from "./vcore";

defineCosts({
  /** Copying one small page into the huge page (not in the cost model document: ~4 KiB at ~10 GB/s). (E) */
  page_copy: 400,
});

/**
 * The kernel seen by this fix's code: HV KVM plus the v4.x names both sides call through `k`. kvmppc_do_h_enter
 * is the v4.x one (pgdir and realmode added in v3.9's split), which replaces lib/kvm's v3.7 signature here.
 */
export interface TK extends Omit<KK, "kvmppc_do_h_enter"> {
  // lazy IRQs (irq.c, hw_irq.h)
  arch_local_irq_save(): Gen<bigint>;
  arch_local_irq_restore(en: bigint): Gen;
  // the walker and its callers (before.ts / after.ts)
  find_linux_pte_or_hugepte(pgdir: PtPage, ea: number, shift: { v: number }): Gen<Ptep | PmdPtep | null>;
  __find_linux_pte_or_hugepte(pgdir: PtPage, ea: number, shift: { v: number }): Gen<Ptep | PmdPtep | null>;
  kvmppc_do_h_enter(
    kvm: Kvm,
    flags: bigint,
    pte_index: number,
    pteh: bigint,
    ptel: bigint,
    pgdir: PtPage,
    realmode: boolean,
  ): Gen<{ ret: number; pte_index: number }>;
  kvmppc_read_update_linux_pte(ptep: Ptep | PmdPtep, writing: boolean, hugepage: number): Gen<number>;
  kvmppc_virtmode_do_h_enter(kvm: Kvm, flags: bigint, pte_index: number, pteh: bigint, ptel: bigint): Gen<number>;
  hash_page(mm: MmStruct, ea: number, access: number): Gen<number>;
  // THP (huge_memory.c, pgtable_64.c)
  collapse_huge_page(mm: MmStruct, address: number): Gen;
  pmdp_clear_flush(mm: MmStruct, address: number, pmdt: PtPage, i: number): Gen<number>;
  kick_all_cpus_sync(): Gen;
  flush_tlb_pmd_range(mm: MmStruct, pmd: number, address: number): Gen;
  __collapse_huge_page_copy(pt: PtPage, page: PageFrame, address: number): Gen;
  pgtable_trans_huge_deposit(pmdt: PtPage, i: number, pgtable: PtPage): Gen;
  pgtable_trans_huge_withdraw(pmdt: PtPage, i: number): Gen<PtPage>;
  split_huge_page(mm: MmStruct, address: number): Gen;
  pmdp_splitting_flush(mm: MmStruct, address: number, pmdt: PtPage, i: number): Gen;
  pmdp_invalidate(pmdt: PtPage, i: number): Gen;
  __split_huge_page_map(mm: MmStruct, address: number, pmdt: PtPage, i: number): Gen;
  __hash_page_thp(ptep: PmdPtep, access: number): Gen<number>;
  // POWER7 vcore threading (vcore.ts)
  guest_exit_cont(v: VcoreThreads): Gen;
  mmu_notifier_invalidate_range_start(mm: MmStruct, start: number, end: number): Gen;
  mmu_notifier_invalidate_range_end(mm: MmStruct, start: number, end: number): Gen;
}

// ---- lazy (soft) IRQ disabling: arch/powerpc/kernel/irq.c, asm/hw_irq.h (v4.1) ------------------------------

/** The paca fields of one CPU the model needs, as the runtime's ppc64 IRQ model holds them (lib/powerpc/irq). */
export interface Paca {
  readonly soft_enabled: number;
  /** MSR_EE = 0 (an exception or the guest exit entered with EE off): the CPU takes no external interrupt. */
  readonly hard_disabled: boolean;
}

/** CPU `cpu`'s paca as its task context's IRQ state word has it (interrupt contexts leave it balanced). */
export function paca(m: Machine, cpu: number): Paca {
  const s = m.ctxs[2 * cpu].irqState;
  return { soft_enabled: s & SOFT_ENABLED, hard_disabled: (s & HARD_DISABLED) !== 0 };
}

/** Register ppc64's lazy IRQ model on this machine (every scenario of this fix's era, in its setup). */
export function useLazyIrqs(m: Machine): void {
  m.useIrqArch(PPC64_LAZY_IRQ);
}

/**
 * The kernel's `unsigned long` (a bigint in the KVM model, like the hcall's flags) as the runtime's flags
 * number: exact, or a clear error (the model's flags are small: soft_enabled, H_EXACT = 1 << 39).
 */
function ulong(en: bigint): IrqFlags {
  const v = BigInt.asUintN(64, en);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ModelError(`IRQ flags 0x${v.toString(16)} exceed the model's 2^53`);
  return Number(v);
}

/** arch_local_irq_save: flags = soft_enabled, then soft-disable (one step: a byte store to the paca). */
export function* arch_local_irq_save(k: TK): Gen<bigint> {
  return BigInt(yield* k.local_irq_save());
}

/** PACA_IRQ_EE (hw_irq.h): an external interrupt (POWER7's XICS IPI) arrived while soft-disabled. */
export const PACA_IRQ_EE = 0x04;

/**
 * irq_happened (paca): what arrived while this CPU was soft-disabled. The runtime holds such an IPI in the CPU's
 * queue (its handler cannot start while the CPU is soft-disabled), so the latch is that queue, read here.
 */
export function irq_happened(k: TK): number {
  return k.m.pendingIpis(k.cpu()) > 0 ? PACA_IRQ_EE : 0;
}

/**
 * arch_local_irq_restore(unsigned long en): the runtime's restore under ppc64's lazy model (lib/powerpc/irq.ts:
 * the low byte stored, the word tested, a latched interrupt replayed in a second step).
 */
export function* arch_local_irq_restore(k: TK, en: bigint): Gen {
  yield* k.local_irq_restore(ulong(en));
}

/** arch_irqs_disabled: soft_enabled == 0 (MSR_EE is not looked at: real mode has EE off, soft_enabled 1). */
export function arch_irqs_disabled(k: TK): boolean {
  return k.irqs_disabled();
}

/** An exception entry with MSR_EE = 0 (hash fault, the guest's hcall to real mode): soft_enabled untouched. */
export function* hard_irq_entry(k: TK): Gen {
  yield* arch_irq_state_step(k, hard_irq_entry_state);
}

/** The return (rfid) that turns MSR_EE back on. */
export function* hard_irq_return(k: TK): Gen {
  yield* arch_irq_state_step(k, hard_irq_return_state);
}

// ---- THP on ppc64 hash: asm/pgtable-ppc64.h, pgtable-ppc64-64k.h (v3.11 to v4.4) ---------------------------

/**
 * The Linux PTE layout of ppc64 with 64K pages (pte-hash64-64k.h), which THP needs: the base model's bits, the
 * PFN above bit 30 (PTE_RPN_SHIFT), so bit 29 (_PAGE_4K_PFN) and bit 16 (_PAGE_SPECIAL) are free for THP.
 */
export const PPC64_64K: PteLayout = { ...PPC64, name: "ppc64-64k-2015", RPN_SHIFT: 30 };

/** _PAGE_THP_HUGE is _PAGE_4K_PFN on 64K pages: a leaf pmd of a THP (recalled, not read in a stored tree). */
export const _PAGE_THP_HUGE = 0x20000000;
/** _PAGE_SPLITTING is _PAGE_SPECIAL ("THP pages can't be special", pgtable-ppc64.h, read); the value is the model's. */
export const _PAGE_SPLITTING = 0x10000;

/** A pmd that is a leaf: a (pmd_t *) handed back as a (pte_t *), the walker's `(pte_t *) pmdp`. */
export interface PmdPtep {
  readonly pmd: true;
  readonly pt: PtPage;
  readonly i: number;
}

/** pmd_none: no table, no huge page (what pmdp_clear_flush leaves for a collapse). */
export const pmd_none = (v: number): boolean => v === 0;
/**
 * pmd_huge (hugetlbpage.c, book3s64): a leaf pte for a huge page, bottom two bits != 00. The model's table
 * pointers are small integers (pfn + 1), never above the RPN shift, so "is a PTE-format word" is checked too.
 */
export const pmd_huge = (v: number): boolean => v >= 2 ** PPC64_64K.RPN_SHIFT && (v & 0x3) !== 0;
/** pmd_trans_huge (pgtable-ppc64.h): (pmd & 0x3) && (pmd & _PAGE_THP_HUGE). */
export const pmd_trans_huge = (v: number): boolean => pmd_huge(v) && (v & _PAGE_THP_HUGE) !== 0;
/** pmd_trans_splitting: pmd_trans_huge and _PAGE_SPLITTING (what pmdp_splitting_flush sets). */
export const pmd_trans_splitting = (v: number): boolean => pmd_trans_huge(v) && (v & _PAGE_SPLITTING) !== 0;
/** pmd_large (pgtable-ppc64.h): a THP leaf; the walker tests pmd_huge || pmd_large. */
export const pmd_large = (v: number): boolean => pmd_trans_huge(v);

/** mk_huge_pmd + pmd_mkdirty + maybe_pmd_mkwrite of an anonymous THP: a PTE-format word with _PAGE_THP_HUGE. */
export function mk_huge_pmd(page: PageFrame): number {
  return page.pfn * 2 ** PPC64_64K.RPN_SHIFT + _PAGE_THP_HUGE + (_PAGE_PRESENT | _PAGE_USER | _PAGE_RW | _PAGE_DIRTY);
}

/** Per-machine THP state: which PTE page is deposited beside which huge pmd (pmd table entry id → table). */
export interface ThpState {
  readonly deposited: Map<number, PtPage>;
  /** Tables a deposit holds: what a stale walker must not touch. */
  readonly depositedTables: Set<PtPage>;
}

export function thp(m: Machine): ThpState {
  let s = m.ext.thp as ThpState | undefined;
  if (s === undefined) m.ext.thp = s = { deposited: new Map(), depositedTables: new Set() };
  return s;
}

/**
 * Inside the step of a lockless access to PTE page `pt`: still a live table (else the use-after-free is
 * reported) and not deposited under a huge pmd (else the harm is an access to the huge page's hash-slot array).
 */
export function pteTableOk(k: TK, pt: PtPage, who: string): boolean {
  if (!checkTable(k, pt, who)) return false;
  if (thp(k.m).depositedTables.has(pt)) {
    k.violation(
      "stale-pte-page",
      `${who} used a PTE page (pfn ${pt.frame.pfn}) that a collapse has deposited under a huge pmd: on ppc64 it ` +
        `holds the huge page's hash-slot array, not PTEs`,
    );
    return false;
  }
  return true;
}

const E_PTE_READ = event("kvmppc_read_update_linux_pte", "old_pte = *ptep", { cost: "mem" });
const E_PTE_CMPXCHG = event("kvmppc_read_update_linux_pte", "__cmpxchg_u64(ptep, old, young/dirty)", {
  cost: "atomic",
});

/** The object a PTE pointer names and the frame it lies in (a leaf pmd lies in its pmd table). */
function ptepObj(p: Ptep | PmdPtep): { id: number; pt: PtPage } {
  return "pmd" in p ? { id: p.pt.base + p.i, pt: p.pt } : { id: p.id, pt: p.pt };
}
/**
 * A kernel table pointer as a PTE-format word: a 4K-aligned kernel address, so _PAGE_PRESENT (and every flag the
 * readers test) is clear. The model's pointers are pfn + 1, so a walker that kept a (pte_t *)pmdp across a split
 * reads this instead.
 */
export const TABLE_POINTER_AS_PTE = 0xc0000000;
function ptepGet(p: Ptep | PmdPtep): number {
  if (!("pmd" in p)) return p.v;
  const v = p.pt.ent[p.i];
  return v === 0 || pmd_huge(v) ? v : TABLE_POINTER_AS_PTE;
}
function ptepSet(p: Ptep | PmdPtep, v: number): void {
  if ("pmd" in p) p.pt.ent[p.i] = v;
  else p.v = v;
}

/**
 * kvmppc_read_update_linux_pte (asm/kvm_book3s_64.h, v4.0/v4.1: the context of the 2015 THP-refcount patch that
 * removes its splitting check): read *ptep; _PAGE_BUSY → spin; a huge page that is splitting → 0; not present
 * → 0; else cmpxchg in the young (and, writing to a writable page, dirty) bits, retrying if the word changed.
 */
export function* kvmppc_read_update_linux_pte(
  k: TK,
  ptep: Ptep | PmdPtep,
  writing: boolean,
  hugepage: number,
): Gen<number> {
  const { id, pt } = ptepObj(ptep);
  const L = PPC64_64K;
  for (;;) {
    k.inFrame(id, READ, pt.frame, E_PTE_READ);
    yield;
    if (pt.level === PTE_LEVEL && !pteTableOk(k, pt, "kvmppc_read_update_linux_pte")) return 0;
    const old = ptepGet(ptep);
    if ((old & _PAGE_BUSY) !== 0) continue; // cpu_relax(); the next read is another step
    if (hugepage !== 0 && pmd_trans_splitting(old)) return 0; // pte_pmd(old_pte): the huge pmd's own word
    if ((old & _PAGE_PRESENT) === 0) return 0;
    let nw = pte_mkyoung(old, L);
    if (writing && pte_write(old, L)) nw = pte_mkdirty(nw, L);
    k.inFrame(id, WRITE, pt.frame, E_PTE_CMPXCHG);
    yield;
    if (pt.level === PTE_LEVEL && !pteTableOk(k, pt, "kvmppc_read_update_linux_pte (cmpxchg)")) return 0;
    if (ptepGet(ptep) === old) {
      ptepSet(ptep, nw);
      return nw;
    }
  }
}

// ---- kernel/smp.c, mm/pgtable_64.c, mm/huge_memory.c (v4.0/v4.1) --------------------------------------------

/** do_nothing: the IPI's whole point is that the target took it (it had IRQs on, so no walk was under way). */
function* do_nothing(): Gen {}

/**
 * cpu_online_mask of this machine: every CPU unless the scenario took some offline (POWER7 HV KVM runs with the
 * host's secondary threads offline: vcore.ts).
 */
export function cpu_online_mask(m: Machine): number {
  return (m.ext.thpOnline as number | undefined) ?? (1 << m.ncpu) - 1;
}

/**
 * kick_all_cpus_sync (kernel/smp.c): smp_call_function(do_nothing, NULL, 1) — every other *online* CPU takes the
 * IPI before it returns.
 */
export function* kick_all_cpus_sync(k: TK): Gen {
  yield* k.smp_call_function_many(cpu_online_mask(k.m), "kick_all_cpus_sync", do_nothing, null, true);
}

const E_PMD_CLEAR = event("pmdp_clear_flush", "pmd = *pmdp; pmd_clear(pmdp)", { cost: "mem" });
const E_FLUSH_RANGE = event("flush_tlb_pmd_range", "hpte_need_flush for each hashed PTE of the table", {
  cost: "tlbie",
});

/** flush_tlb_pmd_range (pgtable_64.c): flush the hash entries of the old table's PTEs (the host's HPT: none here). */
export function* flush_tlb_pmd_range(k: TK, _mm: MmStruct, pmd: number, _address: number): Gen {
  const pt = mmWorld(k.m).child(pmd)!;
  const objs: number[] = [];
  for (const p of pt.pteps) objs.push(p.id, READ);
  k.multi(objs, E_FLUSH_RANGE);
  yield;
}

/**
 * pmdp_clear_flush (pgtable_64.c, v4.0/v4.1) for khugepaged's normal pmd: read and clear it, kick every CPU so a
 * walker with IRQs off (hash_page holding a ptep) finishes first, then flush the old PTEs' hash entries.
 */
export function* pmdp_clear_flush(k: TK, mm: MmStruct, address: number, pmdt: PtPage, i: number): Gen<number> {
  k.W(pmdt.base + i, E_PMD_CLEAR);
  yield;
  const pmd = pmdt.ent[i];
  pmdt.ent[i] = 0;
  yield* k.kick_all_cpus_sync();
  yield* k.flush_tlb_pmd_range(mm, pmd, address);
  return pmd;
}

const E_DEPOSIT = event("pgtable_trans_huge_deposit", "*(pmdp + PTRS_PER_PMD) = pgtable; smp_wmb()", {
  cost: "mem",
});

/** pgtable_trans_huge_deposit (pgtable_64.c): the PTE page is stored in the second half of the pmd table. */
export function* pgtable_trans_huge_deposit(k: TK, pmdt: PtPage, i: number, pgtable: PtPage): Gen {
  k.W(pmdt.base + i, E_DEPOSIT);
  yield;
  const s = thp(k.m);
  s.deposited.set(pmdt.base + i, pgtable);
  s.depositedTables.add(pgtable);
  pgtable.frame.use = "deposited pgtable (THP hash-slot array)";
}

const E_COPY = event("__collapse_huge_page_copy", "copy the small page into the huge page", { cost: "page_copy" });
const E_PTE_CLEAR = event("__collapse_huge_page_copy", "pte_clear under the PTL", { cost: "mem" });

/** __collapse_huge_page_copy (huge_memory.c, v4.1): per PTE, copy, clear it under the PTL, free the small page. */
export function* __collapse_huge_page_copy(k: TK, pt: PtPage, page: PageFrame, _address: number): Gen {
  const w = mmWorld(k.m);
  for (const p of pt.pteps) {
    const v = p.v;
    if (v === 0) continue; // clear_user_highpage: nothing to free
    const src = w.pa.frames[pte_pfn(v, PPC64_64K)];
    k.multi([src.id, READ, page.id, WRITE], E_COPY);
    yield;
    page.data = Math.max(page.data, src.data);
    yield* k.spin_lock(pt.ptl!);
    k.W(p.id, E_PTE_CLEAR);
    yield;
    p.v = 0;
    yield* k.spin_unlock(pt.ptl!);
    yield* k.free_page(w.pa, src); // free_page_and_swap_cache: the PTE held the last reference
  }
}

// ---- split: mm/huge_memory.c and pgtable_64.c before the 2016 THP refcount rework (v4.0/v4.1) ---------------

const E_SPLITTING = event("pmdp_splitting_flush", "ldarx/stdcx.: wait !_PAGE_BUSY, set _PAGE_SPLITTING", {
  cost: "atomic",
});
const E_WITHDRAW = event("pgtable_trans_huge_withdraw", "pgtable = *(pmdp + PTRS_PER_PMD); memset(pgtable, 0)", {
  cost: "mem",
});
const E_SET_PTE = event("__split_huge_page_map", "set_pte_at(small PTE of the huge page)", { cost: "mem" });
const E_INVALIDATE = event("pmdp_invalidate", "pmd_hugepage_update(clear _PAGE_PRESENT)", { cost: "atomic" });
const E_POPULATE = event("__split_huge_page_map", "pmd_populate(mm, pmd, pgtable)", { cost: "mem" });

/**
 * pmdp_splitting_flush (pgtable_64.c, read in the 2015 patch that removes it): set _PAGE_SPLITTING once the pmd
 * is not _PAGE_BUSY (ldarx loop); if it was not set before and the page was hashed, flush its HPTEs (the host's
 * HPT is not modelled); then kick_all_cpus_sync, "so that generic code that rely on IRQ disabling to prevent a
 * parallel THP split work as expected".
 */
export function* pmdp_splitting_flush(k: TK, _mm: MmStruct, _address: number, pmdt: PtPage, i: number): Gen {
  const id = pmdt.base + i;
  k.wait(id, WRITE, E_SPLITTING, () => (pmdt.ent[i] & _PAGE_BUSY) === 0);
  yield;
  pmdt.ent[i] = pte_bits(pmdt.ent[i], 0, _PAGE_SPLITTING);
  yield* k.kick_all_cpus_sync();
}

/**
 * pgtable_trans_huge_withdraw (pgtable_64.c, recalled): take the deposited page back and zero it ("we store HPTE
 * information in the deposited PTE fragment"): from here it is a PTE page again.
 */
export function* pgtable_trans_huge_withdraw(k: TK, pmdt: PtPage, i: number): Gen<PtPage> {
  const s = thp(k.m);
  const pgtable = s.deposited.get(pmdt.base + i)!;
  const objs: number[] = [pmdt.base + i, WRITE];
  for (const p of pgtable.pteps) objs.push(p.id, WRITE);
  k.multi(objs, E_WITHDRAW);
  yield;
  s.deposited.delete(pmdt.base + i);
  s.depositedTables.delete(pgtable);
  for (const p of pgtable.pteps) p.v = 0;
  pgtable.frame.use = "pte table";
  return pgtable;
}

/** pmdp_invalidate (pgtable_64.c, v4.0, recalled): clear _PAGE_PRESENT of the huge pmd (its HPTEs flushed). */
export function* pmdp_invalidate(k: TK, pmdt: PtPage, i: number): Gen {
  k.W(pmdt.base + i, E_INVALIDATE);
  yield;
  pmdt.ent[i] = pte_bits(pmdt.ent[i], _PAGE_PRESENT, 0);
}

/**
 * __split_huge_page_map (huge_memory.c, v4.1, recalled): under the pmd lock, withdraw the deposited page, fill it
 * with small PTEs of the huge page (the pfn stays the same: here every small PTE maps the one frame that stands
 * for the huge page), smp_wmb, pmdp_invalidate, then pmd_populate: the pmd becomes a pointer to that table.
 */
export function* __split_huge_page_map(k: TK, mm: MmStruct, _address: number, pmdt: PtPage, i: number): Gen {
  yield* k.spin_lock(mm.page_table_lock);
  const pmd = pmdt.ent[i];
  const pgtable = yield* k.pgtable_trans_huge_withdraw(pmdt, i);
  const prot = _PAGE_PRESENT | _PAGE_USER | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
  for (const p of pgtable.pteps) {
    k.W(p.id, E_SET_PTE);
    yield;
    p.v = pte_pfn(pmd, PPC64_64K) * 2 ** PPC64_64K.RPN_SHIFT + prot;
  }
  yield* k.pmdp_invalidate(pmdt, i);
  k.W(pmdt.base + i, E_POPULATE);
  yield;
  pmdt.ent[i] = pgtable.frame.pfn + 1;
  yield* k.spin_unlock(mm.page_table_lock);
}

/**
 * split_huge_page (huge_memory.c, v4.1, recalled): __split_huge_page_splitting (notifier start; under the pmd lock
 * pmdp_splitting_flush; notifier end), the compound page's refcounts split (no state here), __split_huge_page_map.
 */
export function* split_huge_page(k: TK, mm: MmStruct, address: number): Gen {
  const w = mmWorld(k.m);
  const pmdt = w.child(mm.pgd.ent[w.index(0, address)])!;
  const i = w.index(PMD_LEVEL, address);
  if (!pmd_trans_huge(pmdt.ent[i])) return;
  const end = address + w.span(PMD_LEVEL);
  yield* k.mmu_notifier_invalidate_range_start(mm, address, end);
  yield* k.spin_lock(mm.page_table_lock);
  yield* k.pmdp_splitting_flush(mm, address, pmdt, i);
  yield* k.spin_unlock(mm.page_table_lock);
  yield* k.mmu_notifier_invalidate_range_end(mm, address, end);
  yield* k.__split_huge_page_map(mm, address, pmdt, i);
}

const E_THP_BUSY = event("__hash_page_thp", "old_pmd = *pmdp; busy/splitting/access? set _PAGE_BUSY", {
  cost: "atomic",
});
const E_THP_SLOT = event("__hash_page_thp", "hpte_slot_array[index] = slot (the deposited page)", {
  cost: "hpte_insert",
});

/**
 * __hash_page_thp (hugepage-hash64.c, v4.0/v4.1: its checks read in the 2015 patch that drops the splitting one):
 * _PAGE_BUSY → retry (0); _PAGE_SPLITTING → retry; access not allowed → fault (1); else set _PAGE_BUSY, insert
 * the HPTE and record its slot in the hash-slot array that lives in the page deposited beside the pmd.
 */
export function* __hash_page_thp(k: TK, ptep: PmdPtep, access: number): Gen<number> {
  const id = ptep.pt.base + ptep.i;
  k.W(id, E_THP_BUSY);
  yield;
  const old = ptep.pt.ent[ptep.i];
  if (!pmd_huge(old) || (old & _PAGE_BUSY) !== 0) return 0;
  if ((old & _PAGE_SPLITTING) !== 0) return 0;
  if ((access & ~old) !== 0) return 1;
  ptep.pt.ent[ptep.i] = pte_bits(old, 0, _PAGE_BUSY | _PAGE_ACCESSED);
  const slots = thp(k.m).deposited.get(id);
  k.multi(slots !== undefined ? [id, WRITE, slots.pteps[0].id, WRITE] : [id, WRITE], E_THP_SLOT);
  yield;
  const now = thp(k.m).deposited.get(id);
  if (now === undefined || now !== slots) {
    k.violation(
      "slot-array-after-withdraw",
      `__hash_page_thp wrote the hash-slot array into a page that is no longer deposited beside the pmd`,
    );
    return 0;
  }
  ptep.pt.ent[ptep.i] = pte_bits(ptep.pt.ent[ptep.i], _PAGE_BUSY, _PAGE_HASHPTE);
  return 0;
}

// ---- the MMU notifiers KVM registers (virt/kvm/kvm_main.c, v4.1) and mmu_notifier_retry ---------------------

const E_MN_START = event("kvm_mmu_notifier_invalidate_range_start", "mmu_notifier_count++ (under mmu_lock)", {
  cost: "mem",
});
const E_MN_END = event("kvm_mmu_notifier_invalidate_range_end", "mmu_notifier_seq++; smp_wmb; count--", {
  cost: "mem",
});

/** The VM whose memory the mm backs (the scenario registers it: kvm->mm). */
export function kvmOfMm(m: Machine, mm: MmStruct): Kvm | null {
  const vm = m.ext.thpKvm as { mm: MmStruct; kvm: Kvm } | undefined;
  return vm !== undefined && vm.mm === mm ? vm.kvm : null;
}

/** gfn of a host address in the VM's one memslot (userspace_addr = m.ext.thpHvaBase). */
export function hvaToGfn(m: Machine, kvm: Kvm, hva: number): number {
  return kvm.memslot.base_gfn + Math.floor((hva - (m.ext.thpHvaBase as number)) / PAGE_SIZE);
}

/** mmu_notifier_invalidate_range_start → KVM: count++, then kvm_unmap_hva_range over the range's gfns. */
export function* mmu_notifier_invalidate_range_start(k: TK, mm: MmStruct, start: number, end: number): Gen {
  const kvm = kvmOfMm(k.m, mm);
  if (kvm === null) return;
  k.W(kvm.mmuSeqObj, E_MN_START);
  yield;
  kvm.mmu_notifier_count++;
  for (let a = start; a < end; a += PAGE_SIZE) yield* k.kvm_unmap_hva(kvm, hvaToGfn(k.m, kvm, a));
}

/** mmu_notifier_invalidate_range_end → KVM: seq++ (smp_wmb) then count-- (one step under mmu_lock). */
export function* mmu_notifier_invalidate_range_end(k: TK, mm: MmStruct, _start: number, _end: number): Gen {
  const kvm = kvmOfMm(k.m, mm);
  if (kvm === null) return;
  k.W(kvm.mmuSeqObj, E_MN_END);
  yield;
  kvm.mmu_notifier_seq++;
  kvm.mmu_notifier_count--;
}

/** mmu_notifier_retry (kvm_host.h, v4.1): an invalidation is under way (count) or happened since (seq). */
export function mmu_notifier_retry(kvm: Kvm, mmu_seq: number): boolean {
  return kvm.mmu_notifier_count !== 0 || kvm.mmu_notifier_seq !== mmu_seq;
}

const E_PMD_LOCK = event("collapse_huge_page", "pmd = mm_find_pmd; pte_offset_map (mmap_sem held for write)", {
  cost: "mem",
});
const E_SET_PMD = event("set_pmd_at", "*pmdp = huge pmd", { cost: "mem" });
const E_ISOLATE = event("__collapse_huge_page_isolate", "check and isolate each small page (PTL held)", {
  cost: "mem",
});

/**
 * collapse_huge_page (mm/huge_memory.c, v4.1), khugepaged holding mmap_sem for write: allocate the huge page;
 * invalidate_range_start; pmdp_clear_flush (with its IPI) under the pmd lock; invalidate_range_end; isolate
 * the small pages; copy them and free them; deposit the old PTE page; set the huge pmd.
 */
export function* collapse_huge_page(k: TK, mm: MmStruct, address: number): Gen {
  const w = mmWorld(k.m);
  const new_page = yield* k.alloc_page(w.pa, GFP_KERNEL, "thp");
  if (new_page === null) return;
  const pmdt = w.child(mm.pgd.ent[w.index(0, address)])!;
  const i = w.index(PMD_LEVEL, address);
  k.R(pmdt.base + i, E_PMD_LOCK);
  yield;
  const pt = w.child(pmdt.ent[i]);
  if (pt === null || pmd_trans_huge(pmdt.ent[i])) return; // nothing to collapse
  const start = address;
  const end = address + w.span(PMD_LEVEL);
  yield* k.mmu_notifier_invalidate_range_start(mm, start, end);
  yield* k.spin_lock(mm.page_table_lock); // pmd_lock: the split pmd lock is page_table_lock here
  const _pmd = yield* k.pmdp_clear_flush(mm, address, pmdt, i);
  yield* k.spin_unlock(mm.page_table_lock);
  yield* k.mmu_notifier_invalidate_range_end(mm, start, end);
  yield* k.spin_lock(pt.ptl!);
  const objs: number[] = [];
  for (const p of pt.pteps) objs.push(p.id, READ);
  k.multi(objs, E_ISOLATE);
  yield;
  yield* k.spin_unlock(pt.ptl!);
  yield* k.__collapse_huge_page_copy(pt, new_page, address);
  const pgtable = w.child(_pmd)!; // pmd_pgtable(_pmd)
  yield* k.spin_lock(mm.page_table_lock);
  yield* k.pgtable_trans_huge_deposit(pmdt, i, pgtable);
  k.W(pmdt.base + i, E_SET_PMD);
  yield;
  pmdt.ent[i] = mk_huge_pmd(new_page);
  yield* k.spin_unlock(mm.page_table_lock);
}

// ---- the walk's users ----------------------------------------------------------------------------------------

const E_RMAP = event("kvmppc_do_h_enter", "mmu_notifier_retry? link rmap chain, unlock rmap", { cost: "mem" });
const E_HPTE_WRITE = event("kvmppc_do_h_enter", "hpte[1] = ptel; eieio; hpte[0] = pteh (unlock); ptesync", {
  cost: "hpte_insert",
});
const E_SCAN = event("kvmppc_do_h_enter", "slot free? try_lock_hpte(HVLOCK|V|ABSENT)", { cost: "atomic" });
const E_RECHECK = event("kvmppc_do_h_enter", "locked slot in use: unlock", { cost: "mem" });

/** Ghost: the host frame each HPTE was made to point at (the model's pa is not a frame address for large pages). */
export function hpteFrames(m: Machine): Map<number, PageFrame> {
  let f = m.ext.thpHpteFrames as Map<number, PageFrame> | undefined;
  if (f === undefined) m.ext.thpHpteFrames = f = new Map();
  return f;
}

/**
 * The rest of kvmppc_do_h_enter from do_insert (book3s_hv_rm_mmu.c, v3.19 read; unchanged by the fix): pte_index
 * in range (else H_PARAMETER); without H_EXACT the first free slot of the PTEG (a second pass locking each slot,
 * H_PTEG_FULL if none), with H_EXACT that slot (H_PTEG_FULL if in use); save the guest's dword 1; link the rmap
 * chain unless mmu_notifier_retry says an invalidation raced (then write an absent HPTE); write the HPTE.
 */
export function* h_enter_insert(
  k: TK,
  kvm: Kvm,
  flags: bigint,
  pte_index: number,
  pteh: bigint,
  ptel: bigint,
  g_ptel: bigint,
  gfn: number,
  mmu_seq: number,
  frame: PageFrame | null,
): Gen<{ ret: number; pte_index: number }> {
  if (pte_index >= kvm.arch.hpt_npte) return { ret: H_PARAMETER, pte_index };
  const hpt = kvm.arch.hpt;
  if ((flags & H_EXACT) === 0n) {
    pte_index &= ~7;
    let i = 0;
    for (; i < 8; i++) {
      k.W(hpt.obj(pte_index + i), E_SCAN);
      yield;
      const v = hpt.get0(pte_index + i);
      if ((v & (HPTE_V_HVLOCK | HPTE_V_VALID | HPTE_V_ABSENT)) === 0n) {
        hpt.set0(pte_index + i, v | HPTE_V_HVLOCK);
        break;
      }
    }
    if (i === 8) {
      // try_lock_hpte doesn't retry: lock each slot in turn and look again
      for (i = 0; i < 8; i++) {
        yield* k.try_lock_hpte_spin(kvm, pte_index + i);
        if ((hpt.get0(pte_index + i) & (HPTE_V_VALID | HPTE_V_ABSENT)) === 0n) break;
        k.W(hpt.obj(pte_index + i), E_RECHECK);
        yield;
        hpt.set0(pte_index + i, hpt.get0(pte_index + i) & ~HPTE_V_HVLOCK);
      }
      if (i === 8) return { ret: H_PTEG_FULL, pte_index };
    }
    pte_index += i;
  } else if (!(yield* k.try_lock_hpte(kvm, pte_index, HPTE_V_HVLOCK | HPTE_V_VALID | HPTE_V_ABSENT))) {
    yield* k.try_lock_hpte_spin(kvm, pte_index);
    if ((hpt.get0(pte_index) & (HPTE_V_VALID | HPTE_V_ABSENT)) !== 0n) {
      yield* k.unlock_hpte(kvm, pte_index, hpt.get0(pte_index) & ~HPTE_V_HVLOCK);
      return { ret: H_PTEG_FULL, pte_index };
    }
  }
  const rev = kvm.rev(pte_index);
  rev.guest_rpte = g_ptel;
  if ((pteh & HPTE_V_VALID) !== 0n) {
    yield* k.lock_rmap(kvm, gfn);
    const s = kvm.memslot;
    const ri = gfn - s.base_gfn;
    k.multi([s.rmapObj + ri, WRITE, kvm.mmuSeqObj, READ], E_RMAP);
    yield;
    if (mmu_notifier_retry(kvm, mmu_seq)) {
      pteh |= HPTE_V_ABSENT; // inval in progress, write a non-present HPTE
      pteh &= ~HPTE_V_VALID;
      s.rmap[ri] &= ~(1n << 63n);
    } else {
      add_revmap_chain_locked(kvm, rev, ri, pte_index);
      const rcbits = s.rmap[ri] >> KVMPPC_RMAP_RC_SHIFT;
      ptel &= rcbits | ~(HPTE_R_R | HPTE_R_C);
    }
  }
  k.W(hpt.obj(pte_index), E_HPTE_WRITE);
  yield;
  hpt.set1(pte_index, ptel);
  hpt.gen.set(pte_index, frame !== null ? frame.gen : -1);
  if (frame !== null) hpteFrames(k.m).set(pte_index, frame);
  hpt.set0(pte_index, pteh);
  return { ret: H_SUCCESS, pte_index };
}

// ---- page sizes: asm/kvm_book3s_64.h (v3.13 to v4.8 form, read), POWER7's sizes -----------------------------

/** The page sizes POWER7 offers (mmu_psize_defs indexes, in the kernel's order: 4K < 64K < 16M). */
export const MMU_PAGE_4K = 0;
export const MMU_PAGE_64K = 1;
export const MMU_PAGE_16M = 2;
/** LP_SHIFT / LP_BITS (mmu-hash64.h): the 8-bit LP field of HPTE dword 1. */
const LP_SHIFT = 12n;
const LP_BITS = 8;

/**
 * mmu_psize_defs[base].shift and .penc[actual] as POWER7 reports them in ibm,segment-page-sizes (recalled, not
 * read): 4K base with 4K (0), 64K (0x7) and 16M (0x38) actual; 64K base with 64K (0x1) and 16M (0x8); 16M with 16M
 * (0x0). -1: no encoding.
 */
export const mmu_psize_defs: readonly { shift: number; penc: readonly number[] }[] = [
  { shift: 12, penc: [0x0, 0x7, 0x38] },
  { shift: 16, penc: [-1, 0x1, 0x8] },
  { shift: 24, penc: [-1, -1, 0x0] },
];

/** __hpte_actual_psize: the actual size whose encoding (LP's low bits, as many as the size needs) matches. */
export function __hpte_actual_psize(lp: number, psize: number): number {
  for (let i = 1; i < mmu_psize_defs.length; i++) {
    if (mmu_psize_defs[psize].penc[i] === -1) continue;
    const shift = Math.min(mmu_psize_defs[i].shift - Number(LP_SHIFT), LP_BITS);
    if ((lp & ((1 << shift) - 1)) === mmu_psize_defs[psize].penc[i]) return i;
  }
  return -1;
}

/** __hpte_page_size: 4K without HPTE_V_LARGE; else the first base size whose encoding matches LP; 0 if none. */
export function __hpte_page_size(h: bigint, l: bigint, is_base_size: boolean): bigint {
  if ((h & HPTE_V_LARGE) === 0n) return 1n << 12n;
  const lp = Number((l >> LP_SHIFT) & ((1n << BigInt(LP_BITS)) - 1n));
  for (let size = 0; size < mmu_psize_defs.length; size++) {
    const a_psize = __hpte_actual_psize(lp, size);
    if (a_psize !== -1) return 1n << BigInt(mmu_psize_defs[is_base_size ? size : a_psize].shift);
  }
  return 0n;
}

/** hpte_page_size: the actual page size the guest's HPTE asks for. */
export const hpte_page_size = (h: bigint, l: bigint): bigint => __hpte_page_size(h, l, false);
/** hpte_base_page_size: its base page size (the segment's). */
export const hpte_base_page_size = (h: bigint, l: bigint): bigint => __hpte_page_size(h, l, true);

/** The LP field a guest writes for a page of `actual` size in a segment of `base` size (penc, low bits). */
export function hpte_lp(base: number, actual: number): bigint {
  return BigInt(mmu_psize_defs[base].penc[actual]) << LP_SHIFT;
}

/**
 * The host kernel's page geometry the walk's shift and host_pte_size are in: PAGE_SIZE (64K, or 4K for a 4K
 * kernel) and PMD_SHIFT 24 (64K pages: a pmd maps 16M, THP's size). The model's tables are smaller; these are
 * the sizes kvmppc_do_h_enter compares.
 */
export interface HostGeometry {
  readonly PAGE_SIZE: number;
  readonly PMD_SHIFT: number;
}
export function hostGeometry(m: Machine): HostGeometry {
  return (m.ext.thpHost as HostGeometry | undefined) ?? { PAGE_SIZE: 0x10000, PMD_SHIFT: 24 };
}

/**
 * slot_is_aligned (kvm_book3s_64.h, read): a page larger than PAGE_SIZE must be aligned in the memslot's gfns.
 * The scenario's memslot stands for 32M of guest memory at guest physical 0 (m.ext.thpSlotPages host pages).
 */
export function slot_is_aligned(m: Machine, kvm: Kvm, pagesize: bigint): boolean {
  const PAGE_SIZE = BigInt(hostGeometry(m).PAGE_SIZE);
  if (pagesize <= PAGE_SIZE) return true;
  const mask = pagesize / PAGE_SIZE - 1n;
  const npages = BigInt((m.ext.thpSlotPages as number | undefined) ?? (32 << 20) / hostGeometry(m).PAGE_SIZE);
  return (BigInt(kvm.memslot.base_gfn) & mask) === 0n && (npages & mask) === 0n;
}

/**
 * The part of kvmppc_do_h_enter before the walk, as the model's memslot has it: gpa, its gfn (in the model's
 * pages: guest page 0 is the model's first memslot page), whether it lies in the memslot (else emulated MMIO),
 * and the host address.
 */
export function h_enter_gpa(k: TK, kvm: Kvm, ptel: bigint, psize: bigint) {
  const gpa = ptel & HPTE_R_RPN & ~(psize - 1n);
  const gfn = Number(gpa >> 12n);
  const s = kvm.memslot;
  const inSlot = gfn >= s.base_gfn && gfn < s.base_gfn + s.npages;
  const hva = (k.m.ext.thpHvaBase as number) + (gfn - s.base_gfn) * PAGE_SIZE;
  return { gpa, gfn, inSlot, hva };
}

/** pte_protnone (asm/pgtable.h, NUMA balancing, recalled): present but not user: a NUMA hinting PTE. */
export const pte_protnone = (pte: number): boolean => (pte & (_PAGE_PRESENT | _PAGE_USER)) === _PAGE_PRESENT;

/** hpte_cache_bits of an anonymous page's PTE: no I/G bits, so is_io = 0 (the model maps no I/O memory). */
export const hpte_cache_bits = (_pte: number): bigint => 0n;

/** hpte_cache_flags_ok (kvm_book3s_64.h, read; SAO left out): a cacheable host page wants WIMG = M. */
export function hpte_cache_flags_ok(ptel: bigint, is_io: bigint): boolean {
  const wimg = ptel & (HPTE_R_W | HPTE_R_I | HPTE_R_M | HPTE_R_G);
  if (is_io === 0n) return wimg === HPTE_R_M;
  if ((wimg & HPTE_R_W) !== 0n) return false;
  return (wimg & HPTE_R_I) !== 0n;
}

/** The emulated-MMIO marking of an HPTE (key 31) for a gpa outside every memslot. */
export const HPTE_R_KEY_MMIO = HPTE_R_KEY_HI | HPTE_R_KEY_LO;

/**
 * The WIMG check after pa (book3s_hv_rm_mmu.c, v3.19 read, unchanged by the fix): a host I/O mapping the guest
 * maps cacheable → H_PARAMETER; a cacheable host page the guest maps otherwise → made M. Returns the new ptel, or
 * null for H_PARAMETER.
 */
export function check_wimg(ptel: bigint, is_io: bigint): bigint | null {
  if (is_io === ~0n || hpte_cache_flags_ok(ptel, is_io)) return ptel;
  if (is_io !== 0n) return null;
  return (ptel & ~(HPTE_R_W | HPTE_R_I | HPTE_R_G)) | HPTE_R_M;
}

/** The host frame a Linux PTE (or huge pmd) maps at `hva` (pa's frame; the huge page is one frame here). */
export function pteFrame(w: MmWorld, pte: number): PageFrame {
  return w.pa.frames[pte_pfn(pte, PPC64_64K)];
}

/** hpte_make_readonly (kvm_book3s_64.h), coarsened: PP = read-only (the model's guest pages have no PP0 or N). */
export function hpte_make_readonly(ptel: bigint): bigint {
  return (ptel & ~HPTE_R_PP) | PP_RO;
}

/** HPTE dword 1 for a host page (ptel &= ~(HPTE_R_PP0 - psize); ptel |= pa). pa is the model's frame address. */
export function ptel_with_pa(ptel: bigint, psize: bigint, pa: bigint): bigint {
  return U64(ptel & ~(HPTE_R_PP0 - psize)) | pa;
}

const E_VM_PGDIR = event("kvmppc_virtmode_do_h_enter", "pgdir = current->mm->pgd", { cost: "mem" });

/**
 * kvmppc_virtmode_do_h_enter (book3s_64_mmu_hv.c, v4.1): the host's own H_ENTER (kvm_htab_write's restore of a
 * guest HPT, kvmppc_map_vrma): only rcu_read_lock_sched — preemption off, IRQs on — around kvmppc_do_h_enter.
 */
export function* kvmppc_virtmode_do_h_enter(
  k: TK,
  kvm: Kvm,
  flags: bigint,
  pte_index: number,
  pteh: bigint,
  ptel: bigint,
): Gen<number> {
  const mm = (k.m.ext.thpKvm as { mm: MmStruct }).mm;
  k.local(E_VM_PGDIR);
  yield;
  yield* k.rcu_read_lock_sched();
  const r = yield* k.kvmppc_do_h_enter(kvm, flags, pte_index, pteh, ptel, mm.pgd, false);
  yield* k.rcu_read_unlock_sched();
  return r.ret;
}

/**
 * kvmppc_h_enter (book3s_hv_rm_mmu.c, v4.1): the guest's real-mode H_ENTER, with vcpu->arch.pgdir (current->mm->pgd,
 * set when the vcpu entered: qemu's mm here) and realmode = true; the slot used goes back in gpr[4].
 */
export function* kvmppc_h_enter(
  k: TK,
  vcpu: KvmVcpu,
  flags: bigint,
  pte_index: number,
  pteh: bigint,
  ptel: bigint,
): Gen<number> {
  const mm = (k.m.ext.thpKvm as { mm: MmStruct }).mm;
  const r = yield* k.kvmppc_do_h_enter(vcpu.kvm, flags, pte_index, pteh, ptel, mm.pgd, true);
  if (r.ret === H_SUCCESS) vcpu.arch.gpr[4] = BigInt(r.pte_index);
  return r.ret;
}

const E_HASH_UPDATE = event("__hash_page_4K", "set _PAGE_BUSY|_PAGE_ACCESSED (ldarx/stdcx.)", { cost: "atomic" });
const E_HASH_DONE = event("__hash_page_4K", "insert the HPTE; *ptep = new_pte & ~_PAGE_BUSY | _PAGE_HASHPTE", {
  cost: "hpte_insert",
});

/**
 * hash_page (hash_utils_64.c, v4.0/v4.1) after the walk (before.ts / after.ts do the walk): entered with
 * MSR_EE = 0; __hash_page_4K's busy-set / insert / busy-clear on it; a huge pmd goes to __hash_page_thp.
 * Returns 0 (done or retry) or 1 (page fault).
 */
export function* hash_page_tail(k: TK, ptep: Ptep | PmdPtep | null, access: number): Gen<number> {
  if (ptep === null) return 1;
  // hash_page: pmd_trans_huge → __hash_page_thp; another leaf (hugetlbfs) → __hash_page_huge (not modelled: done)
  if ("pmd" in ptep) return pmd_trans_huge(ptep.pt.ent[ptep.i]) ? yield* k.__hash_page_thp(ptep, access) : 0;
  for (;;) {
    k.inFrame(ptep.id, WRITE, ptep.pt.frame, E_HASH_UPDATE);
    yield;
    if (!pteTableOk(k, ptep.pt, "hash_page")) return 0;
    const old = ptep.v;
    if ((old & _PAGE_BUSY) !== 0) return 0; // retry the access
    if ((access & ~old) !== 0) return 1;
    ptep.v = pte_bits(old, 0, _PAGE_BUSY | _PAGE_ACCESSED);
    k.inFrame(ptep.id, WRITE, ptep.pt.frame, E_HASH_DONE);
    yield;
    if (!pteTableOk(k, ptep.pt, "hash_page")) return 0;
    ptep.v = pte_bits(ptep.v, _PAGE_BUSY, _PAGE_HASHPTE);
    return 0;
  }
}

/**
 * The walk both trees have (hugetlbpage.c: the v4.0 find_linux_pte_or_hugepte, read in the context of a June
 * 2015 patch; 691e95fd renames it __find_linux_pte_or_hugepte): each level read once into a local; pgd none →
 * NULL (the pud is folded); pmd none (a collapse in progress) or splitting → NULL; pmd_huge || pmd_large →
 * (pte_t *)pmdp with *shift = PMD_SHIFT; else pte_offset_kernel on the local pmd (the caller reads *ptep).
 */
export function* walk_linux_pte(k: TK, pgdir: PtPage, ea: number, shift: { v: number }): Gen<Ptep | PmdPtep | null> {
  const w = pgdir.w;
  shift.v = 0;
  const pgd = yield* pt_entry_get_lockless(k, pgdir, w.index(pgdir.level, ea), "find_linux_pte_or_hugepte");
  if (pgd === undefined || pgd === 0) return null;
  const pmdt = w.child(pgd)!;
  const i = w.index(PMD_LEVEL, ea);
  const pmd = yield* pt_entry_get_lockless(k, pmdt, i, "find_linux_pte_or_hugepte");
  if (pmd === undefined || pmd_none(pmd) || pmd_trans_splitting(pmd)) return null;
  if (pmd_huge(pmd) || pmd_large(pmd)) {
    shift.v = hostGeometry(k.m).PMD_SHIFT;
    return { pmd: true, pt: pmdt, i };
  }
  return w.child(pmd)!.pteps[w.index(PTE_LEVEL, ea)];
}
