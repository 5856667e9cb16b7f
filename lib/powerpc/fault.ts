// The kernel side of the powerpc hash MMU's user access path (arch/powerpc/mm/fault.c and hash_utils_64.c,
// v2.6.22): a user load or store goes to the hardware (lib/hw/hash_mmu.ts); on an HPT miss or protection
// fault, hash_page; if that declines, do_page_fault; then retry.

import type { Gen } from "../sim/machine";
import { MmStruct, MmWorld, mmWorld } from "../mm/mm_types";
import type { PK } from "./kernel";
import { defineTlbBatch, PPC64_TLB_BATCH_NR } from "./tlb_batch";
import { get_vsid } from "./mmu_hash64";
import { PpcHw, ACCESS_OK } from "../hw/hash_mmu";
import type { HashMmuConfig } from "../hw/hash_mmu";

export interface PowerpcHashConfig extends HashMmuConfig {
  /** Entries of the per-CPU ppc64_tlb_batch (PPC64_TLB_BATCH_NR = 192; smaller reaches "batch full" in searches). */
  batchNr?: number;
}

/** The hash MMU of the machine `w` runs on. */
export function ppcHw(w: MmWorld): PpcHw {
  const hw = w.hw;
  if (!(hw instanceof PpcHw)) throw new Error("no powerpc hash MMU on this machine: call powerpcHash(w, cfg) in setup");
  return hw;
}

/** powerpcHash: give an MmWorld a hash MMU (HPT + per-core TLBs). No steps: building the initial state. */
export function powerpcHash(w: MmWorld, cfg: PowerpcHashConfig): PpcHw {
  const hw = new PpcHw(w, cfg, get_vsid);
  w.hw = hw;
  defineTlbBatch(w.m, cfg.batchNr ?? PPC64_TLB_BATCH_NR);
  return hw;
}

/**
 * user_access: a user load or store by this CPU: hardware access; on an HPT miss or protection fault,
 * hash_page; if that declines, do_page_fault; then retry. False on SIGSEGV/OOM.
 */
export function* user_access(k: PK, mm: MmStruct, ea: number, write: boolean): Gen<boolean> {
  const hw = ppcHw(mmWorld(k.m));
  for (;;) {
    const r = yield* hw.access(k, mm, ea, write);
    if (r === ACCESS_OK) return true;
    if ((yield* k.hash_page(ea, write)) === 0) continue;
    if ((yield* k.do_page_fault(mm, ea, write)) !== 0) return false;
  }
}
