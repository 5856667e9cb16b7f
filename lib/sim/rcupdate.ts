// RCU-sched (kernel/rcu, include/linux/rcupdate.h). A grace period that starts at call_rcu_sched must wait
// for every CPU that is not quiescent at that moment to pass a quiescent point (IRQs and preemption enabled
// outside interrupts, or idle); then the callback runs in the calling CPU's interrupt context.
// This over-approximates a !PREEMPT kernel, whose quiescent points are fewer (context switch, idle, user
// mode): a grace period may end earlier here than on hardware, which can add bad interleavings, never hide one.

import { Gen, WRITE } from "./machine";
import { KernelBase } from "./kernel";
import { event } from "./event";
import type { SmpCallFunc } from "./smp";

const E_CALL = event("call_rcu_sched", "queue callback", { cost: "call_rcu", counter: "call_rcu" });
const E_SYNC = event("synchronize_sched", "start grace period", { cost: "call_rcu" });
const E_SYNC_WAIT = event("synchronize_sched", "wait for grace period", { cost: "none" });

/** call_rcu_sched: run `fn(arg)` after a grace period. */
export function* call_rcu_sched<A>(k: KernelBase, name: string, fn: SmpCallFunc<A>, arg: A): Gen {
  const m = k.m;
  k.multi([m.rcuqObj[m.cur.cpu], WRITE, ...m.cpuStateReads], E_CALL);
  yield;
  m.rcuQueue(m.cur.cpu, { name, fn: (kk: KernelBase) => fn(kk, arg), arg, csd: null, readyAt: k.now() });
}

/** synchronize_sched: block until a grace period has elapsed. May sleep: call it preemptible. */
export function* synchronize_sched(k: KernelBase): Gen {
  const m = k.m;
  if (!(m.cur.preempt === 0 && !m.cur.irqsOff && !m.cur.irq)) {
    k.violation("sleep-in-atomic", `${m.cur.name}: synchronize_sched() called from atomic context`);
    return;
  }
  k.multi([m.rcuqObj[m.cur.cpu], WRITE, ...m.cpuStateReads], E_SYNC);
  yield;
  const cb = m.rcuQueue(m.cur.cpu, null);
  const start = k.now();
  k.waitMulti(m.cpuStateReads, E_SYNC_WAIT, () => cb.gpDone && k.now() >= start + m.gpLatency);
  yield;
}
