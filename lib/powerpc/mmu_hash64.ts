// Models include/asm-powerpc/mmu-hash64.h (v2.6.22): VSIDs from context ids (256 MB segments), the full VA and
// its hash, and the HPTE names the header gives to the architected format of lib/hw/hpt.ts. Pure helpers; the
// code that changes the HPT is in hash.ts.

// The HPTE format and the hash are the architecture's (lib/hw/hpt.ts); the kernel header names them.
export {
  HPTES_PER_GROUP,
  HPTE_V_AVPN_SHIFT,
  HPTE_V_BOLTED,
  HPTE_V_LOCK,
  HPTE_V_LARGE,
  HPTE_V_SECONDARY,
  HPTE_V_VALID,
  HPTE_R_RPN_SHIFT,
  HPTE_R_PP,
  HPTE_R_N,
  HPTE_R_C,
  HPTE_R_R,
  PP_RW,
  PP_RO,
  hash_of_vpn,
  va_to_vpn,
  Hpt,
} from "../hw/hpt";
import { HPTE_V_AVPN_SHIFT } from "../hw/hpt";

export const SID_SHIFT = 28;
export const USER_ESID_BITS = 16;
export const CONTEXT_BITS = 19;
export const VSID_BITS = 36;
/** The value the 2.6.2x code used (its comment still says 268435399). */
export const VSID_MULTIPLIER = 200730139;
export const VSID_MODULUS = 2 ** VSID_BITS - 1;

const SEG = 2 ** SID_SHIFT;
/** 2^USER_ESID_BITS, once: `context << USER_ESID_BITS` as a product (it passes 32 bits), without a pow per call. */
const CONTEXT_SCALE = 2 ** USER_ESID_BITS;

/** vsid_scramble: (proto × VSID_MULTIPLIER) mod (2^36 − 1). */
export function vsid_scramble(proto: number): number {
  return Number((BigInt(proto) * BigInt(VSID_MULTIPLIER)) % BigInt(VSID_MODULUS));
}

const vsidCache = new Map<number, number>();
// The last lookup, in front of the Map: consecutive calls nearly always hit the same segment.
let lastProto = -1;
let lastVsid = 0;
/** get_vsid for a user address: proto-VSID (context << USER_ESID_BITS) | (ea >> SID_SHIFT), scrambled. */
export function get_vsid(context: number, ea: number): number {
  const proto = context * CONTEXT_SCALE + Math.floor(ea / SEG);
  if (proto === lastProto) return lastVsid;
  let v = vsidCache.get(proto);
  if (v === undefined) {
    v = vsid_scramble(proto);
    vsidCache.set(proto, v);
  }
  lastProto = proto;
  lastVsid = v;
  return v;
}

/** The full virtual address (vsid << 28) | (ea & 0x0fffffff), as a BigInt (it needs 64 bits). */
export function make_va(vsid: number, ea: number): bigint {
  return (BigInt(vsid) << 28n) | BigInt(ea % SEG);
}

/** hpt_hash(va, shift) exactly as the primer states it (BigInt, for reference and tests). */
export function hpt_hash(va: bigint, shift: number): bigint {
  return ((va >> 28n) & 0x7fffffffffn) ^ ((va & 0x0fffffffn) >> BigInt(shift));
}

/** hpte_encode_v for a 4K page (BigInt): ((va >> 23) << 7) | flags. */
export function hpte_encode_v(va: bigint, vflags = 0): bigint {
  return ((va >> 23n) << BigInt(HPTE_V_AVPN_SHIFT)) | BigInt(vflags);
}
