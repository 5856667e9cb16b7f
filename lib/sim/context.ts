// Contexts: a CPU's task and its interrupt context, each one explorer process, and the step each has announced.
// Outside lib/sim a context is the read-only `Context`; only the runtime (KernelBase's announcements, the
// machine's step) writes `RtContext`, so no primitive can leave the explorer a wrong view of its next access.

import { EV, SimEvent } from "./event";
import type { IrqWork } from "./interrupts";
import type { IrqArch } from "./irq_arch";

export const READ = 0;
export const WRITE = 1;
/** A step with no shared access (a barrier, a local computation that costs time). */
export const LOCAL = 2;

/** Modelled kernel code: yields once per step, returns T. */
export type Gen<T = void> = Generator<void, T, unknown>;

/**
 * An access whose objects depend on state other contexts change while it waits (a hardware translation: which
 * frame it reaches depends on TLBs and tables). The machine asks for the list each time it reads the
 * announcement after a step, so no write site has to remember to re-announce it.
 */
export interface PulledAccess {
  /** [obj, kind, obj, kind, …] the access `c` announced would touch in the current state. */
  objects(c: Context): readonly number[];
}

/** A task or interrupt context as modelled code and the explorer see it: its announced next step, read-only. */
export interface Context {
  readonly proc: number;
  readonly cpu: number;
  readonly irq: boolean;
  /** Thread or handler name. */
  readonly name: string;
  /** Generator of the running thread or handler; null for an idle interrupt context. */
  readonly gen: Gen<unknown> | null;
  readonly done: boolean;
  // The announced next step: object and kind, a second object, and [obj, kind, …] beyond those.
  readonly obj: number;
  readonly kind: number;
  readonly obj2: number;
  readonly kind2: number;
  readonly extra: readonly number[] | null;
  readonly ev: SimEvent;
  /** Wait-until condition of the next step: the context is runnable only while it holds. */
  readonly guard: (() => boolean) | null;
  // Per-context kernel state (written by lib/sim's irqflags, preempt and spinlock).
  /** The arch's IRQ state word (irq_arch.ts: x86's EFLAGS, ppc64's soft_enabled…); irqsOff follows from it. */
  readonly irqState: number;
  /** Delivery: this context's CPU takes no interrupt while it runs (derived from irqState by the arch model). */
  readonly irqsOff: boolean;
  readonly preempt: number;
  readonly locks: number;
  readonly work: IrqWork | null;
}

/** Where a context reads the step count, to know whether a pulled announcement is current. */
interface StepCounter {
  readonly steps: number;
}

/** The runtime's context (lib/sim only: everything else holds a `Context`). */
export class RtContext implements Context {
  gen: Gen<unknown> | null = null;
  done = false;
  name: string;
  // The announcement as last written; `pull`, when set, supersedes obj…extra and is evaluated on read.
  aObj = -1;
  aKind: number = LOCAL;
  aObj2 = -1;
  aKind2: number = LOCAL;
  aExtra: readonly number[] | null = null;
  ev: SimEvent = EV.start;
  guard: (() => boolean) | null = null;
  pull: PulledAccess | null = null;
  /** Step count at which `pull` was last evaluated. */
  private pulledAt = -1;
  irqState = 0;
  irqsOff = false;
  preempt = 0;
  locks = 0;
  work: IrqWork | null = null;

  constructor(
    readonly proc: number,
    readonly cpu: number,
    readonly irq: boolean,
    private readonly clock: StepCounter,
  ) {
    this.name = irq ? `irq${cpu}` : `cpu${cpu}`;
  }

  get obj(): number {
    if (this.pull !== null) this.refresh();
    return this.aObj;
  }
  get kind(): number {
    if (this.pull !== null) this.refresh();
    return this.aKind;
  }
  get obj2(): number {
    if (this.pull !== null) this.refresh();
    return this.aObj2;
  }
  get kind2(): number {
    if (this.pull !== null) this.refresh();
    return this.aKind2;
  }
  get extra(): readonly number[] | null {
    if (this.pull !== null) this.refresh();
    return this.aExtra;
  }

  /** Set the arch IRQ state word; `irqsOff`, which the runnability checks read, is derived from it here only. */
  setIrqState(s: number, a: IrqArch): void {
    this.irqState = s;
    this.irqsOff = a.off(s);
  }

  /** Re-evaluate a pulled access once per state (the state changes only by steps). */
  refresh(): void {
    const s = this.clock.steps;
    if (this.pulledAt === s) return;
    this.pulledAt = s;
    const list = this.pull!.objects(this);
    this.aObj = list.length >= 2 ? list[0] : -1;
    this.aKind = list.length >= 2 ? list[1] : LOCAL;
    this.aObj2 = -1;
    this.aExtra = list.length > 2 ? list.slice(2) : null;
  }

  /** Announce a pulled access (its objects are computed when first read). */
  setPull(p: PulledAccess): void {
    this.pull = p;
    this.pulledAt = -1;
  }
}

/** The runtime's writable view of a context (lib/sim only). */
export const rt = (c: Context): RtContext => c as RtContext;
