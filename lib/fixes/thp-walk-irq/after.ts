// Fix 004's after side: 691e95fd7396 "powerpc/mm/thp: Make page table walk safe against thp split/collapse"
// (Aneesh Kumar K.V, 2015). The walk becomes __find_linux_pte_or_hugepte; find_linux_pte_or_hugepte is a
// wrapper that complains (pr_info + dump_stack, then walks anyway) when called with IRQs on. kvmppc_do_h_enter
// uses the raw walk in real mode (MSR_EE = 0) and, in virtual mode, local_irq_save across the walk and the use
// of the PTE, so a split's or collapse's IPI waits for it. Its H_PARAMETER path restores `flags` — the hcall
// flags — not `irq_flags`, as upstream has it (the seed's hunk): modelled as written.

import type { Gen } from "../../sim/machine";
import type { MmStruct, PtPage, Ptep } from "../../mm/mm_types";
import { mmWorld } from "../../mm/mm_types";
import { pte_present, pte_write } from "../../mm/pgtable";
import type { PageFrame } from "../../sim/page_alloc";
import { HPTE_V_VALID } from "../../hw/power7";
import { H_PARAMETER } from "../../kvm/hvcall";
import { HPTE_V_ABSENT, HPTE_V_HVLOCK, HPTE_GR_RESERVED, hpte_is_writable } from "../../kvm/kvm_book3s_64";
import type { Kvm } from "../../kvm/index";
import { event } from "../../sim/event";
import {
  walk_linux_pte,
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
  hash_page_tail,
  ptel_with_pa,
  PPC64_64K,
  arch_irqs_disabled,
} from "./era";
import type { PmdPtep, TK } from "./era";

/** __find_linux_pte_or_hugepte (hugetlbpage.c, 691e95fd): the raw walk, for callers with MSR_EE = 0. */
export function* __find_linux_pte_or_hugepte(
  k: TK,
  pgdir: PtPage,
  ea: number,
  shift: { v: number },
): Gen<Ptep | PmdPtep | null> {
  return yield* walk_linux_pte(k, pgdir, ea, shift);
}

/** Times the wrapper found IRQs on (its pr_info + dump_stack): a count, not harm — it walks anyway. */
export const IRQ_ENABLED_WARNING = "find_linux_pte_or_hugepte called with irq enabled";

/** find_linux_pte_or_hugepte (asm/pgtable.h, 691e95fd): if (!arch_irqs_disabled()) complain; then the raw walk. */
export function* find_linux_pte_or_hugepte(
  k: TK,
  pgdir: PtPage,
  ea: number,
  shift: { v: number },
): Gen<Ptep | PmdPtep | null> {
  if (!arch_irqs_disabled(k)) {
    const m = k.m.ext as { thpWarnings?: number };
    m.thpWarnings = (m.thpWarnings ?? 0) + 1; // pr_info("%s called with irq enabled"); dump_stack()
    k.count(IRQ_ENABLED_WARNING);
  }
  return yield* k.__find_linux_pte_or_hugepte(pgdir, ea, shift);
}

const E_SEQ = event("kvmppc_do_h_enter", "mmu_seq = kvm->mmu_notifier_seq; smp_rmb()", { cost: "mem" });

/**
 * kvmppc_do_h_enter (book3s_hv_rm_mmu.c, 691e95fd): as before, but the walk is the raw one in real mode and, in
 * virtual mode, IRQs are saved off (irq_flags) from before the walk until pa is computed; both the H_PARAMETER
 * return and the normal path restore them — the former with the hcall's `flags`.
 */
export function* kvmppc_do_h_enter(
  k: TK,
  kvm: Kvm,
  flags: bigint,
  pte_index: number,
  pteh: bigint,
  ptel: bigint,
  pgdir: PtPage,
  realmode: boolean,
): Gen<{ ret: number; pte_index: number }> {
  const psize = hpte_page_size(pteh, ptel);
  let irq_flags = 0n;
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
  let ptep: Ptep | PmdPtep | null = null;
  if (inSlot) {
    if (!slot_is_aligned(k.m, kvm, psize)) return { ret: H_PARAMETER, pte_index };
    const shift = { v: 0 };
    // If we had a page table table change after lookup, we would retry via mmu_notifier_retry.
    if (realmode) ptep = yield* k.__find_linux_pte_or_hugepte(pgdir, hva, shift);
    else {
      irq_flags = yield* k.arch_local_irq_save();
      ptep = yield* k.find_linux_pte_or_hugepte(pgdir, hva, shift);
    }
    if (ptep !== null) {
      const host_pte_size = shift.v !== 0 ? 2n ** BigInt(shift.v) : BigInt(hostGeometry(k.m).PAGE_SIZE);
      // We should always find the guest page size to <= host page size, if host is using hugepage
      if (host_pte_size < psize) {
        if (!realmode) yield* k.arch_local_irq_restore(flags); // upstream: `flags`, the hcall's, not irq_flags
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
    if (!realmode) yield* k.arch_local_irq_restore(irq_flags);
    ptel = ptel_with_pa(ptel, psize, pa);
    pteh |= pa !== 0n ? HPTE_V_VALID : HPTE_V_ABSENT;
    // Check WIMG: a cacheable host page the guest maps otherwise is made M; I/O memory mapped cacheable → error
    const wimg = check_wimg(ptel, is_io);
    if (wimg === null) return { ret: H_PARAMETER, pte_index };
    ptel = wimg;
  } else {
    pteh |= HPTE_V_ABSENT; // emulated MMIO: mark with key 31
    ptel |= HPTE_R_KEY_MMIO;
  }
  return yield* h_enter_insert(k, kvm, flags, pte_index, pteh, ptel, g_ptel, gfn, mmu_seq, frame);
}

/** hash_page (hash_utils_64.c, 691e95fd): MSR_EE = 0 but soft_enabled may be 1, so the raw walk. */
export function* hash_page(k: TK, mm: MmStruct, ea: number, access: number): Gen<number> {
  const shift = { v: 0 };
  const ptep = yield* k.__find_linux_pte_or_hugepte(mm.pgd, ea, shift);
  return yield* hash_page_tail(k, ptep, access);
}
