// HV KVM's HPTE and rmap primitives (arch/powerpc/include/asm/kvm_book3s_64.h, v3.7): the software bits KVM
// keeps in HPTE dword 0 (HVLOCK, ABSENT), the rmap word (chain head index, PRESENT, R/C, lock bit 63),
// try_lock_hpte, lock_rmap / unlock_rmap and compute_tlbie_rb. Dwords and rmap words are u64 (bigint).

import { WRITE } from "../sim/machine";
import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import { HPTE_V_LARGE, HPTE_V_SECONDARY, HPTE_R_RPN, U64 } from "../hw/power7";
import type { Kvm } from "./kvm_host";
import type { KK } from "./kernel";

export const HPTE_V_HVLOCK = 0x40n;
export const HPTE_V_ABSENT = 0x20n;
export const HPTE_V_1TB_SEG = 0x4000000000000000n;
/** v3.8 (a2932923): software bit in guest_rpte; masked out of what the guest reads back. */
export const HPTE_GR_MODIFIED = 1n << 62n;
export const HPTE_GR_RESERVED = HPTE_GR_MODIFIED;

export const KVMPPC_RMAP_LOCK_BIT = 63n;
export const KVMPPC_RMAP_RC_SHIFT = 32n;
export const KVMPPC_RMAP_REFERENCED = 0x100n << KVMPPC_RMAP_RC_SHIFT;
export const KVMPPC_RMAP_CHANGED = 0x80n << KVMPPC_RMAP_RC_SHIFT;
export const KVMPPC_RMAP_PRESENT = 0x100000000n;
export const KVMPPC_RMAP_INDEX = 0xffffffffn;
const RMAP_LOCK = 1n << KVMPPC_RMAP_LOCK_BIT;

const E_TRYLOCK = event("try_lock_hpte", "ldarx; test bits; stdcx. HVLOCK", { cost: "atomic" });
const E_SPINLOCK = event("try_lock_hpte", "spin until HVLOCK is free, take it", { cost: "atomic" });
const E_UNLOCK = event("unlock_hpte", "lwsync; store dword 0", { cost: "mem" });
const E_LOCK_RMAP = event("lock_rmap", "spin on bit 63, take it", { cost: "atomic" });
const E_UNLOCK_RMAP = event("unlock_rmap", "clear bit 63", { cost: "mem" });

/** hpte_page_size for the model's pages: 4 KiB unless LARGE (large pages are refused as H_PARAMETER). */
export function hpte_page_size(v: bigint, _r: bigint): bigint {
  return (v & HPTE_V_LARGE) !== 0n ? 0n : 4096n;
}

/** hpte_rpn: the RPN field of dword 1 for a page of size psize. */
export function hpte_rpn(ptel: bigint, psize: bigint): bigint {
  return (ptel & HPTE_R_RPN & ~(psize - 1n)) >> 12n;
}

/** hpte_is_writable: PP allows stores (not 0b11 read-only, nor 0b110 with PP0). */
export function hpte_is_writable(ptel: bigint): boolean {
  const pp = ptel & 3n;
  return pp !== 3n;
}

/** compute_tlbie_rb for a 4 KiB page in a 256 MiB segment: AVA from dword 0, low VA bits from the PTEG index. */
export function compute_tlbie_rb(v: bigint, _r: bigint, pte_index: number): bigint {
  let rb = U64((v & ~0x7fn) << 16n); // AVA field
  let va_low = BigInt(pte_index >>> 3);
  if ((v & HPTE_V_SECONDARY) !== 0n) va_low = U64(~va_low);
  if ((v & HPTE_V_1TB_SEG) === 0n)
    va_low ^= v >> 12n; // xor vsid from AVA
  else va_low ^= v >> 24n;
  va_low &= 0x7ffn;
  rb |= va_low << 12n; // remaining 11 bits of AVA
  rb |= (v >> 54n) & 0x300n; // B field
  return rb;
}

/** try_lock_hpte(hpte, bits): one ldarx/stdcx. attempt; takes HVLOCK only if none of `bits` is set. */
export function* try_lock_hpte(k: KK, kvm: Kvm, i: number, bits: bigint): Gen<boolean> {
  const hpt = kvm.arch.hpt;
  k.W(hpt.obj(i), E_TRYLOCK);
  yield;
  const v = hpt.get0(i);
  if ((v & bits) !== 0n) return false;
  hpt.set0(i, v | HPTE_V_HVLOCK);
  return true;
}

/** `while (!try_lock_hpte(hpte, HPTE_V_HVLOCK)) cpu_relax();` as one wait-until step. */
export function* try_lock_hpte_spin(k: KK, kvm: Kvm, i: number): Gen {
  const hpt = kvm.arch.hpt;
  k.wait(hpt.obj(i), WRITE, E_SPINLOCK, () => (hpt.get0(i) & HPTE_V_HVLOCK) === 0n);
  yield;
  hpt.set0(i, hpt.get0(i) | HPTE_V_HVLOCK);
}

/** unlock_hpte(hpte, v): release barrier, then dword 0 = v (which has HVLOCK clear). */
export function* unlock_hpte(k: KK, kvm: Kvm, i: number, v: bigint): Gen {
  k.W(kvm.arch.hpt.obj(i), E_UNLOCK);
  yield;
  kvm.arch.hpt.set0(i, v);
}

/** lock_rmap: spin until bit 63 of *rmap is clear, then set it (test_and_set_bit_lock). */
export function* lock_rmap(k: KK, kvm: Kvm, gfn: number): Gen {
  const s = kvm.memslot;
  const i = gfn - s.base_gfn;
  k.wait(s.rmapObj + i, WRITE, E_LOCK_RMAP, () => (s.rmap[i] & RMAP_LOCK) === 0n);
  yield;
  s.rmap[i] |= RMAP_LOCK;
}

/** unlock_rmap: __clear_bit_unlock(KVMPPC_RMAP_LOCK_BIT). */
export function* unlock_rmap(k: KK, kvm: Kvm, gfn: number): Gen {
  const s = kvm.memslot;
  const i = gfn - s.base_gfn;
  k.W(s.rmapObj + i, E_UNLOCK_RMAP);
  yield;
  s.rmap[i] &= ~RMAP_LOCK;
}

/** Whether the rmap word of gfn has its lock bit set (for tests and display). */
export function rmap_locked(kvm: Kvm, gfn: number): boolean {
  return (kvm.memslot.rmap[gfn - kvm.memslot.base_gfn] & RMAP_LOCK) !== 0n;
}
