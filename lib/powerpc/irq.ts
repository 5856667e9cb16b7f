// ppc64's lazy (soft) interrupt disabling as the runtime's IRQ model, v3.4 lazy-IRQ rework to v4.x
// (arch/powerpc/kernel/irq.c arch_local_irq_restore, asm/hw_irq.h; recalled, as fix 004's README says): a
// context's state word is paca->soft_enabled (a u8, the low byte) plus whether MSR_EE is off. Flags are the
// `unsigned long` arch_local_save_flags returns (soft_enabled); restore stores their low byte but tests the word.
// An interrupt arriving while soft-disabled is latched (irq_happened): the runtime's queue holds it, and the
// handler runs once the CPU is soft- and hard-enabled, which is the replay's order of events.

import type { IrqArch, IrqFlags } from "../sim/irq_arch";

/** The soft_enabled byte of a state word. */
export const SOFT_ENABLED = 0xff;
/** MSR_EE = 0 from an exception entry (a hash fault, the guest's hcall to real mode): soft_enabled untouched. */
export const HARD_DISABLED = 0x100;
/** Hard-disabled inside arch_local_irq_restore between __check_irq_replay and the replay's hard enable. */
export const REPLAYING = 0x200;

/** The low byte of an unsigned long (the stb of set_soft_enabled): exact for the model's integers below 2^53. */
const lowByte = (en: IrqFlags): number => en % 256;

/**
 * arch_local_irq_restore(unsigned long en): set_soft_enabled(en) (stb: the low byte); en == 0 → return; nothing
 * latched → return; else (the byte was 0 but the word was not, or a real enable with something latched) hard-
 * disable, set_soft_enabled(1), replay and hard-enable: the second step. A byte of 1 lets the runtime deliver
 * what was latched at once, which is the replay. So a word whose low byte is 0 but which is not 0 leaves the
 * CPU soft-disabled when nothing was latched, and soft-enabled (after the replay) when something was.
 */
function restore(s: number, en: IrqFlags, latched: boolean): number {
  const ns = (s & ~SOFT_ENABLED) | lowByte(en);
  if (en === 0 || lowByte(en) !== 0 || !latched) return ns;
  return (ns & ~SOFT_ENABLED) | 1 | REPLAYING;
}

export const PPC64_LAZY_IRQ: IrqArch = {
  name: "ppc64-lazy",
  initial: 1,
  irqEntry: HARD_DISABLED, // handlers run soft-disabled with MSR_EE = 0
  off: (s) => (s & SOFT_ENABLED) === 0 || (s & (HARD_DISABLED | REPLAYING)) !== 0,
  disabled: (s) => (s & SOFT_ENABLED) === 0, // arch_irqs_disabled: soft_enabled == 0; MSR_EE is not looked at
  save: (s) => s & SOFT_ENABLED, // arch_local_save_flags: soft_enabled
  disable: (s) => s & ~SOFT_ENABLED, // arch_local_irq_disable: soft_enabled = 0
  enable: (s) => restore(s, 1, false), // arch_local_irq_enable: arch_local_irq_restore(1)
  restore,
  replay: (s) => ((s & REPLAYING) !== 0 ? s & ~REPLAYING : -1),
};

/** The exception entry with MSR_EE = 0. */
export const hard_irq_entry_state = (s: number): number => s | HARD_DISABLED;
/** The return (rfid) that turns MSR_EE back on. */
export const hard_irq_return_state = (s: number): number => s & ~HARD_DISABLED;
