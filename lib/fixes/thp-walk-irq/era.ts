// The v4.0/v4.1 kernel both sides of 691e95fd7396 run on, where it differs from the base model (lib/mm v3.14,
// lib/powerpc v2.6.22, lib/kvm v3.7), as a model:
//  - ppc64's lazy (soft) IRQ disabling (arch/powerpc/kernel/irq.c, asm/hw_irq.h): paca->soft_enabled (a u8),
//    flags as the `unsigned long` the arch returns, arch_local_irq_restore storing the low byte (stb) but
//    testing the whole word;
//  - transparent huge pages on ppc64 hash (asm/pgtable-ppc64.h, pgtable-ppc64-64k.h, mm/pgtable_64.c): pmd
//    states none / table / huge / splitting, the PTE page deposited beside a huge pmd (it holds the huge page's
//    hash-slot array), pmdp_clear_flush with kick_all_cpus_sync (kernel/smp.c);
//  - khugepaged's collapse_huge_page (mm/huge_memory.c) in its steps, with the MMU notifiers KVM registers
//    (virt/kvm/kvm_main.c: mmu_notifier_count/seq; mmu_notifier_retry of include/linux/kvm_host.h);
//  - kvmppc_read_update_linux_pte (asm/kvm_book3s_64.h), kvmppc_virtmode_do_h_enter (book3s_64_mmu_hv.c),
//    the part of kvmppc_do_h_enter after the host-PTE lookup (book3s_hv_rm_mmu.c), hash_page's walk.
// Scale: tables of 2 entries, so a "huge page" covers 2 small pages (HPAGE_PMD_NR = 2; the kernel's is a 16M
// page of 256 64K pages) and is one frame here. PTE bits are the base model's layout plus the two THP bits.

import type { Gen, Machine } from "../../sim/machine";
import { READ, WRITE } from "../../sim/machine";
import { event } from "../../sim/event";
import { defineCosts } from "../../sim/cost";
import type { PageFrame } from "../../sim/page_alloc";
import { GFP_KERNEL } from "../../sim/page_alloc";
import type { IrqFlags } from "../../sim/irqflags";
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
import { HPTE_V_VALID, HPTE_R_R, HPTE_R_C, HPTE_R_PP0, HPTE_R_PP, HPTE_R_RPN, PP_RO, U64 } from "../../hw/power7";
import { H_SUCCESS, H_PTEG_FULL, H_PARAMETER, H_EXACT } from "../../kvm/hvcall";
import { HPTE_V_ABSENT, HPTE_V_HVLOCK, KVMPPC_RMAP_RC_SHIFT, hpte_page_size } from "../../kvm/kvm_book3s_64";
import { add_revmap_chain_locked } from "../../kvm/book3s_hv_rm_mmu";
import type { Kvm, KvmVcpu, KK } from "../../kvm/index";

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
  mmu_notifier_invalidate_range_start(mm: MmStruct, start: number, end: number): Gen;
  mmu_notifier_invalidate_range_end(mm: MmStruct, start: number, end: number): Gen;
}

// ---- lazy (soft) IRQ disabling: arch/powerpc/kernel/irq.c, asm/hw_irq.h (v4.1) ------------------------------

/** The paca fields of one CPU the model needs: soft_enabled (a u8 in the paca) and whether MSR_EE is off. */
export interface Paca {
  soft_enabled: number;
  /** MSR_EE = 0 (an exception or the guest exit entered with EE off): the CPU takes no external interrupt. */
  hard_disabled: boolean;
}

/** This machine's pacas (built on first use: every CPU starts soft-enabled, EE on). */
export function paca(m: Machine, cpu: number): Paca {
  let p = m.ext.paca as Paca[] | undefined;
  if (p === undefined) {
    p = [];
    for (let c = 0; c < m.ncpu; c++) p.push({ soft_enabled: 1, hard_disabled: false });
    m.ext.paca = p;
  }
  return p[cpu];
}

/**
 * Map the paca onto the runtime's one IRQ flag: an interrupt is delivered only when the CPU is soft-enabled and
 * EE is on. One arriving while soft-disabled is latched (irq_happened) and replayed on enable: the runtime's
 * queue holds it until then, which is the same order of events.
 */
const runtimeIrqsOff = (p: Paca): IrqFlags => p.soft_enabled === 0 || p.hard_disabled;

/** arch_local_irq_save: flags = soft_enabled, then soft-disable (one step: a byte store to the paca). */
export function* arch_local_irq_save(k: TK): Gen<bigint> {
  const p = paca(k.m, k.cpu());
  const flags = BigInt(p.soft_enabled);
  yield* k.local_irq_restore(true);
  p.soft_enabled = 0;
  return flags;
}

/**
 * arch_local_irq_restore(unsigned long en): stores en's low byte as soft_enabled (stb), returns if en is 0, else
 * replays what was latched and hard-enables. A word whose low byte is 0 but which is not 0 leaves the CPU
 * soft-disabled (the store) even though the function goes on as for an enable (the test).
 */
export function* arch_local_irq_restore(k: TK, en: bigint): Gen {
  const p = paca(k.m, k.cpu());
  const byte = Number(en & 0xffn);
  if (en === 0n) {
    yield* k.local_irq_restore(true);
    p.soft_enabled = 0;
    return;
  }
  const hard = p.hard_disabled;
  yield* k.local_irq_restore(byte === 0 || hard);
  p.soft_enabled = byte;
}

/** arch_irqs_disabled: soft_enabled == 0 (MSR_EE is not looked at: real mode has EE off, soft_enabled 1). */
export function arch_irqs_disabled(k: TK): boolean {
  return paca(k.m, k.cpu()).soft_enabled === 0;
}

/** An exception entry with MSR_EE = 0 (hash fault, the guest's hcall to real mode): soft_enabled untouched. */
export function* hard_irq_entry(k: TK): Gen {
  const p = paca(k.m, k.cpu());
  yield* k.local_irq_restore(true);
  p.hard_disabled = true;
}

/** The return (rfid) that turns MSR_EE back on. */
export function* hard_irq_return(k: TK): Gen {
  const p = paca(k.m, k.cpu());
  p.hard_disabled = false;
  yield* k.local_irq_restore(runtimeIrqsOff(p));
}

// ---- THP on ppc64 hash: asm/pgtable-ppc64.h, pgtable-ppc64-64k.h (v3.11 to v4.4) ---------------------------

/**
 * The Linux PTE layout of ppc64 with 64K pages (pte-hash64-64k.h), which THP needs: the base model's bits, the
 * PFN above bit 30 (PTE_RPN_SHIFT), so bit 29 (_PAGE_4K_PFN) and bit 16 (_PAGE_SPECIAL) are free for THP.
 */
export const PPC64_64K: PteLayout = { ...PPC64, name: "ppc64-64k-2015", RPN_SHIFT: 30 };

/** _PAGE_THP_HUGE is _PAGE_4K_PFN on 64K pages: a leaf pmd of a THP (recalled, not read in a stored tree). */
export const _PAGE_THP_HUGE = 0x20000000;
/** _PAGE_SPLITTING reuses _PAGE_SPECIAL ("THP pages can't be special"): the value here is the model's own. */
export const _PAGE_SPLITTING = 0x10000;

/** A pmd that is a leaf: a (pmd_t *) handed back as a (pte_t *), the walker's `(pte_t *) pmdp`. */
export interface PmdPtep {
  readonly pmd: true;
  readonly pt: PtPage;
  readonly i: number;
}

/** pmd_none: no table, no huge page (what pmdp_clear_flush leaves for a collapse). */
export const pmd_none = (v: number): boolean => v === 0;
/** pmd_trans_huge: a leaf with _PAGE_THP_HUGE (a table pointer never has it). */
export const pmd_trans_huge = (v: number): boolean =>
  (v & 0x3) !== 0 && v >= _PAGE_THP_HUGE && (v & _PAGE_THP_HUGE) !== 0;
/** pmd_trans_splitting: a huge pmd that pmdp_splitting_flush has marked. */
export const pmd_trans_splitting = (v: number): boolean => pmd_trans_huge(v) && (v & _PAGE_SPLITTING) !== 0;
/** pmd_large: any leaf pmd (pmd_huge is hugetlbfs's and always 0 here). */
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
function ptepGet(p: Ptep | PmdPtep): number {
  return "pmd" in p ? p.pt.ent[p.i] : p.v;
}
function ptepSet(p: Ptep | PmdPtep, v: number): void {
  if ("pmd" in p) p.pt.ent[p.i] = v;
  else p.v = v;
}

/**
 * kvmppc_read_update_linux_pte (asm/kvm_book3s_64.h, v4.1): read *ptep; if _PAGE_BUSY spin; not present → 0;
 * else cmpxchg in the young (and, writing to a writable page, dirty) bits, retrying if the word changed.
 */
export function* kvmppc_read_update_linux_pte(
  k: TK,
  ptep: Ptep | PmdPtep,
  writing: boolean,
  _hugepage: number,
): Gen<number> {
  const { id, pt } = ptepObj(ptep);
  const L = PPC64_64K;
  for (;;) {
    k.inFrame(id, READ, pt.frame, E_PTE_READ);
    yield;
    if (pt.level === PTE_LEVEL && !pteTableOk(k, pt, "kvmppc_read_update_linux_pte")) return 0;
    const old = ptepGet(ptep);
    if ((old & _PAGE_BUSY) !== 0) continue; // cpu_relax(); the next read is another step
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

/** kick_all_cpus_sync: smp_call_function(do_nothing, NULL, 1) — waits until every other CPU took the IPI. */
export function* kick_all_cpus_sync(k: TK): Gen {
  yield* k.smp_call_function("kick_all_cpus_sync", do_nothing, null, true);
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

/**
 * The rest of kvmppc_do_h_enter once the host PTE is known (book3s_hv_rm_mmu.c, v4.1; unchanged by the fix), for
 * H_EXACT, the flag both virtual-mode callers pass: lock the exact slot, save the guest's dword 1, link the rmap
 * chain unless mmu_notifier_retry says an invalidation raced (then write an absent HPTE), write the HPTE.
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
  if ((flags & H_EXACT) === 0n) throw new Error("model: only H_EXACT (what both virtual-mode callers pass)");
  if (!(yield* k.try_lock_hpte(kvm, pte_index, HPTE_V_HVLOCK | HPTE_V_VALID | HPTE_V_ABSENT))) {
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
  hpt.set0(pte_index, pteh);
  return { ret: H_SUCCESS, pte_index };
}

/** The part of kvmppc_do_h_enter before the lookup: the guest page size, gpa, gfn and the host address. */
export function h_enter_prologue(k: TK, kvm: Kvm, pteh: bigint, ptel: bigint) {
  const psize = hpte_page_size(pteh, ptel);
  const gpa = ptel & HPTE_R_RPN & ~(psize - 1n);
  const gfn = Number(gpa >> 12n);
  const hva = (k.m.ext.thpHvaBase as number) + (gfn - kvm.memslot.base_gfn) * PAGE_SIZE;
  return { psize, gpa, gfn, hva };
}

/** The host frame a Linux PTE (or huge pmd) maps at `hva` (pa's frame; the huge page is one frame here). */
export function pteFrame(w: MmWorld, pte: number): PageFrame {
  return w.pa.frames[pte_pfn(pte, PPC64_64K)];
}

/** hpte_make_readonly (kvm_book3s_64.h), coarsened: PP = read-only (the model's guest pages have no PP0 or N). */
export function hpte_make_readonly(ptel: bigint): bigint {
  return (ptel & ~HPTE_R_PP) | PP_RO;
}

/** HPTE dword 1 for a host page (ptel &= ~(HPTE_R_PP0 - psize); ptel |= pa). */
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
 * MSR_EE = 0; __hash_page_4K's busy-set / insert / busy-clear on it; a huge pmd goes to __hash_page_thp
 * (not modelled: returns), a splitting one too. Returns 0 (done or retry) or 1 (page fault).
 */
export function* hash_page_tail(k: TK, ptep: Ptep | PmdPtep | null, access: number): Gen<number> {
  if (ptep === null) return 1;
  if ("pmd" in ptep) return 0; // __hash_page_thp: writes the deposited hash-slot array, legitimately
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
 * The walk both trees have (hugetlbpage.c, v4.0 and 691e95fd): each level read once into a local; pgd none →
 * NULL (the pud is folded); pmd none (a collapse in progress) or splitting → NULL; a leaf pmd → (pte_t *)pmdp
 * with *shift = PMD_SHIFT; else pte_offset_kernel on the local pmd (no read yet: the caller reads *ptep).
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
  if (pmd_large(pmd)) {
    shift.v = Math.log2(w.span(PMD_LEVEL));
    return { pmd: true, pt: pmdt, i };
  }
  return w.child(pmd)!.pteps[w.index(PTE_LEVEL, ea)];
}
