// The cost model for timed mode: one latency per step kind, in ns. Defaults come from
// shared/docs/cost-model.md §2 (its reference numbers in brackets; (E) marks that document's estimates).

export type CostModel = Record<string, number>;

export const DEFAULT_COSTS: Readonly<CostModel> = Object.freeze({
  none: 0,
  /** A cached load or store. (E) */
  mem: 2,
  /** An atomic read-modify-write. (E) */
  atomic: 20,
  /** Uncontended spin_lock / spin_unlock. (E) */
  spin_lock: 20,
  spin_unlock: 10,
  /** local_irq_* / preempt_*: a few instructions. (E) */
  irq_toggle: 5,
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
  /** Hardware walk of a PTEG on a TLB miss: one 128-byte cache miss [21]. (E) */
  hpt_miss: 100,
  /** TLB miss with page-walk caches warm [56]. (E) */
  tlb_miss: 30,
  /** A PTE update (ldarx/stdcx. loop). (E) */
  pte_update: 10,
  /** Anonymous 4 KiB first-touch fault, ≈1 µs [60] (C). */
  page_fault: 1000,
  /** Fault on a page-cache hit: lmbench 0.2–0.39 µs [59]. */
  page_fault_file: 300,
  /** Page allocation and free from a batch. (E) [53] */
  page_alloc: 100,
  page_free: 100,
  /** IPI one-way latency to a busy CPU: 1.84 µs, POWER selftest [27]. */
  ipi: 1800,
  /** Sender cost per IPI target: x2APIC broadcast, 43 ns/target after the fix [31]. */
  ipi_send: 45,
  /** Waiting for IPI handlers: accounted as wait time, not a fixed cost. */
  ipi_wait: 0,
  /** Interrupt entry and exit on the target CPU: ≈1,064 cycles on POWER9 [58]. */
  irq_entry: 300,
  /** call_rcu enqueue: per-CPU list append with IRQs off. (E) */
  call_rcu: 30,
  /** One RCU grace period, synchronize_rcu at HZ=1000: mean ≈10 ms [46]. */
  rcu_gp: 10_000_000,
  /** An IPI shootdown to a few CPUs: t_local + t_ipi(1.8 µs) + n·45 ns + victim 0.3 µs, §3 of the cost model. (E) */
  tlb_shootdown: 2500,
  /** x86 INVLPG, per page: "about 100 ns" [35]. */
  invlpg: 100,
  /** x86 full TLB flush (CR3 reload), with the refills it causes: ≈ 33 INVLPGs ≈ 3 µs, §2.3 of the cost model. (E) */
  cr3_flush: 3300,
  /** KVM HV real-mode hcall round trip: 509 cycles [15]. */
  hcall: 150,
  /** Full LPID flush on POWER7: 128 sets × 13 ns + ptesync [10][1]. */
  lpid_flush: 1714,
  /** Writing a page to disk (not in the cost model document: an order of magnitude for an NVMe write). (E) */
  disk_write: 20_000,
});

/** Merge overrides over the defaults, rejecting unknown keys and bad values. */
export function costModel(overrides: Partial<CostModel> = {}): CostModel {
  const out: CostModel = { ...DEFAULT_COSTS };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in DEFAULT_COSTS)) throw new Error(`unknown cost "${k}" (known: ${Object.keys(DEFAULT_COSTS).join(", ")})`);
    if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v)) throw new Error(`cost "${k}" must be a finite number ≥ 0, got ${String(v)}`);
    out[k] = v;
  }
  return out;
}
