// LPID allocation (arch/powerpc/kvm/powerpc.c, v3.7: kvmppc_alloc_lpid / kvmppc_free_lpid over a bitmap).
// The lowest free LPID is taken, so a VM created after another is destroyed gets the same LPID back.

import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import { kvmWorld } from "./kvm_host";
import type { KK } from "./kernel";

const E_ALLOC = event("kvmppc_alloc_lpid", "find_first_zero_bit; test_and_set_bit", { cost: "atomic" });
const E_FREE = event("kvmppc_free_lpid", "clear_bit", { cost: "atomic" });

/** kvmppc_alloc_lpid: the lowest LPID not in use, or -1 (-ENOMEM). */
export function* kvmppc_alloc_lpid(k: KK): Gen<number> {
  const w = kvmWorld(k.m);
  k.W(w.lpidObj, E_ALLOC);
  yield;
  for (let lpid = 1; lpid < 4096; lpid++) {
    if (!w.lpidInuse.has(lpid)) {
      w.lpidInuse.add(lpid);
      return lpid;
    }
  }
  return -1;
}

/** kvmppc_free_lpid: the LPID may be handed out again at once. */
export function* kvmppc_free_lpid(k: KK, lpid: number): Gen {
  const w = kvmWorld(k.m);
  k.W(w.lpidObj, E_FREE);
  yield;
  w.lpidInuse.delete(lpid);
}
