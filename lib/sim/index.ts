// The runtime: machine, kernel object, and the kernel synchronisation primitives modelled code calls.
// Nothing here knows about any modelled subsystem.

import * as spinlock from "./spinlock";
import * as irqflags from "./irqflags";
import * as preempt from "./preempt";
import * as atomic from "./atomic";
import * as smp from "./smp";
import * as rcu from "./rcupdate";
import * as pageAlloc from "./page_alloc";
import { defineSources } from "./sources";

defineSources(__dirname, { spinlock, irqflags, preempt, atomic, smp, rcupdate: rcu, page_alloc: pageAlloc });

/** Runtime primitives callable as `yield* k.name(...)` (and replaceable like any modelled function). */
export const simOps = {
  spin_lock: spinlock.spin_lock,
  spin_unlock: spinlock.spin_unlock,
  spin_is_locked: spinlock.spin_is_locked,
  local_irq_disable: irqflags.local_irq_disable,
  local_irq_enable: irqflags.local_irq_enable,
  local_irq_save: irqflags.local_irq_save,
  local_irq_restore: irqflags.local_irq_restore,
  irqs_disabled: irqflags.irqs_disabled,
  preempt_disable: preempt.preempt_disable,
  preempt_enable: preempt.preempt_enable,
  get_cpu: preempt.get_cpu,
  put_cpu: preempt.put_cpu,
  preemptible: preempt.preemptible,
  smp_processor_id: preempt.smp_processor_id,
  rcu_read_lock_sched: preempt.rcu_read_lock_sched,
  rcu_read_unlock_sched: preempt.rcu_read_unlock_sched,
  atomic_read: atomic.atomic_read,
  atomic_set: atomic.atomic_set,
  atomic_add_return: atomic.atomic_add_return,
  atomic_inc: atomic.atomic_inc,
  atomic_dec_and_test: atomic.atomic_dec_and_test,
  cmpxchg: atomic.cmpxchg,
  smp_call_function: smp.smp_call_function,
  smp_call_function_single: smp.smp_call_function_single,
  smp_call_function_many: smp.smp_call_function_many,
  call_rcu_sched: rcu.call_rcu_sched,
  synchronize_sched: rcu.synchronize_sched,
  alloc_page: pageAlloc.alloc_page,
  free_page: pageAlloc.free_page,
};

export type SimOps = typeof simOps;

export { Machine, ModelError, READ, WRITE, LOCAL } from "./machine";
export type { Gen, Context, PulledAccess, MachineConfig, IrqWork, Csd, RcuCallback, ViolationInfo } from "./machine";
export { KernelBase, makeKernel, fingerprint } from "./kernel";
export type { ObjRef, KernelFn, OpTable, Bound } from "./kernel";
export { event, allEvents, EV } from "./event";
export type { SimEvent } from "./event";
export { Spinlock, spin_lock_init } from "./spinlock";
export type { IrqFlags, IrqArch } from "./irq_arch";
export { X86_IRQ, X86_EFLAGS_IF, X86_EFLAGS_FIXED, x86_irqs_disabled_flags } from "./irq_arch";
export { arch_irq_state_step } from "./irqflags";
export { PerCpu, DEFINE_PER_CPU } from "./percpu";
export { Atomic, ATOMIC_INIT } from "./atomic";
export type { SmpCallFunc } from "./smp";
export {
  PageFrame,
  PageAllocator,
  GFP_KERNEL,
  GFP_NOWAIT,
  GFP_ATOMIC,
  PAGE_FREE,
  PAGE_ALLOCATED,
  checkFrameAccess,
} from "./page_alloc";
export type { AllocatorOptions } from "./page_alloc";
export type { TraceStep, Violation } from "./trace";
export { DEFAULT_COSTS, costModel, defineCosts } from "./cost";
export type { CostModel } from "./cost";
export { describeMachine } from "./describe";
export { defineSources, sourceFileOf } from "./sources";
export type { ContextRow } from "./describe";
