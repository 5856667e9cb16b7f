// Step sites. Every step names the kernel function it belongs to and what it does there; the cost key and
// counter let timed mode charge and count it. Events are created once, at module load, so a step carries a
// pointer, never a string built at run time.

/** A step site in modelled kernel code. */
export interface SimEvent {
  readonly id: number;
  /** Kernel function name, e.g. `zap_pte_range`. */
  readonly fn: string;
  /** What the step does, e.g. `clear PTE`. */
  readonly what: string;
  /** Key into the cost model (timed mode). */
  readonly cost: string;
  /** Counter bumped each time the step runs in timed mode, or null. */
  readonly counter: string | null;
}

const registry: SimEvent[] = [];

/** Declare a step site. `cost` defaults to a plain memory access. */
export function event(fn: string, what: string, opts: { cost?: string; counter?: string } = {}): SimEvent {
  const e: SimEvent = { id: registry.length, fn, what, cost: opts.cost ?? "mem", counter: opts.counter ?? null };
  registry.push(e);
  return e;
}

export function allEvents(): readonly SimEvent[] {
  return registry;
}

/** Sites the runtime itself uses. */
export const EV = {
  start: event("(start)", "thread start", { cost: "none" }),
  irqEntry: event("(irq)", "take interrupt", { cost: "irq_entry" }),
  idle: event("(idle)", "idle", { cost: "none" }),
} as const;
