// Local IRQ state (include/linux/irqflags.h). Each change is a step: an IPI may arrive right after
// local_irq_enable, and RCU-sched's grace period depends on it. IRQ flags are saved and restored for real.

import type { Gen } from "./machine";
import { KernelBase } from "./kernel";
import { event } from "./event";
import { rt } from "./context";

const E_DISABLE = event("local_irq_disable", "IRQs off", { cost: "irq_toggle" });
const E_ENABLE = event("local_irq_enable", "IRQs on", { cost: "irq_toggle" });
const E_SAVE = event("local_irq_save", "save flags, IRQs off", { cost: "irq_toggle" });
const E_RESTORE = event("local_irq_restore", "restore flags", { cost: "irq_toggle" });

/** Saved IRQ flags: true when IRQs were disabled. */
export type IrqFlags = boolean;

function announceCpuState(k: KernelBase, ev: ReturnType<typeof event>): void {
  const m = k.m;
  if (m.rcuMode) k.W(m.cpuStateObj[m.cur.cpu], ev);
  else k.local(ev);
}

export function* local_irq_disable(k: KernelBase): Gen {
  announceCpuState(k, E_DISABLE);
  yield;
  rt(k.m.cur).irqsOff = true;
}

export function* local_irq_enable(k: KernelBase): Gen {
  announceCpuState(k, E_ENABLE);
  yield;
  rt(k.m.cur).irqsOff = false;
}

export function* local_irq_save(k: KernelBase): Gen<IrqFlags> {
  announceCpuState(k, E_SAVE);
  yield;
  const c = rt(k.m.cur);
  const flags = c.irqsOff;
  c.irqsOff = true;
  return flags;
}

export function* local_irq_restore(k: KernelBase, flags: IrqFlags): Gen {
  announceCpuState(k, E_RESTORE);
  yield;
  rt(k.m.cur).irqsOff = flags;
}

/** irqs_disabled: this context's IRQ flag (no shared access). */
export function irqs_disabled(k: KernelBase): boolean {
  return k.m.cur.irqsOff;
}

export { announceCpuState };
