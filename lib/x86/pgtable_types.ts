// Models the x86 Linux PTE bits (arch/x86/include/asm/pgtable_types.h) as a layout generic mm code reads.

import type { PteLayout } from "../mm/pgtable";

export const X86: PteLayout = {
  name: "x86",
  PRESENT: 0x1,
  RW: 0x2,
  USER: 0x4,
  ACCESSED: 0x20,
  DIRTY: 0x40,
  HASHPTE: 0,
  BUSY: 0,
  HIDX_SHIFT: 0,
  HPTEFLAGS: 0,
  RPN_SHIFT: 12,
};
