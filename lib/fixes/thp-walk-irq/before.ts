// Fix 004's before side: the parent of 691e95fd7396 (v4.0 cycle). find_linux_pte_or_hugepte is the walk itself,
// with no check of the IRQ state, and kvmppc_do_h_enter calls it in virtual mode as in real mode: in virtual
// mode (kvmppc_virtmode_do_h_enter) only rcu_read_lock_sched is held, IRQs on, so a collapse's IPI does not
// wait for the walk, nor for the use of the pointer it returned. hash_page calls the same walk (MSR_EE = 0).

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
} from "./era";
import type { PmdPtep, TK } from "./era";

/** find_linux_pte_or_hugepte (hugetlbpage.c, v4.0): the lockless walk; its callers hold off table changes. */
export function* find_linux_pte_or_hugepte(
  k: TK,
  pgdir: PtPage,
  ea: number,
  shift: { v: number },
): Gen<Ptep | PmdPtep | null> {
  return yield* walk_linux_pte(k, pgdir, ea, shift);
}

const E_SEQ = event("kvmppc_do_h_enter", "mmu_seq = kvm->mmu_notifier_seq; smp_rmb()", { cost: "mem" });

/**
 * kvmppc_do_h_enter (book3s_hv_rm_mmu.c, v4.0): guest page size, the memslot's host address, the walk with no
 * IRQ change in either mode, the host page size against the guest's (H_PARAMETER if smaller), the PTE read and
 * updated in place, then the insert (mmu_notifier_retry under the rmap lock).
 */
export function* kvmppc_do_h_enter(
  k: TK,
  kvm: Kvm,
  flags: bigint,
  pte_index: number,
  pteh: bigint,
  ptel: bigint,
  pgdir: PtPage,
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
  let ptep: Ptep | PmdPtep | null = null;
  if (inSlot) {
    if (!slot_is_aligned(k.m, kvm, psize)) return { ret: H_PARAMETER, pte_index };
    const shift = { v: 0 };
    ptep = yield* k.find_linux_pte_or_hugepte(pgdir, hva, shift);
    if (ptep !== null) {
      const host_pte_size = shift.v !== 0 ? 2n ** BigInt(shift.v) : BigInt(hostGeometry(k.m).PAGE_SIZE);
      // We should always find the guest page size to <= host page size, if host is using hugepage
      if (host_pte_size < psize) return { ret: H_PARAMETER, pte_index };
      const pte = yield* k.kvmppc_read_update_linux_pte(ptep, writing, shift.v);
      if (pte_present(pte, PPC64_64K) && !pte_protnone(pte)) {
        if (writing && !pte_write(pte, PPC64_64K)) ptel = hpte_make_readonly(ptel); // make the HPTE read-only
        is_io = hpte_cache_bits(pte);
        frame = pteFrame(mmWorld(k.m), pte);
        pa = BigInt(frame.pfn) << 12n; // the model's frame address; hva's offset in the host page is 0 here
        pa |= gpa & 0xfffn;
      }
    }
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

/** hash_page (hash_utils_64.c, v4.0): MSR_EE = 0 from the exception; the walk, then __hash_page_4K. */
export function* hash_page(k: TK, mm: MmStruct, ea: number, access: number): Gen<number> {
  const shift = { v: 0 };
  const ptep = yield* k.find_linux_pte_or_hugepte(mm.pgd, ea, shift);
  return yield* hash_page_tail(k, ptep, access);
}
