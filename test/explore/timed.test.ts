// Timed mode: costs from the cost model, waits accounted, IPI latency respected.

import { describe, it, expect } from "vitest";
import { runTimed, defineScenario } from "../../lib/explore/index";
import { simOps, event, DEFAULT_COSTS, spin_lock_init } from "../../lib/sim/index";
import type { Gen } from "../../lib/sim/machine";
import type { KernelBase } from "../../lib/sim/kernel";
import "../../lib/powerpc/costs"; // the tlbie key the steps below are charged

const TLBIE = event("test", "tlbie", { cost: "tlbie", counter: "tlbie" });

describe("timed mode", () => {
  it("charges each step its cost and counts events", () => {
    const s = defineScenario({
      id: "test-timed-cost",
      title: "cost",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 1 },
      setup(k, m) {
        const o = m.newObj("o");
        m.spawn(
          0,
          "t",
          (function* (): Gen {
            for (let i = 0; i < 3; i++) {
              k.W(o, TLBIE);
              yield;
            }
            k.sample("latency", k.now());
          })(),
        );
      },
    });
    const r = runTimed(s);
    expect(r.counters.tlbie).toBe(3);
    expect(r.makespanNs).toBe(3 * DEFAULT_COSTS.tlbie);
    expect(r.samples.latency.values).toEqual([3 * DEFAULT_COSTS.tlbie]);
    expect(runTimed(s, { costs: { tlbie: 300 } }).makespanNs).toBe(900);
    expect(() => runTimed(s, { costs: { tlbie: -1 } })).toThrow(/finite number/);
    expect(() => runTimed(s, { costs: { warp: 1 } as never })).toThrow(/unknown cost/);
  });

  it("a CPU spinning on a held lock accumulates wait time", () => {
    const s = defineScenario({
      id: "test-timed-wait",
      title: "wait",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 2 },
      setup(k, m) {
        const l = spin_lock_init(m, "L");
        const o = m.newObj("o");
        const body = (n: number) =>
          (function* (): Gen {
            yield* k.spin_lock(l);
            for (let i = 0; i < n; i++) {
              k.W(o, TLBIE);
              yield;
            }
            yield* k.spin_unlock(l);
          })();
        m.spawn(0, "holder", body(10));
        m.spawn(1, "waiter", body(1));
      },
    });
    const r = runTimed(s);
    expect(r.waitNs[1]).toBeGreaterThanOrEqual(9 * DEFAULT_COSTS.tlbie);
    expect(r.waitNs[0]).toBe(0);
  });

  it("an IPI handler starts no earlier than the IPI latency after the send", () => {
    let started = -1;
    const s = defineScenario({
      id: "test-timed-ipi",
      title: "ipi",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 2 },
      setup(k, m) {
        m.spawn(
          0,
          "sender",
          k.smp_call_function(
            "h",
            function* (kk: KernelBase): Gen {
              started = kk.now();
              kk.local(TLBIE);
              yield;
            },
            null,
            true,
          ),
        );
      },
    });
    const r = runTimed(s);
    expect(started).toBeGreaterThanOrEqual(DEFAULT_COSTS.ipi);
    expect(r.counters.IPIs).toBe(1);
    expect(r.waitNs[0]).toBeGreaterThanOrEqual(DEFAULT_COSTS.ipi);
  });
});
