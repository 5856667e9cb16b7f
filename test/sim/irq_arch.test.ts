// Saved IRQ flags are the arch's word: x86's EFLAGS (the default model). A restore does what popf does with the
// word it is given, so restoring unrelated flags disables or enables by their IF bit, as C would.

import { describe, it, expect } from "vitest";
import { defineScenario, outcomes } from "../../lib/explore/index";
import { simOps, X86_IRQ, X86_EFLAGS_IF, X86_EFLAGS_FIXED, x86_irqs_disabled_flags } from "../../lib/sim/index";
import type { Gen, KernelBase, Bound, SimOps } from "../../lib/sim/index";
import { oneOf } from "../../lib/explore/params";

type K = KernelBase & Bound<SimOps>;

describe("x86 flags (asm/irqflags.h): EFLAGS with IF = 0x200", () => {
  it("save returns EFLAGS with IF set from an IRQs-on state, and disables", () => {
    expect(X86_IRQ.save(X86_IRQ.initial)).toBe(X86_EFLAGS_FIXED | X86_EFLAGS_IF);
    expect(X86_IRQ.off(X86_IRQ.initial)).toBe(false);
    const off = X86_IRQ.disable(X86_IRQ.initial);
    expect(X86_IRQ.off(off)).toBe(true);
    expect(X86_IRQ.save(off)).toBe(X86_EFLAGS_FIXED);
    expect(x86_irqs_disabled_flags(X86_IRQ.save(off))).toBe(true);
    expect(x86_irqs_disabled_flags(0x202)).toBe(false);
  });

  it("restore follows the word's IF bit (popf), whatever else it holds", () => {
    const off = X86_IRQ.disable(X86_IRQ.initial);
    expect(X86_IRQ.off(X86_IRQ.restore(off, 0x200, false))).toBe(false);
    expect(X86_IRQ.off(X86_IRQ.restore(X86_IRQ.initial, 0, false))).toBe(true);
    expect(X86_IRQ.off(X86_IRQ.restore(off, 2 ** 39, false))).toBe(true); // no IF bit: stays off
    expect(X86_IRQ.off(X86_IRQ.restore(off, 2 ** 39 + 0x200, false))).toBe(false);
    expect(X86_IRQ.replay(X86_IRQ.restore(off, 1, true))).toBe(-1); // no replay step on x86
  });
});

const s = defineScenario({
  id: "test-irq-flags-x86",
  title: "a task restores the flags it saved, or another word",
  ops: simOps,
  variants: { base: {} },
  machine: { cpus: 1 },
  params: { restore: oneOf(["saved", "zero", "if-bit", "bad"] as const, "saved") },
  setup(k0, m, p) {
    const k = k0 as unknown as K;
    let seen = -1;
    m.spawn(
      0,
      "t",
      (function* (): Gen {
        const f = yield* k.local_irq_save();
        seen = f;
        const w = { saved: f, zero: 0, "if-bit": X86_EFLAGS_IF, bad: 0.5 }[p.restore];
        yield* k.local_irq_restore(w);
      })(),
    );
    return { observe: () => `flags=0x${seen.toString(16)}` };
  },
});

describe("the runtime under the x86 model", () => {
  it("local_irq_save's flags are 0x202; restoring them or IF is balanced, restoring 0 leaves IRQs off", () => {
    expect(outcomes(s, { params: { restore: "saved" } }).counts).toEqual({ "flags=0x202": 1 });
    expect(outcomes(s, { params: { restore: "if-bit" } }).counts).toEqual({ "flags=0x202": 1 });
    expect(outcomes(s, { params: { restore: "zero" } }).counts).toEqual({ "irqs-off-at-return": 1 });
  });

  it("flags that are not an unsigned long are a clear error", () => {
    expect(() => outcomes(s, { params: { restore: "bad" } })).toThrow(/unsigned long/);
  });
});
