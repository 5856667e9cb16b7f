// Timed-mode costs of the powerpc model (hash MMU, TLB invalidation, and KVM HV on POWER for fix 003), in ns.
// Defaults from docs/cost-model.md §2; [n] its references, (E) its estimates.

import { defineCosts } from "../sim/cost";

defineCosts({
  /** tlbiel, one VA or one set: 12.5–13.3 ns on POWER9 [1] (mprotect table, f6f27951fdf8). */
  tlbiel: 13,
  /** Global tlbie, issue to fabric completion: ≈2,200–2,460 stall cycles, 8-socket Power10 [3]. */
  tlbie: 550,
  /** eieio; tlbsync; ptesync with nothing outstanding: ≈520 cycles on POWER9 [4]. */
  tlbsync: 150,
  /** Standalone ptesync. (E) */
  ptesync: 50,
  /** eieio. (E) */
  eieio: 5,
  /** Hash fault plus native HPTE insert: interrupt round trip ≈0.3 µs [58] plus the insert. (E) */
  hash_fault: 350,
  /** Inserting an HPTE once the fault is taken. (E) */
  hpte_insert: 100,
  /** Locking and clearing an HPTE (without the tlbie). (E) */
  hpte_invalidate: 30,
  /** A PTE update (ldarx/stdcx. loop). (E) */
  pte_update: 10,
  /** KVM HV real-mode hcall round trip: 509 cycles [15]. */
  hcall: 150,
  /** Full LPID flush on POWER7: 128 sets × 13 ns + ptesync [10][1]. */
  lpid_flush: 1714,
});
