// Interrupts and IPIs: each CPU's queues of work for its interrupt context (IPI functions, RCU-sched callbacks
// whose grace period ended), and taking and leaving an interrupt. The interrupt context may start only where the
// task has IRQs enabled (or is idle); while it runs, the task cannot.

import { EV } from "./event";
import { RtContext, WRITE } from "./context";
import type { Gen } from "./context";
import type { KernelBase } from "./kernel";
import type { Machine } from "./machine";

/** Work for an interrupt context: an IPI function or an RCU callback. */
export interface IrqWork {
  readonly name: string;
  readonly fn: (k: KernelBase, arg: unknown) => Gen<unknown>;
  readonly arg: unknown;
  /** Call-single data of a synchronous IPI: counts handlers still to run. */
  readonly csd: Csd | null;
  /** The sender waits for it (wait=1): a CPU with IRQs on takes it before its task's next step. */
  readonly sync?: boolean;
  /** Earliest virtual time the work may start (timed mode). */
  readyAt: number;
  /** Step that made the work runnable (queued the IPI, ended the grace period); set by the machine. */
  readyStep?: number;
}

/** Completion counter shared by the sender of an IPI and its handlers. */
export interface Csd {
  readonly id: number;
  pending: number;
}

const HARDIRQ_OFFSET = 1 << 16;

export class Interrupts {
  /** Per CPU: the object of its IPI queue and of its ready RCU callbacks (what taking an interrupt writes). */
  readonly ipiqObj: number[] = [];
  readonly rcuqObj: number[] = [];
  private readonly ipiq: IrqWork[][] = [];
  private readonly rcuReady: IrqWork[][] = [];
  /** Virtual time from sending an IPI to its handler starting (timed mode). */
  ipiLatency = 0;
  /** Work items queued on every CPU together: most steps of most scenarios find none, and look no further. */
  queued = 0;

  constructor(private readonly m: Machine) {}

  addCpu(cpu: number): void {
    this.ipiqObj.push(this.m.newObj(`cpu${cpu}.ipi-queue`));
    this.rcuqObj.push(this.m.newObj(`cpu${cpu}.rcu-callbacks`));
    this.ipiq.push([]);
    this.rcuReady.push([]);
  }

  /** Whether `cpu` has interrupt work waiting. */
  hasWork(cpu: number): boolean {
    return this.ipiq[cpu].length > 0 || this.rcuReady[cpu].length > 0;
  }

  queueIpi(cpu: number, work: IrqWork): void {
    work.readyStep = this.m.steps - 1;
    this.ipiq[cpu].push(work);
    this.queued++;
  }

  /** An RCU callback whose grace period just ended runs next in `cpu`'s interrupt context. */
  queueRcu(cpu: number, work: IrqWork): void {
    work.readyStep = this.m.steps - 1;
    this.rcuReady[cpu].push(work);
    this.queued++;
  }

  /**
   * A synchronous IPI has reached `cpu` (timed mode: its latency has passed). Delivery is prompt: target steps
   * between the send and the handler commute with the send while the sender waits, so no state is lost.
   */
  syncIpiArrived(cpu: number): boolean {
    const q = this.ipiq[cpu];
    for (let i = 0; i < q.length; i++)
      if (q[i].sync === true && (!this.m.timed || this.m.clock[cpu] >= q[i].readyAt)) return true;
    return false;
  }

  pendingIpis(cpu: number): number {
    return this.ipiq[cpu].length;
  }

  readyAt(cpu: number): number {
    if (this.queued === 0) return Infinity;
    const q = this.ipiq[cpu];
    if (q.length > 0) return q[0].readyAt;
    const r = this.rcuReady[cpu];
    return r.length > 0 ? r[0].readyAt : Infinity;
  }

  /**
   * The step that made interrupt work runnable on `cpu` when it had none: the earliest of its queued work's.
   * (A step that queued more work while some was waiting changed which work is taken next: a race.)
   */
  readyStep(cpu: number): number {
    let s = Infinity;
    for (const w of this.ipiq[cpu]) if (w.readyStep !== undefined && w.readyStep < s) s = w.readyStep;
    for (const w of this.rcuReady[cpu]) if (w.readyStep !== undefined && w.readyStep < s) s = w.readyStep;
    return s === Infinity ? -1 : s;
  }

  /** Name of the work the interrupt context of `cpu` takes next. */
  peekName(cpu: number): string {
    const q = this.ipiq[cpu];
    if (q.length > 0) return q[0].name;
    const r = this.rcuReady[cpu];
    return r.length > 0 ? r[0].name : `irq${cpu}`;
  }

  /** An idle interrupt context announces taking the next interrupt: it writes both queues. */
  idle(irq: RtContext): void {
    irq.gen = null;
    irq.work = null;
    irq.name = `irq${irq.cpu}`;
    irq.ev = EV.irqEntry;
    irq.guard = null;
    irq.pull = null;
    irq.aObj = this.ipiqObj[irq.cpu];
    irq.aKind = WRITE;
    irq.aObj2 = this.rcuqObj[irq.cpu];
    irq.aKind2 = WRITE;
    // Taking an interrupt may run an RCU callback, whose readiness depends on every CPU's quiescent state,
    // and makes this CPU not quiescent (a grace period starting now must wait for it): it writes its state.
    irq.aExtra = this.m.rcuMode ? this.entryAccess(irq.cpu) : null;
  }

  private readonly entry: number[][] = [];
  /** What taking an interrupt on `cpu` touches beyond the queues (RCU mode): every CPU's state, its own written. */
  private entryAccess(cpu: number): readonly number[] {
    let a = this.entry[cpu];
    if (a === undefined) {
      a = [...this.m.cpuStateReads];
      a[2 * cpu + 1] = WRITE;
      this.entry[cpu] = a;
    }
    return a;
  }

  /** Take the next interrupt: IPIs first, then ready RCU callbacks. */
  enter(irq: RtContext): void {
    const cpu = irq.cpu;
    const work = this.ipiq[cpu].length > 0 ? this.ipiq[cpu].shift()! : this.rcuReady[cpu].shift()!;
    this.queued--;
    irq.work = work;
    irq.name = work.name;
    irq.setIrqState(this.m.irqArch.irqEntry, this.m.irqArch);
    irq.preempt = HARDIRQ_OFFSET;
    irq.locks = 0;
    irq.gen = work.fn(this.m.k, work.arg);
  }

  /** The handler returned: balance checks, the IPI's completion, back to idle. */
  finish(irq: RtContext): void {
    const m = this.m;
    const work = irq.work!;
    if (irq.locks !== 0)
      m.violate("lock-held-at-irq-exit", `${irq.name} left interrupt context holding ${irq.locks} spinlock(s)`);
    else if (!this.m.irqArch.disabled(irq.irqState) || irq.preempt !== HARDIRQ_OFFSET) {
      m.violate("irq-state-at-irq-exit", `${irq.name} left interrupt context with unbalanced IRQ/preempt state`);
    }
    if (work.csd !== null) {
      work.csd.pending--;
      m.noteAccess(work.csd.id, WRITE);
    }
    // leaving interrupt context may make this CPU quiescent (and end a grace period)
    if (m.rcuMode) m.noteAccess(m.cpuStateObj[irq.cpu], WRITE);
    this.idle(irq);
  }
}
