// Models the generic PTE accessors of include/asm-generic/pgtable.h and linux/mm.h (pte_present, pte_dirty,
// pfn_pte…) over an architecture's bit layout: generic mm code reads bits only through a PteLayout, so the same
// zap/fault code runs on ppc64 (lib/powerpc/pgtable_ppc64.ts) and x86 (lib/x86/pgtable_types.ts).

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
  /** PFN position (ppc64 4K: 17, x86: 12); the frame number may pass bit 31 (see pte_bits). */
  readonly RPN_SHIFT: number;
}

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
// PTE values are numbers below 2^53: the flag bits sit below RPN_SHIFT (so below bit 32) and the frame number
// above it, where it may pass bit 31 — as on the 64-bit kernel. JavaScript's bit operators work on 32 bits, so
// changing flags goes through pte_bits, which keeps the high part.
const TWO32 = 4294967296;

/** The PTE with the flag bits `clear` cleared and `set` set (both below bit 32); the frame number is kept. */
export function pte_bits(v: number, clear: number, set: number): number {
  const lo = v % TWO32;
  return v - lo + (((lo & ~clear) | set) >>> 0);
}

/** pte_same, ignoring the flag bits `ignore`: equal frame numbers (all bits) and equal other flags. */
export function pte_same_except(a: number, b: number, ignore: number): boolean {
  return Math.floor(a / TWO32) === Math.floor(b / TWO32) && (((a % TWO32) ^ (b % TWO32)) & ~ignore) === 0;
}

// 2^n by table for the shifts layouts use (the same doubles `2 ** n` gives, without a pow per PTE access).
const POW2: readonly number[] = Array.from({ length: 64 }, (_, i) => 2 ** i);
const pow2 = (n: number): number => POW2[n] ?? 2 ** n;

/** Frames a PTE of layout L can name in this model (a 53-bit number with the RPN at L.RPN_SHIFT). */
export const max_pfn = (L: PteLayout): number => pow2(53 - L.RPN_SHIFT);

// The accessors take the layout last: `pte_dirty(v, L)` reads like the kernel's pte_dirty(pte).
export const pte_none = (v: number): boolean => v === 0;
export const pte_present = (v: number, L: PteLayout): boolean => (v & L.PRESENT) !== 0;
export const pte_write = (v: number, L: PteLayout): boolean => (v & L.RW) !== 0;
export const pte_dirty = (v: number, L: PteLayout): boolean => (v & L.DIRTY) !== 0;
export const pte_young = (v: number, L: PteLayout): boolean => (v & L.ACCESSED) !== 0;
export const pte_pfn = (v: number, L: PteLayout): number => Math.floor(v / pow2(L.RPN_SHIFT));
export const pte_mkdirty = (v: number, L: PteLayout): number => pte_bits(v, 0, L.DIRTY);
export const pte_mkclean = (v: number, L: PteLayout): number => pte_bits(v, L.DIRTY, 0);
export const pte_mkwrite = (v: number, L: PteLayout): number => pte_bits(v, 0, L.RW);
export const pte_wrprotect = (v: number, L: PteLayout): number => pte_bits(v, L.RW, 0);
export const pte_mkyoung = (v: number, L: PteLayout): number => pte_bits(v, 0, L.ACCESSED);
/** pfn_pte: a present user PTE for `pfn` with extra protection bits. */
export function pfn_pte(pfn: number, prot: number, L: PteLayout): number {
  if (pfn < 0 || pfn >= max_pfn(L)) throw new RangeError(`pfn ${pfn} does not fit a PTE (max ${max_pfn(L) - 1})`);
  return pfn * pow2(L.RPN_SHIFT) + ((L.PRESENT | L.USER | prot) >>> 0);
}

/** Human-readable PTE, e.g. `pfn 3 P|U|RW|D|HASH(hidx 0xa)` (the hidx nibble where the layout has HASHPTE). */
export function pte_str(v: number, L: PteLayout): string {
  if (v === 0) return "none";
  const f: string[] = [];
  if (v & L.PRESENT) f.push("P");
  if (v & L.USER) f.push("U");
  if (v & L.RW) f.push("RW");
  if (v & L.DIRTY) f.push("D");
  if (v & L.ACCESSED) f.push("A");
  if (L.BUSY && v & L.BUSY) f.push("BUSY");
  if (L.HASHPTE && v & L.HASHPTE) f.push(`HASH(hidx 0x${((v >>> L.HIDX_SHIFT) & 0xf).toString(16)})`);
  return `pfn ${pte_pfn(v, L)} ${f.join("|")}`;
}
