// Fix 004's later history as a scenario, thp-pmd-clear: CPU 0 is qemu restoring a guest HPTE (kvm_htab_write →
// kvmppc_virtmode_do_h_enter), whose walk finds the backing range mapped by a huge pmd; CPU 1 is another qemu
// thread dropping the range (madvise(MADV_DONTNEED): zap_huge_pmd), CPU 2 a third touching it, faulted in as a
// small page once the pmd is none, so the pmd goes huge → none → table pointer. Threads only. Harm: the walker reads its (pte_t *)pmdp
// after the pmd became a table pointer (pmd-as-pte), or a valid guest HPTE maps a freed page (stale-hpte).
// Variants: v4.1 (691e95fd, no IPI after the clear), 13bd817bb884 (the IPI), 2020 (the IPI gone again, KVM's
// walk under kvm->mmu_lock with find_kvm_host_pte). Removing the IPI alone is v4.1 again: it needed the walk moved.

import { oneOf } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import type { ScenarioInstance } from "../../explore/scenario";
import type { Gen, Machine } from "../../sim/machine";
import { defineSources } from "../../sim/sources";
import { MmWorld, PMD_LEVEL } from "../../mm/mm_types";
import type { MmStruct } from "../../mm/mm_types";
import { Kvm, KvmWorld, H_EXACT, GUEST_VSID } from "../../kvm/index";
import { HPTE_V_VALID, PP_RW, guest_vpn, hpte_encode_avpn } from "../../hw/power7";
import { _PAGE_PRESENT, _PAGE_USER } from "../../powerpc/pgtable_ppc64";
import * as era from "./era";
import * as later from "./later";
import * as pgtable2015 from "./pgtable_64_2015";
import { thpWalkIrqOps, check_no_stale_hpte, THP_BASE } from "./scenario";
import type { TK } from "./era";
import type { LK } from "./later";

defineSources(__dirname, { later, pgtable_64_2015: pgtable2015 });

/** KVM's smallest HPT (PPC_MIN_HPT_ORDER). */
const HPT_ORDER = 18;
/** The guest address the restored HPTE maps. */
const GUEST_EA = 0x1000;

/** 691e95fd's kernel (v4.1) with MADV_DONTNEED and the small-page fault, the notifiers under kvm->mmu_lock. */
export const thpPmdClearOps = {
  ...thpWalkIrqOps,
  mmu_notifier_invalidate_range_start: later.mmu_notifier_invalidate_range_start,
  mmu_notifier_invalidate_range_end: later.mmu_notifier_invalidate_range_end,
  kvmppc_read_update_linux_pte: later.kvmppc_read_update_linux_pte,
  pmdp_get_and_clear: later.pmdp_get_and_clear,
  zap_huge_pmd: later.zap_huge_pmd,
  madvise_dontneed: later.madvise_dontneed,
  fault_small_page: later.fault_small_page,
  find_kvm_host_pte: later.find_kvm_host_pte,
};

/** Each commit of the later history, as what it installs over v4.1. */
export const thpPmdClearVariants = {
  /** 691e95fd alone (v4.1-rc): IRQ-off walkers, no IPI when a huge pmd is cleared. */
  before: {},
  /** 13bd817bb884: kick_all_cpus_sync at the end of pmdp_get_and_clear. */
  after: { pmdp_get_and_clear: pgtable2015.pmdp_get_and_clear },
  /**
   * The 2020 series: "Avoid sending IPI on clearing PMD" reverts 13bd817 (pmdp_get_and_clear is v4.1's again),
   * after kvmppc_do_h_enter moved to find_kvm_host_pte under kvm->mmu_lock.
   */
  "2020": { kvmppc_do_h_enter: later.kvmppc_do_h_enter },
};

interface Guest {
  readonly kvm: Kvm;
  readonly mm: MmStruct;
  readonly pte_index: number;
  readonly pteh: bigint;
  readonly ptel: bigint;
}

/** qemu's guest memory [THP_BASE, +2 pages) mapped by one huge pmd, its PTE page deposited beside it. */
export function hugeBackedGuest(m: Machine): { w: MmWorld; g: Guest } {
  const w = new MmWorld(m, { frames: 10, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2, layout: era.PPC64_64K });
  const kw = new KvmWorld(m, { frames: 1 });
  const mm = w.mm_alloc("qemu");
  w.mmap_anon(mm, THP_BASE, 2);
  const deposit = w.buildTables(mm, THP_BASE).pt; // the PTE page a collapse deposited (empty: slots zeroed)
  const pmdt = w.child(mm.pgd.ent[w.index(0, THP_BASE)])!;
  const i = w.index(PMD_LEVEL, THP_BASE);
  const huge = w.pa.take("thp");
  w.page(huge).mapcount = 1;
  pmdt.ent[i] = era.mk_huge_pmd(huge);
  const s = era.thp(m);
  s.deposited.set(pmdt.base + i, deposit);
  s.depositedTables.add(deposit);
  deposit.frame.use = "deposited pgtable (THP hash-slot array)";
  const kvm = new Kvm(kw, 1, 1, HPT_ORDER, 2);
  m.ext.thpKvm = { mm, kvm };
  m.ext.thpHvaBase = THP_BASE;
  w.current_mm[0] = mm;
  w.current_mm[1] = mm;
  const vpn = guest_vpn(GUEST_VSID, GUEST_EA);
  return {
    w,
    g: {
      kvm,
      mm,
      pte_index: kvm.arch.hpt.group(vpn, false),
      pteh: hpte_encode_avpn(vpn) | HPTE_V_VALID,
      ptel: PP_RW,
    },
  };
}

export const thpPmdClearParams = {
  walker: oneOf(
    ["htab_write", "hash_page"] as const,
    "htab_write",
    "CPU 0's walk: kvm_htab_write's virtual-mode H_ENTER, or the host's hash_page (MSR_EE = 0) on the huge pmd",
  ),
};
export type ThpPmdClearParams = ParamsOf<typeof thpPmdClearParams>;

/** CPU 0: a hash miss on the huge page (MSR_EE = 0): __hash_page_thp under _PAGE_BUSY. */
export function* hash_fault_thread(k: TK, mm: MmStruct): Gen {
  yield* era.hard_irq_entry(k);
  yield* k.hash_page(mm, THP_BASE, _PAGE_PRESENT | _PAGE_USER);
  yield* era.hard_irq_return(k);
}

/** CPU 0: kvm_htab_write restoring one guest HPTE for guest page 0. */
export function* htab_write_thread(k: TK, g: Guest): Gen {
  yield* k.kvmppc_virtmode_do_h_enter(g.kvm, H_EXACT, g.pte_index, g.pteh, g.ptel);
}

/** CPU 1: madvise(MADV_DONTNEED) over the huge page (mmap_sem held for read, so faults run meanwhile). */
export function* dontneed_thread(k: LK, mm: MmStruct): Gen {
  yield* k.madvise_dontneed(mm, THP_BASE);
}

/** CPU 2: another thread of qemu touching the range: a hit while the pmd is huge, else a small-page fault. */
export function* refault_thread(k: LK, mm: MmStruct): Gen {
  yield* k.fault_small_page(mm, THP_BASE);
}

function build(k: TK, m: Machine, p: ThpPmdClearParams): ScenarioInstance {
  era.useLazyIrqs(m); // ppc64 of v4.x: lazy (soft) IRQ disabling
  const { w, g } = hugeBackedGuest(m);
  if (p.walker === "htab_write") m.spawn(0, "htab_write", htab_write_thread(k, g));
  else m.spawn(0, "hash_page", hash_fault_thread(k, g.mm));
  m.spawn(1, "madvise", dontneed_thread(k as LK, g.mm));
  m.spawn(2, "fault", refault_thread(k as LK, g.mm));
  return { final: () => check_no_stale_hpte(k, w, g.kvm) };
}

export const thpPmdClear = defineScenario({
  id: "thp-pmd-clear",
  fix: "thp-walk-irq",
  title: "KVM's H_ENTER walk against MADV_DONTNEED of a huge pmd and a small-page refault (later history)",
  description:
    "CPU 0 restores a guest HPTE (kvm_htab_write: local_irq_save around the walk since 691e95fd) and finds a huge " +
    "pmd; CPU 1 zaps it (MADV_DONTNEED) while CPU 2 faults the range back as a small page, so the pmd becomes a table " +
    "pointer. v4.1: no IPI after the clear, and the walker reads the table pointer through its (pte_t *)pmdp; " +
    "13bd817bb884 waits for it with kick_all_cpus_sync; 2020 drops the IPI and walks under kvm->mmu_lock.",
  ops: thpPmdClearOps,
  variants: thpPmdClearVariants,
  machine: { cpus: 3 },
  bounds: { preemptions: 2, depth: 3, maxSteps: 2000 },
  params: thpPmdClearParams,
  setup: (k, m, p) => build(k as unknown as TK, m, p),
});
