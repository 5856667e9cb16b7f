// The explorer on cases with known answers.

import { describe, it, expect } from "vitest";
import {
  explore,
  replay,
  dfs,
  Session,
  defineScenario,
  traceHash,
  runExecution,
  RandomPicker,
  encodeSchedule,
} from "../../lib/explore/index";
import { simOps, event, spin_lock_init } from "../../lib/sim/index";
import type { Gen } from "../../lib/sim/machine";
import type { KernelBase } from "../../lib/sim/kernel";
import "../../lib/fixes/index";
import "../../lib/examples/index";
import { programScenario, Op } from "./programs";

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

describe("lost update", () => {
  it("is found on the racy counter, with a preemption, steps from both CPUs, and replays", () => {
    const r = explore("lost-update", { variant: "racy" });
    expect(r.violation).not.toBeNull();
    const v = r.violation!;
    expect(v.invariant).toBe("lost-update");
    expect(v.preemptions).toBe(1);
    expect(new Set(v.trace.map((t) => t.cpu)).size).toBe(2);
    const rp = replay("lost-update", { schedule: v.schedule });
    expect(rp.violation?.invariant).toBe("lost-update");
    expect(traceHash(rp.trace)).toBe(traceHash(v.trace));
  });

  it("is absent with the spinlock, and the bounded space is exhausted", () => {
    const r = explore("lost-update", { variant: "spinlock", preemptions: Infinity });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("every serial schedule of the racy counter is clean", () => {
    const r = explore("lost-update", { variant: "racy", preemptions: 0 });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("is found by PCT and by the random walk", () => {
    for (const strategy of ["pct", "random"] as const) {
      const r = explore("lost-update", { variant: "racy", strategy, seed: 7 });
      expect(r.violation?.invariant, strategy).toBe("lost-update");
    }
  });
});

describe("partial-order reduction", () => {
  const E = event("indep", "private write");
  const independent = (steps: number) =>
    defineScenario({
      id: `test-independent-${steps}`,
      title: "two threads on private objects",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 2 },
      bounds: { maxSteps: 100 },
      setup(k, m) {
        for (let c = 0; c < 2; c++) {
          const obj = m.newObj(`private${c}`);
          m.spawn(
            c,
            `t${c}`,
            (function* (): Gen {
              for (let i = 0; i < steps; i++) {
                k.W(obj, E);
                yield;
              }
            })(),
          );
        }
      },
    });

  for (const steps of [2, 3, 5]) {
    it(`two threads of ${steps} independent steps: 1 execution reduced, C(${2 * steps},${steps}) without`, () => {
      const s = independent(steps);
      const red = explore(s, { preemptions: Infinity });
      const full = explore(s, { preemptions: Infinity, reduce: false });
      expect(red.exhaustive && full.exhaustive).toBe(true);
      expect(red.executions).toBe(1);
      expect(full.executions).toBe(binom(2 * steps, steps));
    });
  }
});

describe("interrupts and RCU", () => {
  it("an IPI to a CPU with IRQs off is not delivered until it re-enables them", () => {
    const E = event("test", "write A");
    const seen = new Set<number>();
    const s = defineScenario({
      id: "test-ipi-irqoff",
      title: "IPI vs IRQ-off section",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 2 },
      setup(k, m) {
        const a = { id: m.newObj("A"), v: 0 };
        m.spawn(
          0,
          "irqoff",
          (function* (): Gen {
            yield* k.local_irq_disable();
            k.W(a, E);
            yield;
            a.v = 1;
            k.W(a, E);
            yield;
            a.v = 2;
            yield* k.local_irq_enable();
          })(),
        );
        m.spawn(
          1,
          "sender",
          k.smp_call_function(
            "read_A",
            function* (kk: KernelBase): Gen {
              kk.R(a, E);
              yield;
              seen.add(a.v);
              if (a.v === 1) kk.violation("ipi-in-irqoff", "handler ran inside the IRQ-off section");
            },
            null,
            true,
          ),
        );
      },
    });
    const r = explore(s, { preemptions: Infinity });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
    expect([...seen].sort()).toEqual([0, 2]); // delivered before and after the section, never inside
  });

  it("an RCU callback never runs while a CPU that was IRQ-off at call_rcu time is still in that section", () => {
    const E = event("test", "section");
    let ran = 0;
    let deferred = 0;
    const s = defineScenario({
      id: "test-rcu-irqoff",
      title: "call_rcu_sched vs IRQ-off reader",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 2, rcu: true },
      setup(k, m) {
        const sec = { id: m.newObj("section"), n: 0, open: false };
        m.spawn(
          0,
          "reader",
          (function* (): Gen {
            for (let i = 0; i < 2; i++) {
              yield* k.local_irq_disable();
              k.W(sec, E);
              yield;
              sec.n++;
              sec.open = true;
              k.W(sec, E);
              yield;
              sec.open = false;
              yield* k.local_irq_enable();
            }
          })(),
        );
        m.spawn(
          1,
          "updater",
          (function* (): Gen {
            k.R(sec, E);
            yield;
            const snap = { n: sec.n, open: sec.open };
            yield* k.call_rcu_sched(
              "free",
              function* (kk: KernelBase): Gen {
                kk.R(sec, E);
                yield;
                ran++;
                if (snap.open && sec.open && sec.n === snap.n)
                  kk.violation("gp-too-short", "callback ran inside the section it had to wait for");
                if (snap.open) deferred++;
              },
              null,
            );
          })(),
        );
      },
    });
    const r = explore(s, { preemptions: Infinity });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
    expect(ran).toBeGreaterThan(0);
    expect(deferred).toBeGreaterThan(0); // some executions did call inside an open section
  });

  it("an ABBA deadlock is reported", () => {
    const s = defineScenario({
      id: "test-abba",
      title: "ABBA",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 2 },
      setup(k, m) {
        const a = spin_lock_init(m, "A");
        const b = spin_lock_init(m, "B");
        const body = function* (x: typeof a, y: typeof a): Gen {
          yield* k.spin_lock(x);
          yield* k.spin_lock(y);
          yield* k.spin_unlock(y);
          yield* k.spin_unlock(x);
        };
        m.spawn(0, "ab", body(a, b));
        m.spawn(1, "ba", body(b, a));
      },
    });
    const r = explore(s);
    expect(r.violation?.invariant).toBe("deadlock");
    expect(r.violation!.message).toMatch(/waits in spin_lock/);
    expect(replay(s, { schedule: r.violation!.schedule }).violation?.invariant).toBe("deadlock");
  });
});

describe("determinism", () => {
  it("the same seed gives an identical trace hash", () => {
    const s = programScenario({
      vars: 2,
      locks: 1,
      threads: [
        [
          { t: "read", v: 0, reg: 0 },
          { t: "write", v: 1, reg: 0, add: 1 },
          { t: "choose", reg: 1 },
        ],
        [
          { t: "lock", l: 0 },
          { t: "inc", v: 0 },
          { t: "unlock", l: 0 },
          { t: "read", v: 1, reg: 0 },
        ],
      ],
    });
    const hashes = (seed: number) => {
      const sess = new Session(s);
      const out = runExecution(sess, new RandomPicker(seed), { maxSteps: 100, trace: true });
      return traceHash(out.trace!);
    };
    expect(hashes(42)).toBe(hashes(42));
    const distinct = new Set([1, 2, 3, 4, 5, 6, 7, 8].map(hashes));
    expect(distinct.size).toBeGreaterThan(1);
  });

  it("every violation DFS finds replays to the same violation", () => {
    const prog: Op[][] = [
      [
        { t: "read", v: 0, reg: 0 },
        { t: "write", v: 0, reg: 0, add: 1 },
        { t: "read", v: 1, reg: 1 },
      ],
      [
        { t: "read", v: 0, reg: 0 },
        { t: "write", v: 0, reg: 0, add: 1 },
        { t: "inc", v: 1 },
      ],
    ];
    const s = programScenario({ vars: 2, locks: 0, threads: prog, forbid: 1 });
    const sess = new Session(s);
    let checked = 0;
    dfs(sess, {
      reduce: true,
      preemptionBound: Infinity,
      maxSteps: 100,
      maxExecutions: Infinity,
      deadline: Infinity,
      stopOnViolation: false,
      onExecution: (e) => {
        if (!e.violation) return;
        const sched = encodeSchedule({ scenario: s.id, variant: "base", fingerprint: sess.fingerprint }, e.decisions());
        expect(replay(s, { schedule: sched }).violation?.message).toBe(e.violation.message);
        checked++;
      },
    });
    expect(checked).toBeGreaterThan(0);
  });
});

describe("outcomes", () => {
  it("counts every interleaving's end: 6 for two increments, 4 of which lose one; 90 and 84 with three CPUs", async () => {
    const { outcomes } = await import("../../lib/explore/outcomes");
    expect(outcomes("lost-update", { variant: "racy" })).toEqual({
      executions: 6,
      exhaustive: true,
      counts: { "counter=2": 2, "lost-update": 4 },
    });
    const three = outcomes("lost-update", { variant: "racy", params: { cpus: 3 } });
    expect(three.executions).toBe(90); // 6!/(2!·2!·2!)
    expect(three.counts["lost-update"]).toBe(84);
    const reduced = outcomes("lost-update", { variant: "racy", reduce: true });
    expect(reduced.executions).toBeLessThan(6);
    expect(Object.keys(reduced.counts).sort()).toEqual(["counter=2", "lost-update"]);
  });
});
