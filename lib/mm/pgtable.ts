// Models include/asm-powerpc/pgtable-ppc64.h + pgtable-4k.h (v2.6.22, 4K pages) and, for comparisons, an
// x86-like PTE layout (arch/x86/include/asm/pgtable_types.h). Generic mm code reads bits through a layout
// object, so the same zap/fault code runs on either architecture.

/** Bit values of one architecture's Linux PTE. Bits an architecture lacks are 0. */
export interface PteLayout {
  readonly name: string;
  readonly PRESENT: number;
  readonly USER: number;
  readonly RW: number;
  readonly DIRTY: number;
  readonly ACCESSED: number;
  /** ppc64 software bit: an HPTE exists for this PTE. */
  readonly HASHPTE: number;
  /** ppc64 software lock bit taken by hash_page. */
  readonly BUSY: number;
  /** ppc64 4K: the hidx nibble (secondary + slot in group) at bits 12-15. */
  readonly HIDX_SHIFT: number;
  readonly HPTEFLAGS: number;
  /** PFN position. ppc64 4K uses 17; PFNs must stay below 2^14 so a PTE fits a positive int32. */
  readonly RPN_SHIFT: number;
}

// ---- ppc64, 2007 ----------------------------------------------------------------------------------------
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

// ---- x86-like -------------------------------------------------------------------------------------------
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

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Largest PFN a PTE can hold in this model (ppc64 4K layout in a positive int32). */
// PTE values are numbers below 2^53: the flag bits sit below RPN_SHIFT (so below bit 32) and the frame number
// above it, where it may pass bit 31 — as on the 64-bit kernel. JavaScript's bit operators work on 32 bits, so
// changing flags goes through pte_bits, which keeps the high part.
const TWO32 = 4294967296;

/** The PTE with the flag bits `clear` cleared and `set` set (both below bit 32); the frame number is kept. */
export function pte_bits(v: number, clear: number, set: number): number {
  const lo = v % TWO32;
  return v - lo + ((((lo & ~clear) | set) >>> 0));
}

/** pte_same, ignoring the flag bits `ignore`: equal frame numbers (all bits) and equal other flags. */
export function pte_same_except(a: number, b: number, ignore: number): boolean {
  return Math.floor(a / TWO32) === Math.floor(b / TWO32) && (((a % TWO32) ^ (b % TWO32)) & ~ignore) === 0;
}

/** Frames a PTE can name in this model (a 53-bit number with the RPN at bit 17). */
export const MAX_PFN = 2 ** (53 - PTE_RPN_SHIFT);

// Helpers: `L` defaults to the ppc64 layout, so `pte_dirty(v)` reads like the kernel.
export const pte_none = (v: number): boolean => v === 0;
export const pte_present = (v: number, L: PteLayout = PPC64): boolean => (v & L.PRESENT) !== 0;
export const pte_write = (v: number, L: PteLayout = PPC64): boolean => (v & L.RW) !== 0;
export const pte_dirty = (v: number, L: PteLayout = PPC64): boolean => (v & L.DIRTY) !== 0;
export const pte_young = (v: number, L: PteLayout = PPC64): boolean => (v & L.ACCESSED) !== 0;
export const pte_pfn = (v: number, L: PteLayout = PPC64): number => Math.floor(v / 2 ** L.RPN_SHIFT);
export const pte_mkdirty = (v: number, L: PteLayout = PPC64): number => pte_bits(v, 0, L.DIRTY);
export const pte_mkclean = (v: number, L: PteLayout = PPC64): number => pte_bits(v, L.DIRTY, 0);
export const pte_mkwrite = (v: number, L: PteLayout = PPC64): number => pte_bits(v, 0, L.RW);
export const pte_wrprotect = (v: number, L: PteLayout = PPC64): number => pte_bits(v, L.RW, 0);
export const pte_mkyoung = (v: number, L: PteLayout = PPC64): number => pte_bits(v, 0, L.ACCESSED);
/** pfn_pte: a present user PTE for `pfn` with extra protection bits. */
export function pfn_pte(pfn: number, prot: number, L: PteLayout = PPC64): number {
  if (pfn < 0 || pfn >= MAX_PFN) throw new RangeError(`pfn ${pfn} does not fit a PTE (max ${MAX_PFN - 1})`);
  return pfn * 2 ** L.RPN_SHIFT + ((L.PRESENT | L.USER | prot) >>> 0);
}
/** ppc64: the saved hidx nibble of a PTE (__rpte_to_hidx for a non-combo 4K page). */
export const pte_hidx = (v: number): number => (v >>> 12) & 0xf;
/** ppc64: the PTE with the hidx nibble replaced. */
export const pte_set_hidx = (v: number, hidx: number): number => pte_bits(v, _PAGE_SECONDARY | _PAGE_GROUP_IX, (hidx & 0xf) << 12);

/** Human-readable PTE, e.g. `pfn 3 P|U|RW|D|HASH(hidx 0xa)`. */
export function pte_str(v: number, L: PteLayout = PPC64): string {
  if (v === 0) return "none";
  const f: string[] = [];
  if (v & L.PRESENT) f.push("P");
  if (v & L.USER) f.push("U");
  if (v & L.RW) f.push("RW");
  if (v & L.DIRTY) f.push("D");
  if (v & L.ACCESSED) f.push("A");
  if (L.BUSY && v & L.BUSY) f.push("BUSY");
  if (L.HASHPTE && v & L.HASHPTE) f.push(`HASH(hidx 0x${pte_hidx(v).toString(16)})`);
  return `pfn ${pte_pfn(v, L)} ${f.join("|")}`;
}
