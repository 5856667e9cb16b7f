// Local IRQ state (include/linux/irqflags.h). Each change is a step: an IPI may arrive right after
// local_irq_enable, and RCU-sched's grace period depends on it. Flags are the arch's `unsigned long` word and
// restoring one does what the arch does with it (irq_arch.ts); delivery follows from the arch state.

import type { Gen } from "./machine";
import { KernelBase } from "./kernel";
import { event } from "./event";
import { rt } from "./context";
import type { RtContext } from "./context";
import type { IrqFlags } from "./irq_arch";
import { ModelError } from "./model_error";

const E_DISABLE = event("local_irq_disable", "IRQs off", { cost: "irq_toggle" });
const E_ENABLE = event("local_irq_enable", "IRQs on", { cost: "irq_toggle" });
const E_SAVE = event("local_irq_save", "save flags, IRQs off", { cost: "irq_toggle" });
const E_RESTORE = event("local_irq_restore", "restore flags", { cost: "irq_toggle" });

export type { IrqFlags } from "./irq_arch";

function announceCpuState(k: KernelBase, ev: ReturnType<typeof event>): void {
  const m = k.m;
  if (m.rcuMode) k.W(m.cpuStateObj[m.cur.cpu], ev);
  else k.local(ev);
}

/** Set the current context's arch IRQ state; delivery follows (inside a step). */
function setState(k: KernelBase, c: RtContext, s: number): void {
  c.setIrqState(s, k.m.irqArch);
}

export function* local_irq_disable(k: KernelBase): Gen {
  announceCpuState(k, E_DISABLE);
  yield;
  const c = rt(k.m.cur);
  setState(k, c, k.m.irqArch.disable(c.irqState));
}

export function* local_irq_enable(k: KernelBase): Gen {
  announceCpuState(k, E_ENABLE);
  yield;
  const c = rt(k.m.cur);
  setState(k, c, k.m.irqArch.enable(c.irqState));
}

export function* local_irq_save(k: KernelBase): Gen<IrqFlags> {
  announceCpuState(k, E_SAVE);
  yield;
  const c = rt(k.m.cur);
  const flags = k.m.irqArch.save(c.irqState);
  setState(k, c, k.m.irqArch.disable(c.irqState));
  return flags;
}

/** local_irq_restore: the arch's restore of `flags`; a replay of a latched interrupt is a second step. */
export function* local_irq_restore(k: KernelBase, flags: IrqFlags): Gen {
  if (!Number.isSafeInteger(flags) || flags < 0)
    throw new ModelError(`local_irq_restore: flags must be an unsigned long (an integer), got ${String(flags)}`);
  announceCpuState(k, E_RESTORE);
  yield;
  const a = k.m.irqArch;
  const c = rt(k.m.cur);
  setState(k, c, a.restore(c.irqState, flags, k.m.pendingIpis(c.cpu) > 0));
  const after = a.replay(c.irqState);
  if (after === -1) return;
  announceCpuState(k, E_RESTORE);
  yield;
  setState(k, c, after);
}

/**
 * An arch layer's own change of the IRQ state (an exception entry or return that turns MSR_EE off or on): one
 * step, announced as a flags restore, that applies `f` to the current context's state.
 */
export function* arch_irq_state_step(k: KernelBase, f: (state: number) => number): Gen {
  announceCpuState(k, E_RESTORE);
  yield;
  const c = rt(k.m.cur);
  setState(k, c, f(c.irqState));
}

/** irqs_disabled: arch_irqs_disabled() of this context's state (no shared access). */
export function irqs_disabled(k: KernelBase): boolean {
  return k.m.irqArch.disabled(k.m.cur.irqState);
}

export { announceCpuState };
