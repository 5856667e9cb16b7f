// Models the Linux PTE bits of include/asm-powerpc/pgtable-ppc64.h + pgtable-4k.h (v2.6.22, 4K pages): the
// ppc64 software bits (_PAGE_HASHPTE, _PAGE_BUSY, the hidx nibble) and the layout generic mm code reads them by.

import type { PteLayout } from "../mm/pgtable";
import { pte_bits } from "../mm/pgtable";

export const _PAGE_PRESENT = 0x1;
export const _PAGE_USER = 0x2;
export const _PAGE_EXEC = 0x4;
export const _PAGE_GUARDED = 0x8;
export const _PAGE_COHERENT = 0x10;
export const _PAGE_NO_CACHE = 0x20;
export const _PAGE_WRITETHRU = 0x40;
export const _PAGE_DIRTY = 0x80;
export const _PAGE_ACCESSED = 0x100;
export const _PAGE_RW = 0x200;
export const _PAGE_HASHPTE = 0x400;
export const _PAGE_BUSY = 0x800;
export const _PAGE_SECONDARY = 0x8000;
export const _PAGE_GROUP_IX = 0x7000;
export const _PAGE_HPTEFLAGS = _PAGE_BUSY | _PAGE_HASHPTE | _PAGE_SECONDARY | _PAGE_GROUP_IX;
export const _PTEIDX_SECONDARY = 0x8;
export const _PTEIDX_GROUP_IX = 0x7;
/** PFN position on ppc64 4K: frame numbers sit above bit 17 of the 64-bit PTE. */
export const PTE_RPN_SHIFT = 17;

export const PPC64: PteLayout = {
  name: "ppc64-2007",
  PRESENT: _PAGE_PRESENT,
  USER: _PAGE_USER,
  RW: _PAGE_RW,
  DIRTY: _PAGE_DIRTY,
  ACCESSED: _PAGE_ACCESSED,
  HASHPTE: _PAGE_HASHPTE,
  BUSY: _PAGE_BUSY,
  HIDX_SHIFT: 12,
  HPTEFLAGS: _PAGE_HPTEFLAGS,
  RPN_SHIFT: PTE_RPN_SHIFT,
};

/** The saved hidx nibble of a PTE (__rpte_to_hidx for a non-combo 4K page). */
export const pte_hidx = (v: number): number => (v >>> 12) & 0xf;
/** The PTE with the hidx nibble replaced. */
export const pte_set_hidx = (v: number, hidx: number): number =>
  pte_bits(v, _PAGE_SECONDARY | _PAGE_GROUP_IX, (hidx & 0xf) << 12);
