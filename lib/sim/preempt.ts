// Preemption control (include/linux/preempt.h, include/linux/smp.h). Tasks are pinned to their CPU in this
// model, so preemption matters through what it means to others: RCU-sched quiescent states and the
// DEBUG_PREEMPT check that smp_processor_id() is not used where the task could migrate.

import { Gen, ModelError } from "./machine";
import { KernelBase } from "./kernel";
import { event } from "./event";
import { rt } from "./context";
import { announceCpuState } from "./irqflags";

const E_DISABLE = event("preempt_disable", "preempt_count++", { cost: "none" });
const E_ENABLE = event("preempt_enable", "preempt_count--", { cost: "none" });

export function* preempt_disable(k: KernelBase): Gen {
  announceCpuState(k, E_DISABLE);
  yield;
  rt(k.m.cur).preempt++;
}

export function* preempt_enable(k: KernelBase): Gen {
  announceCpuState(k, E_ENABLE);
  yield;
  const c = rt(k.m.cur);
  if (c.preempt <= 0) throw new ModelError(`${c.name}: preempt_enable without preempt_disable`);
  c.preempt--;
}

/** get_cpu: disable preemption and return this CPU's id. */
export function* get_cpu(k: KernelBase): Gen<number> {
  yield* preempt_disable(k);
  return k.m.cur.cpu;
}

export function* put_cpu(k: KernelBase): Gen {
  yield* preempt_enable(k);
}

/** preemptible: preempt_count zero, IRQs on, not in interrupt context. */
export function preemptible(k: KernelBase): boolean {
  const c = k.m.cur;
  return !c.irq && c.preempt === 0 && !c.irqsOff;
}

/** smp_processor_id with CONFIG_DEBUG_PREEMPT: using it where the task could migrate is a kernel BUG report. */
export function smp_processor_id(k: KernelBase): number {
  if (preemptible(k)) {
    k.violation("smp_processor_id-preemptible", `BUG: using smp_processor_id() in preemptible code (${k.m.cur.name})`);
  }
  return k.m.cur.cpu;
}

/** rcu_read_lock_sched: an RCU-sched read-side section is a preempt-disabled section. */
export const rcu_read_lock_sched = preempt_disable;
export const rcu_read_unlock_sched = preempt_enable;
