// ppc64's lazy IRQ model (lib/powerpc/irq.ts) as the runtime's: flags are soft_enabled, and
// arch_local_irq_restore stores the word's low byte but tests the whole word, replaying a latched interrupt.
// 1 << 39 (H_EXACT, the hcall's flags fix 004's H_PARAMETER path restores) is the case C gets wrong.

import { describe, it, expect } from "vitest";
import { defineScenario, outcomes } from "../../lib/explore/index";
import { simOps, event } from "../../lib/sim/index";
import type { Gen, KernelBase, Bound, SimOps } from "../../lib/sim/index";
import { oneOf, bool } from "../../lib/explore/params";
import { PPC64_LAZY_IRQ as P, HARD_DISABLED, SOFT_ENABLED, hard_irq_entry_state } from "../../lib/powerpc/irq";

type K = KernelBase & Bound<SimOps>;
const H_EXACT = 2 ** 39;
const off = P.disable(P.initial); // after local_irq_save: soft_enabled = 0

describe("ppc64 lazy flags: arch_local_irq_restore of the era", () => {
  it("save returns soft_enabled (1, then 0) and soft-disables", () => {
    expect(P.save(P.initial)).toBe(1);
    expect(P.save(off)).toBe(0);
    expect(P.off(off)).toBe(true);
    expect(P.disabled(off)).toBe(true);
  });

  it("restore of 0: soft-disabled, no replay, latched or not", () => {
    for (const latched of [false, true]) {
      const s = P.restore(P.initial, 0, latched);
      expect(P.disabled(s)).toBe(true);
      expect(P.replay(s)).toBe(-1);
    }
  });

  it("restore of 1: soft-enabled at once (the runtime delivers what was latched: the replay)", () => {
    for (const latched of [false, true]) {
      const s = P.restore(off, 1, latched);
      expect(P.off(s)).toBe(false);
      expect(P.replay(s)).toBe(-1);
    }
  });

  it("restore of 1 << 39, nothing latched: the byte stored is 0, the word is not: left soft-disabled", () => {
    const s = P.restore(off, H_EXACT, false);
    expect(s & SOFT_ENABLED).toBe(0);
    expect(P.disabled(s)).toBe(true);
    expect(P.replay(s)).toBe(-1);
  });

  it("restore of 1 << 39 with an interrupt latched: hard-disabled, then the replay's step soft-enables", () => {
    const s = P.restore(off, H_EXACT, true);
    expect(P.off(s)).toBe(true); // between __check_irq_replay and the hard enable
    const r = P.replay(s);
    expect(r).not.toBe(-1);
    expect(r & SOFT_ENABLED).toBe(1);
    expect(P.off(r)).toBe(false);
  });

  it("an exception entered with MSR_EE = 0 keeps delivery off across a restore of 1 (soft_enabled untouched)", () => {
    const s = P.restore(hard_irq_entry_state(off), 1, false);
    expect(s & HARD_DISABLED).toBe(HARD_DISABLED);
    expect(P.disabled(s)).toBe(false);
    expect(P.off(s)).toBe(true);
  });
});

const E = event("test", "step");
let handled = false;
function* handler(k: KernelBase): Gen {
  k.local(E);
  yield;
  handled = true;
}

const s = defineScenario({
  id: "test-irq-flags-ppc64-lazy",
  title: "CPU 0 saves its flags and restores a word; CPU 1 may send it an IPI meanwhile",
  ops: simOps,
  variants: { base: {} },
  machine: { cpus: 2 },
  params: { restore: oneOf(["saved", "h-exact"] as const, "saved"), ipi: bool(true) },
  setup(k0, m, p) {
    const k = k0 as unknown as K;
    m.useIrqArch(P);
    handled = false;
    m.spawn(
      0,
      "restorer",
      (function* (): Gen {
        const f = yield* k.local_irq_save();
        yield* k.local_irq_restore(p.restore === "saved" ? f : H_EXACT);
      })(),
    );
    if (p.ipi) m.spawn(1, "sender", k.smp_call_function_single(0, "h", handler, null, false));
    return { observe: () => `soft_enabled=${m.ctxs[0].irqState & SOFT_ENABLED} handled=${handled}` };
  },
});

describe("the runtime under ppc64's lazy model", () => {
  it("restoring the saved flags is balanced in every order; the IPI is always handled", () => {
    const c = outcomes(s, { params: { restore: "saved" } }).counts;
    expect(Object.keys(c)).toEqual(["soft_enabled=1 handled=true"]);
  });

  it("restoring 1 << 39 alone returns soft-disabled", () => {
    expect(outcomes(s, { params: { restore: "h-exact", ipi: false } }).counts).toEqual({ "irqs-off-at-return": 1 });
  });

  it("restoring 1 << 39 is balanced exactly when the IPI was latched before the restore (replayed)", () => {
    const c = outcomes(s, { params: { restore: "h-exact" } }).counts;
    expect(c["irqs-off-at-return"]).toBeGreaterThan(0);
    expect(c["soft_enabled=1 handled=true"]).toBeGreaterThan(0);
    expect(Object.keys(c).sort()).toEqual(["irqs-off-at-return", "soft_enabled=1 handled=true"]);
  });

  it("useIrqArch after the first step is an error", () => {
    const late = defineScenario({
      id: "test-irq-arch-late",
      title: "late registration",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 1 },
      setup(k, m) {
        m.spawn(
          0,
          "t",
          (function* (): Gen {
            k.local(E);
            yield;
            m.useIrqArch(P);
          })(),
        );
      },
    });
    expect(() => outcomes(late)).toThrow(/after the first step/);
  });
});
