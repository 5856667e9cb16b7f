// The hashed page table as the POWER hardware defines and searches it (ISA 2.0x; no kernel file): PTEGs of 8
// HPTEs, the dword bits, the primary/secondary hash of a VPN. The kernel (lib/powerpc/hash.ts) inserts and
// invalidates entries; the MMU (hash_mmu.ts) searches them on a TLB miss.

import { Machine, filled } from "../sim/machine";
import { CELL_OBJECT } from "../sim/objects";

export const HPTES_PER_GROUP = 8;
export const HPTE_V_AVPN_SHIFT = 7;
export const HPTE_V_BOLTED = 0x10;
export const HPTE_V_LOCK = 0x8;
export const HPTE_V_LARGE = 0x4;
export const HPTE_V_SECONDARY = 0x2;
export const HPTE_V_VALID = 0x1;
export const HPTE_R_RPN_SHIFT = 12;
export const HPTE_R_PP = 0x3;
export const HPTE_R_N = 0x4;
export const HPTE_R_C = 0x80;
export const HPTE_R_R = 0x100;
/** PP values for user pages: 2 = read/write, 3 = read-only. */
export const PP_RW = 0x2;
export const PP_RO = 0x3;

/** The model's VA tag for a 4K page: the VPN (va >> 12) = vsid × 2^16 + page-in-segment, exact below 2^53. */
export function va_to_vpn(vsid: number, ea: number): number {
  return vsid * 65536 + Math.floor((ea % 2 ** 28) / 4096);
}

/** Low 32 bits of hpt_hash(va, 12) from a VPN: enough for any realistic htab_hash_mask. */
export function hash_of_vpn(vpn: number): number {
  const vsid = Math.floor(vpn / 65536);
  const pidx = vpn % 65536;
  return ((vsid % 4294967296) ^ pidx) >>> 0;
}

/** The hashed page table: `groups` PTEGs (a power of two) × 8 HPTEs; one shared object per PTEG. */
export class Hpt {
  readonly mask: number;
  /** Object of PTEG g is `base + g`. */
  readonly base: number;
  /**
   * VPN of each HPTE. Hardware compares only the AVPN (va >> 23) and gets the low VPN bits from which group it
   * searches; that needs htab_hash_mask ≥ 11 bits. A tiny HPT would alias pages, so the model keeps the VPN.
   */
  readonly vpn: number[];
  /** Dword v low bits: VALID, SECONDARY, LARGE, LOCK, BOLTED. */
  readonly v: number[];
  readonly rpn: number[];
  /** Dword r low bits: PP, N, C, R. */
  readonly r: number[];
  /** Frame generation at insertion (a ghost, for use-after-free). */
  readonly gen: number[];
  constructor(
    m: Machine,
    readonly groups: number,
  ) {
    if (!Number.isInteger(groups) || groups < 1 || (groups & (groups - 1)) !== 0)
      throw new RangeError(`HPT groups must be a power of two, got ${groups}`);
    this.mask = groups - 1;
    this.base = m.newObjs(groups, "pteg");
    const n = groups * HPTES_PER_GROUP;
    this.vpn = filled(n, -1);
    this.v = filled(n);
    this.rpn = filled(n);
    this.r = filled(n);
    this.gen = filled(n);
  }
  /** HPTE slot i belongs to PTEG ⌊i / 8⌋. */
  [CELL_OBJECT](_field: string, index: number): number {
    return index < 0 ? -1 : this.base + Math.floor(index / HPTES_PER_GROUP);
  }

  /** First slot of the primary (secondary=false) or secondary group of a VPN. */
  group(vpn: number, secondary: boolean): number {
    const h = hash_of_vpn(vpn);
    return ((secondary ? ~h : h) & this.mask) * HPTES_PER_GROUP;
  }
  /** PTEG object id holding `slot`. */
  obj(slot: number): number {
    return this.base + Math.floor(slot / HPTES_PER_GROUP);
  }
  /** Slot the saved hidx names for vpn (flush_hash_page's reconstruction). */
  slotOf(vpn: number, hidx: number): number {
    return this.group(vpn, (hidx & 0x8) !== 0) + (hidx & 0x7);
  }
  /** Whether slot is a valid HPTE for vpn, found by a search of the group it sits in. */
  matches(slot: number, vpn: number): boolean {
    return (this.v[slot] & HPTE_V_VALID) !== 0 && this.vpn[slot] === vpn;
  }
  /** Dword v as the hardware holds it (AVPN << 7 | flags), exact below 2^53. */
  hpte_v(slot: number): number {
    if (this.vpn[slot] < 0) return this.v[slot];
    return Math.floor(this.vpn[slot] / 2048) * 128 + this.v[slot];
  }
  /** Dword r: RPN << 12 | flags. */
  hpte_r(slot: number): number {
    return this.rpn[slot] * 4096 + this.r[slot];
  }
  /** Valid HPTEs matching vpn in its primary (H=0) and secondary (H=1) groups. */
  findAll(vpn: number): number[] {
    const out: number[] = [];
    const p = this.group(vpn, false);
    const s = this.group(vpn, true);
    for (let i = p; i < p + HPTES_PER_GROUP; i++)
      if (this.matches(i, vpn) && (this.v[i] & HPTE_V_SECONDARY) === 0) out.push(i);
    for (let i = s; i < s + HPTES_PER_GROUP; i++)
      if (this.matches(i, vpn) && (this.v[i] & HPTE_V_SECONDARY) !== 0) out.push(i);
    return out;
  }
  /** All valid HPTEs, for display and tests. */
  dump(): { slot: number; vpn: number; pfn: number; secondary: boolean; pp: number }[] {
    const out = [];
    for (let i = 0; i < this.vpn.length; i++) {
      if (this.v[i] & HPTE_V_VALID)
        out.push({
          slot: i,
          vpn: this.vpn[i],
          pfn: this.rpn[i],
          secondary: (this.v[i] & HPTE_V_SECONDARY) !== 0,
          pp: this.r[i] & HPTE_R_PP,
        });
    }
    return out;
  }
}
