// Fix 004, thp-walk-irq: 691e95fd7396 "powerpc/mm/thp: Make page table walk safe against thp split/collapse"
// (2015; v4.1 or v4.2: see the README). CPU 0 walks the host page tables for the page backing a guest page — a
// virtual-mode H_ENTER (qemu restoring a guest HPT through kvm_htab_write: kvmppc_virtmode_do_h_enter, IRQs on),
// the guest's own H_ENTER in real mode (MSR_EE = 0; on a secondary thread of a running vcore, vcore.ts), or the
// host's hash_page (MSR_EE = 0) — while CPU 1 collapses the 2-page range into a huge page (collapse_huge_page) or
// splits a THP (split_huge_page). The guest page size (4K/64K/16M) and the host backing (small pages, THP,
// hugetlbfs) are parameters, so every return of kvmppc_do_h_enter is reached. Threads only.
// Harm: a walker reading or updating in place a PTE page that has been deposited (it holds the huge page's
// hash-slot array) or freed; a hash-slot array written after its page was withdrawn; a task returning to user
// space with IRQs off; and, at the end, a valid guest HPTE that maps a freed host page (what mmu_notifier_retry
// is there to prevent).

import { bool, oneOf } from "../../explore/params";
import { ModelError } from "../../sim/model_error";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import type { ScenarioInstance } from "../../explore/scenario";
import type { Gen, Machine } from "../../sim/machine";
import { defineSources } from "../../sim/sources";
import { PAGE_ALLOCATED } from "../../sim/page_alloc";
import { MmWorld, PMD_LEVEL } from "../../mm/mm_types";
import type { MmStruct } from "../../mm/mm_types";
import { pfn_pte } from "../../mm/pgtable";
import { _PAGE_USER, _PAGE_RW, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT } from "../../powerpc/pgtable_ppc64";
import { kvmOps, Kvm, KvmVcpu, KvmppcVcore, KvmWorld, H_EXACT, GUEST_VSID, hret } from "../../kvm/index";
import { HPTE_V_VALID, HPTE_V_LARGE, PP_RW, guest_vpn, hpte_encode_avpn } from "../../hw/power7";
import { kvmLocalGlobalAfter } from "../kvm-local-global/scenario";
import { global_invalidates } from "../kvm-local-global/after";
import { kvmppc_check_need_tlb_flush } from "../kvm-local-global/later";
import * as era from "./era";
import * as before from "./before";
import * as after from "./after";
import * as vcore from "./vcore";
import type { TK } from "./era";

defineSources(__dirname, { era, before, after, vcore });

/** The host address of guest page 0 (memslot userspace_addr): pgd entry 1, pmd entry 0 of the small tables. */
export const THP_BASE = 0x4000;
/** KVM's smallest HPT (PPC_MIN_HPT_ORDER). */
const HPT_ORDER = 18;
/** The guest address the restored HPTE maps. */
const GUEST_EA = 0x1000;

/** The functions 691e95fd changes, as its parent had them. */
export const thpWalkIrqBefore = {
  find_linux_pte_or_hugepte: before.find_linux_pte_or_hugepte,
  kvmppc_do_h_enter: before.kvmppc_do_h_enter,
  hash_page: before.hash_page,
};

/** 691e95fd's versions (the op table's defaults). */
export const thpWalkIrqAfter = {
  find_linux_pte_or_hugepte: after.find_linux_pte_or_hugepte,
  __find_linux_pte_or_hugepte: after.__find_linux_pte_or_hugepte,
  kvmppc_do_h_enter: after.kvmppc_do_h_enter,
  hash_page: after.hash_page,
};

/** HV KVM (v3.7 base, fix 003's after functions, unused here) + the v4.x era of this fix. */
export const thpWalkIrqOps = {
  ...kvmOps,
  ...kvmLocalGlobalAfter,
  global_invalidates,
  kvmppc_check_need_tlb_flush,
  arch_local_irq_save: era.arch_local_irq_save,
  arch_local_irq_restore: era.arch_local_irq_restore,
  ...thpWalkIrqAfter,
  kvmppc_read_update_linux_pte: era.kvmppc_read_update_linux_pte,
  kvmppc_virtmode_do_h_enter: era.kvmppc_virtmode_do_h_enter,
  kvmppc_h_enter: era.kvmppc_h_enter,
  collapse_huge_page: era.collapse_huge_page,
  pmdp_clear_flush: era.pmdp_clear_flush,
  kick_all_cpus_sync: era.kick_all_cpus_sync,
  flush_tlb_pmd_range: era.flush_tlb_pmd_range,
  __collapse_huge_page_copy: era.__collapse_huge_page_copy,
  pgtable_trans_huge_deposit: era.pgtable_trans_huge_deposit,
  pgtable_trans_huge_withdraw: era.pgtable_trans_huge_withdraw,
  split_huge_page: era.split_huge_page,
  pmdp_splitting_flush: era.pmdp_splitting_flush,
  pmdp_invalidate: era.pmdp_invalidate,
  __split_huge_page_map: era.__split_huge_page_map,
  __hash_page_thp: era.__hash_page_thp,
  guest_exit_cont: vcore.guest_exit_cont,
  mmu_notifier_invalidate_range_start: era.mmu_notifier_invalidate_range_start,
  mmu_notifier_invalidate_range_end: era.mmu_notifier_invalidate_range_end,
};

export const thpWalkIrqVariants = { before: thpWalkIrqBefore, after: {} };

export const thpWalkIrqParams = {
  walker: oneOf(
    ["htab_write", "real_mode", "real_mode_secondary", "hash_page"] as const,
    "htab_write",
    "the walk: kvm_htab_write's virtual-mode H_ENTER, the guest's real-mode H_ENTER on the primary thread (CPU 0) " +
      "or on a secondary thread (CPU 1, offline to the host, while CPU 0 runs the vcore's primary), or hash_page",
  ),
  other: oneOf(
    ["collapse", "split", "none"] as const,
    "collapse",
    "CPU 1: khugepaged's collapse_huge_page, split_huge_page of a THP, or nothing (a lone H_ENTER)",
  ),
  backing: oneOf(
    ["small", "thp", "hugetlb"] as const,
    "small",
    "the host memory under guest page 0: small pages in a PTE table, a THP (huge pmd, deposited page), or a " +
      "hugetlbfs 16M page (leaf pmd without _PAGE_THP_HUGE)",
  ),
  hostPage: oneOf(["64K", "4K"] as const, "64K", "the host kernel's PAGE_SIZE (THP needs 64K in this era)"),
  guestPage: oneOf(
    ["4K", "64K", "16M", "bad-lp", "mmio"] as const,
    "4K",
    "the guest HPTE's page size (POWER7: 4K, 64K, 16M), an LP field no size encodes, or a gpa outside the memslot",
  ),
  exact: bool(true, "H_EXACT (what both virtual-mode callers pass); false searches the PTEG for a free slot"),
  slotBusy: bool(false, "the HPTE slot (H_EXACT) or the whole PTEG is already in use: H_PTEG_FULL"),
};
export type ThpWalkIrqParams = ParamsOf<typeof thpWalkIrqParams>;

interface Guest {
  readonly kvm: Kvm;
  /** The vcpu whose guest issues the real-mode H_ENTER (its pgdir: qemu's mm). */
  readonly vcpu: KvmVcpu;
  readonly mm: MmStruct;
  readonly flags: bigint;
  readonly pte_index: number;
  readonly pteh: bigint;
  readonly ptel: bigint;
}

const PROT = _PAGE_PRESENT | _PAGE_USER | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;

/** The guest HPTE for guest page 0 (or, for mmio, a gpa past the memslot) of the chosen size. */
function guestHpte(guestPage: ThpWalkIrqParams["guestPage"], vpn: number): { pteh: bigint; ptel: bigint } {
  const avpn = hpte_encode_avpn(vpn) | HPTE_V_VALID;
  const large = avpn | HPTE_V_LARGE;
  switch (guestPage) {
    case "4K":
      return { pteh: avpn, ptel: PP_RW };
    case "64K":
      return { pteh: large, ptel: era.hpte_lp(era.MMU_PAGE_64K, era.MMU_PAGE_64K) | PP_RW };
    case "16M":
      return { pteh: large, ptel: era.hpte_lp(era.MMU_PAGE_16M, era.MMU_PAGE_16M) | PP_RW };
    case "bad-lp":
      return { pteh: large, ptel: (0xffn << 12n) | PP_RW }; // no POWER7 size encodes LP = 0xff
    case "mmio":
      return { pteh: avpn, ptel: (0x100n << 12n) | PP_RW }; // guest page 0x100: no memslot there
  }
}

function build(k: TK, m: Machine, p: ThpWalkIrqParams): ScenarioInstance {
  era.useLazyIrqs(m); // ppc64 of v4.x: lazy (soft) IRQ disabling
  if (p.backing === "thp" && p.hostPage !== "64K")
    throw new ModelError("backing=thp needs hostPage=64K: THP on ppc64 hash of this era requires 64K pages");
  if (p.other === "split" && p.backing !== "thp") throw new ModelError("other=split needs backing=thp");
  const w = new MmWorld(m, { frames: 8, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2, layout: era.PPC64_64K });
  const kw = new KvmWorld(m, { frames: 1 });
  const mm = w.mm_alloc("qemu");
  w.mmap_anon(mm, THP_BASE, 2);
  m.ext.thpHost = { PAGE_SIZE: p.hostPage === "64K" ? 0x10000 : 0x1000, PMD_SHIFT: 24 };
  // qemu's guest memory: two small pages, faulted in and dirty (what khugepaged collapses) ...
  const ptes = [0, 1].map((i) => w.buildTables(mm, THP_BASE + i * 4096));
  if (p.backing === "small") {
    for (const ptep of ptes) {
      const f = w.pa.take("anon");
      ptep.v = pfn_pte(f.pfn, PROT, era.PPC64_64K);
      w.page(f).mapcount = 1;
    }
  } else {
    // ... or one huge page: the PTE page is deposited (THP) or not used (hugetlbfs); the pmd is a leaf
    const f = w.pa.take(p.backing === "thp" ? "thp" : "hugetlb");
    w.page(f).mapcount = 1;
    const pt = ptes[0].pt;
    const pmdt = w.child(mm.pgd.ent[w.index(0, THP_BASE)])!;
    const i = w.index(PMD_LEVEL, THP_BASE);
    if (p.backing === "thp") {
      const s = era.thp(m);
      s.deposited.set(pmdt.base + i, pt);
      s.depositedTables.add(pt);
      pt.frame.use = "deposited pgtable (THP hash-slot array)";
      pmdt.ent[i] = era.mk_huge_pmd(f);
    } else pmdt.ent[i] = era.mk_huge_pmd(f) - era._PAGE_THP_HUGE;
  }
  const kvm = new Kvm(kw, 1, 1, HPT_ORDER, 2);
  m.ext.thpKvm = { mm, kvm };
  m.ext.thpHvaBase = THP_BASE;
  w.current_mm[0] = mm;
  const vpn = guest_vpn(GUEST_VSID, GUEST_EA);
  const pte_index = kvm.arch.hpt.group(vpn, false);
  if (p.slotBusy) {
    // another HPTE already in the slot (H_EXACT) or in all 8 slots of the group
    const n = p.exact ? 1 : 8;
    for (let j = 0; j < n; j++) kvm.arch.hpt.set0((pte_index & ~7) + (p.exact ? pte_index & 7 : j), HPTE_V_VALID);
  }
  const vcpu = new KvmVcpu(m, kvm, 0, new KvmppcVcore(m, kvm, 0), []);
  const g: Guest = { kvm, vcpu, mm, flags: p.exact ? H_EXACT : 0n, pte_index, ...guestHpte(p.guestPage, vpn) };
  // POWER7 HV KVM: a vcore on core 0 (CPUs 0-1); the host's secondary threads are offline; CPU 2 is core 1's primary
  const sec = p.walker === "real_mode_secondary";
  if (sec) m.ext.thpOnline = 0b0101;
  if (sec) {
    vcore.vcoreThreads(m, 2); // both threads entered the guest together (kvmppc_run_core)
    m.spawn(0, "vcore primary", vcore.kvmppc_vcore_primary(k));
    m.spawn(1, "secondary H_ENTER", secondary_thread(k, g));
  } else m.spawn(0, p.walker, walker_thread(k, g, p.walker));
  const other = sec ? 2 : 1;
  if (p.other === "collapse") m.spawn(other, "khugepaged", khugepaged_thread(k, mm));
  else if (p.other === "split") m.spawn(other, "split", split_thread(k, mm));
  return { final: () => check_no_stale_hpte(k, w, kvm), observe: () => observe(m) };
}

/** The walker's H_ENTER return code and CPU 0's IRQ state at the end: what the coverage test collects. */
function observe(m: Machine): string {
  const rets = hEnterRets(m).map((r) => hret(r));
  const p = era.paca(m, 0);
  return `${rets.join(",") || "-"} soft_enabled=${p.soft_enabled}`;
}

/** H_ENTER's return codes, per walker run (ghost, for tests). */
export function hEnterRets(m: Machine): number[] {
  return ((m.ext.thpRets as number[] | undefined) ??= []);
}

/** CPU 0: the walk of the host page tables for guest page 0's backing, in the chosen context. */
export function* walker_thread(k: TK, g: Guest, walker: ThpWalkIrqParams["walker"]): Gen {
  if (walker === "htab_write") {
    hEnterRets(k.m).push(yield* k.kvmppc_virtmode_do_h_enter(g.kvm, g.flags, g.pte_index, g.pteh, g.ptel));
  } else if (walker === "real_mode") {
    yield* era.hard_irq_entry(k); // the guest's hcall: MSR_EE = 0 until it returns to the guest
    hEnterRets(k.m).push(yield* k.kvmppc_h_enter(g.vcpu, g.flags, g.pte_index, g.pteh, g.ptel));
    yield* era.hard_irq_return(k);
  } else {
    yield* era.hard_irq_entry(k); // a hash miss on THP_BASE: the exception enters with MSR_EE = 0
    yield* k.hash_page(g.mm, THP_BASE, _PAGE_PRESENT | _PAGE_USER);
    yield* era.hard_irq_return(k);
  }
}

/** CPU 1, a secondary thread of the vcore's core: the guest's H_ENTER in real mode. */
export function* secondary_thread(k: TK, g: Guest): Gen {
  hEnterRets(k.m).push(yield* vcore.hcall_try_real_mode(k, g.vcpu, g.flags, g.pte_index, g.pteh, g.ptel));
}

/** CPU 1: khugepaged collapses the range (mmap_sem held for write: no fault can repopulate it meanwhile). */
export function* khugepaged_thread(k: TK, mm: MmStruct): Gen {
  yield* k.collapse_huge_page(mm, THP_BASE);
}

/** CPU 1: something splits the THP (a partial munmap or mprotect, swap-out, or khugepaged's own split_huge_page). */
export function* split_thread(k: TK, mm: MmStruct): Gen {
  yield* k.split_huge_page(mm, THP_BASE);
}

/** At the end: every valid HPTE the walk wrote maps a host page still in the lifetime it was read in. */
export function check_no_stale_hpte(k: TK, _w: MmWorld, kvm: Kvm): void {
  const hpt = kvm.arch.hpt;
  const frames = era.hpteFrames(k.m);
  for (const i of kvm.arch.revmap.keys()) {
    if ((hpt.get0(i) & HPTE_V_VALID) === 0n) continue;
    const f = frames.get(i);
    if (f === undefined) continue;
    if (f.state !== PAGE_ALLOCATED || f.gen !== hpt.gen.get(i)) {
      k.violation("stale-hpte", `guest HPTE ${i} maps host pfn ${f.pfn}, which the collapse freed`);
      return;
    }
  }
}

export const thpWalkIrq = defineScenario({
  id: "thp-walk-irq",
  fix: "thp-walk-irq",
  title: "a host page-table walk for KVM's H_ENTER against a THP collapse",
  description:
    "CPU 0 walks the host page tables for a guest page's backing (kvm_htab_write's virtual-mode H_ENTER, the guest's " +
    "real-mode H_ENTER, or hash_page) while khugepaged collapses the range. Before 691e95fd the virtual-mode walk " +
    "runs with IRQs on, so the collapse's IPI does not wait and the walk uses a PTE page already deposited; after, " +
    "local_irq_save holds the collapse off. Also: a split of a THP instead (benign: same pfn), the guest's page size " +
    "against the host backing (every return of kvmppc_do_h_enter), and a real-mode H_ENTER on a secondary thread " +
    "of a running vcore (safe because the IPI is taken only after the whole vcore has left the guest).",
  ops: thpWalkIrqOps,
  variants: thpWalkIrqVariants,
  machine: (p) => (p.walker === "real_mode_secondary" ? { cpus: 4, threadsPerCore: 2 } : { cpus: 2 }),
  params: thpWalkIrqParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 2000 },
  setup: (k, m, p) => build(k, m, p),
});
