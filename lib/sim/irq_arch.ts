// The architecture's IRQ model (arch_local_save_flags, arch_local_irq_restore and friends of
// asm/irqflags.h): what a saved `unsigned long flags` word holds and what restoring one does. The runtime keeps
// each context's arch state as a number and derives delivery (whether the CPU takes an interrupt now) from it,
// so flags stay words C can get wrong. An arch layer registers its model per machine; the default is x86's.

/** Saved IRQ flags: the arch's `unsigned long` (an exact integer below 2^53 in the model). */
export type IrqFlags = number;

/** One architecture's IRQ semantics, as pure functions of a context's arch state word. */
export interface IrqArch {
  readonly name: string;
  /** A task's state when it starts (IRQs on). */
  readonly initial: number;
  /** An interrupt context's state when its handler starts (IRQs off). */
  readonly irqEntry: number;
  /** Delivery: true when this CPU takes no interrupt in this state. */
  off(state: number): boolean;
  /** arch_irqs_disabled(): what irqs_disabled() and the balance checks see. */
  disabled(state: number): boolean;
  /** arch_local_save_flags. */
  save(state: number): IrqFlags;
  /** arch_local_irq_disable's new state. */
  disable(state: number): number;
  /** arch_local_irq_enable's new state. */
  enable(state: number): number;
  /**
   * arch_local_irq_restore(flags) up to the end of its first step; `latched` says whether an interrupt is waiting
   * for this CPU. If the result needs a second step (a replay), `replay` gives the state after it, else -1.
   */
  restore(state: number, flags: IrqFlags, latched: boolean): number;
  replay(state: number): number;
}

/** X86_EFLAGS_IF (asm/processor-flags.h): the interrupt-enable bit of EFLAGS. */
export const X86_EFLAGS_IF = 0x200;
/** X86_EFLAGS_FIXED: bit 1 of EFLAGS, always set, so a saved word is never 0. */
export const X86_EFLAGS_FIXED = 0x2;

/**
 * x86 of v3.14 (arch/x86/include/asm/irqflags.h), the generic model: flags are EFLAGS (pushf);
 * arch_irqs_disabled_flags tests IF; arch_local_irq_restore is popf, so IF becomes the flags' IF bit.
 */
export const X86_IRQ: IrqArch = {
  name: "x86",
  initial: X86_EFLAGS_FIXED | X86_EFLAGS_IF,
  irqEntry: X86_EFLAGS_FIXED,
  off: (s) => (s & X86_EFLAGS_IF) === 0,
  disabled: (s) => (s & X86_EFLAGS_IF) === 0,
  save: (s) => s,
  disable: (s) => s & ~X86_EFLAGS_IF,
  enable: (s) => s | X86_EFLAGS_IF,
  restore: (s, flags) => (s & ~X86_EFLAGS_IF) | (flags & X86_EFLAGS_IF),
  replay: () => -1,
};

/** arch_irqs_disabled_flags (x86): IF clear in a saved word. */
export const x86_irqs_disabled_flags = (flags: IrqFlags): boolean => (flags & X86_EFLAGS_IF) === 0;
