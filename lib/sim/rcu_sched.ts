// RCU-sched state: pending callbacks, the CPUs each still waits for, and grace periods ending. A CPU is quiescent
// where its task runs with IRQs and preemption enabled outside interrupts, or is idle (see rcupdate.ts for the
// over-approximation this makes of a !PREEMPT kernel).

import { ModelError } from "./model_error";
import type { IrqWork } from "./interrupts";
import { WRITE } from "./context";
import type { Machine } from "./machine";

/** An RCU-sched callback waiting for its grace period. */
export interface RcuCallback {
  readonly cpu: number;
  /** CPUs that must still pass a quiescent state, as a bit mask. */
  need: number;
  readonly work: IrqWork | null;
  /** Set when the grace period has ended (synchronize_sched waits on it). */
  gpDone: boolean;
  readonly queuedAt: number;
}

export class RcuSched {
  private pending: RcuCallback[] = [];
  /** CPUs some pending callback still waits for: the step checks only these. */
  waitMask = 0;
  gracePeriods = 0;
  /** Virtual time a grace period takes at the least (timed mode). */
  gpLatency = 0;

  constructor(private readonly m: Machine) {}

  quiescent(cpu: number): boolean {
    const ctxs = this.m.ctxs;
    if (ctxs[2 * cpu + 1].gen !== null) return false;
    const t = ctxs[2 * cpu];
    return t.done || (!t.irqsOff && t.preempt === 0);
  }

  /** Start a grace period for `work` (null: synchronize_sched): it waits for every CPU not quiescent now. */
  queue(cpu: number, work: IrqWork | null): RcuCallback {
    const m = this.m;
    if (!m.rcuMode)
      throw new ModelError("RCU-sched used by a scenario that did not set rcu: true in its machine config");
    let need = 0;
    for (let c = 0; c < m.ncpu; c++) if (!this.quiescent(c)) need |= 1 << c;
    const cb: RcuCallback = { cpu, need, work, gpDone: false, queuedAt: m.clock[cpu] };
    this.pending.push(cb);
    this.waitMask |= need;
    if (need === 0) this.endGracePeriods();
    return cb;
  }

  /** `cpu` passed a quiescent state. */
  reportQs(cpu: number): void {
    const bit = 1 << cpu;
    let mask = 0;
    for (const cb of this.pending) {
      cb.need &= ~bit;
      mask |= cb.need;
    }
    this.waitMask = mask;
    this.endGracePeriods();
  }

  private endGracePeriods(): void {
    const m = this.m;
    const still: RcuCallback[] = [];
    for (const cb of this.pending) {
      if (cb.need !== 0) {
        still.push(cb);
        continue;
      }
      cb.gpDone = true;
      this.gracePeriods++;
      if (m.timed) m.count("grace periods");
      if (cb.work !== null) {
        if (m.timed) cb.work.readyAt = Math.max(cb.work.readyAt, cb.queuedAt + this.gpLatency);
        m.irqs.queueRcu(cb.cpu, cb.work);
        // the step that ended the grace period wrote that CPU's callback queue (it may run on another CPU)
        m.noteAccess(m.irqs.rcuqObj[cb.cpu], WRITE);
      }
    }
    this.pending = still;
  }

  get pendingCount(): number {
    return this.pending.length;
  }
}
