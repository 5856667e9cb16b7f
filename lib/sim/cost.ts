// The cost model for timed mode: one latency per step kind, in ns. The runtime registers the costs of its own
// primitives here; each modelled subsystem registers its keys beside the code that uses them (powerpc's tlbie,
// x86's invlpg…), with defaults cited from docs/cost-model.md §2 (its reference numbers in brackets;
// (E) marks that document's estimates). lib/sim names no subsystem's cost.

export type CostModel = Record<string, number>;

/** Every registered key and its default, ns. Grows as subsystems load; read it through costModel(). */
export const DEFAULT_COSTS: Readonly<CostModel> = {};

/**
 * Register cost-model keys with their defaults. A key may be registered again only with the same default
 * (modules loaded twice); two subsystems giving one key different defaults is a bug.
 */
export function defineCosts(table: Readonly<CostModel>): void {
  const d = DEFAULT_COSTS as CostModel;
  for (const [k, v] of Object.entries(table)) {
    if (!(typeof v === "number" && v >= 0 && Number.isFinite(v)))
      throw new Error(`cost "${k}" must be a finite number ≥ 0, got ${String(v)}`);
    if (k in d && d[k] !== v)
      throw new Error(`cost "${k}" registered twice with different defaults (${d[k]} and ${v})`);
    d[k] = v;
  }
}

// The runtime's own primitives (lib/sim).
defineCosts({
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
});

/** Merge overrides over the defaults, rejecting unknown keys and bad values. */
export function costModel(overrides: Partial<CostModel> = {}): CostModel {
  const out: CostModel = { ...DEFAULT_COSTS };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in DEFAULT_COSTS)) throw new Error(`unknown cost "${k}" (known: ${Object.keys(DEFAULT_COSTS).join(", ")})`);
    if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v))
      throw new Error(`cost "${k}" must be a finite number ≥ 0, got ${String(v)}`);
    out[k] = v;
  }
  return out;
}
