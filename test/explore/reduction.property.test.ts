// Honesty of the search: on generated small programs, DPOR reaches exactly the terminal states and violations
// plain DFS reaches, in no more executions; with a preemption bound, the same holds against bounded plain DFS.

import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { dfs, Session } from "../../lib/explore/index";
import { programScenario, Op, Program } from "./programs";

const opArb = (): fc.Arbitrary<Op[]> =>
  fc.oneof(
    fc
      .record({
        t: fc.constant("read" as const),
        v: fc.integer({ min: 0, max: 1 }),
        reg: fc.integer({ min: 0, max: 1 }),
      })
      .map((o): Op[] => [o]),
    fc
      .record({
        t: fc.constant("write" as const),
        v: fc.integer({ min: 0, max: 1 }),
        reg: fc.integer({ min: 0, max: 1 }),
        add: fc.integer({ min: 0, max: 2 }),
      })
      .map((o): Op[] => [o]),
    fc.record({ t: fc.constant("inc" as const), v: fc.integer({ min: 0, max: 1 }) }).map((o): Op[] => [o]),
    fc.record({ l: fc.integer({ min: 0, max: 1 }), v: fc.integer({ min: 0, max: 1 }) }).map(({ l, v }): Op[] => [
      { t: "lock" as const, l },
      { t: "inc" as const, v },
      { t: "unlock" as const, l },
    ]),
    fc
      .record({ v: fc.integer({ min: 0, max: 1 }) })
      .map(({ v }): Op[] => [{ t: "irqoff" as const }, { t: "inc" as const, v }, { t: "irqon" as const }]),
    fc.constant<Op[]>([{ t: "choose", reg: 1 }]),
    fc.integer({ min: 0, max: 1 }).map((v): Op[] => [{ t: "ipi" as const, v }]),
  );

const programArb: fc.Arbitrary<Program> = fc.integer({ min: 2, max: 3 }).chain((n) =>
  fc.record({
    vars: fc.constant(2),
    locks: fc.constant(2),
    threads: fc.tuple(
      ...Array.from({ length: n }, () =>
        fc.array(opArb(), { minLength: 1, maxLength: n === 2 ? 3 : 2 }).map((a) => a.flat()),
      ),
    ),
    forbid: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  }),
);

interface Summary {
  states: Set<string>;
  violations: Set<string>;
  executions: number;
  exhaustive: boolean;
}

function search(prog: Program, reduce: boolean, bound: number): Summary {
  const s = programScenario(prog);
  const states = new Set<string>();
  const violations = new Set<string>();
  const r = dfs(new Session(s), {
    reduce,
    preemptionBound: bound,
    maxSteps: 200,
    maxExecutions: 20_000,
    deadline: Infinity,
    stopOnViolation: false,
    onExecution: (e) => {
      if (e.violation) violations.add(`${e.violation.invariant}: ${e.violation.message}`);
      else states.add(e.observation!);
    },
  });
  return { states, violations, executions: r.executions, exhaustive: r.exhaustive };
}

describe("DPOR is exact on generated programs", () => {
  it("unbounded: same terminal states and violations as plain DFS, in no more executions", () => {
    let compared = 0;
    let saved = 0;
    fc.assert(
      fc.property(programArb, (prog) => {
        const full = search(prog, false, Infinity);
        fc.pre(full.exhaustive);
        const red = search(prog, true, Infinity);
        expect(red.exhaustive).toBe(true);
        expect([...red.states].sort()).toEqual([...full.states].sort());
        expect([...red.violations].sort()).toEqual([...full.violations].sort());
        expect(red.executions).toBeLessThanOrEqual(full.executions);
        compared++;
        saved += full.executions - red.executions;
      }),
      { numRuns: 120, seed: 20261122 },
    );
    expect(compared).toBeGreaterThan(60);
    expect(saved).toBeGreaterThan(0);
  }, 240_000);

  for (const bound of [0, 1, 2]) {
    it(`preemption bound ${bound}: same terminal states and violations as bounded plain DFS`, () => {
      fc.assert(
        fc.property(programArb, (prog) => {
          const full = search(prog, false, bound);
          fc.pre(full.exhaustive);
          const red = search(prog, true, bound);
          expect(red.exhaustive).toBe(true);
          expect([...red.states].sort()).toEqual([...full.states].sort());
          expect([...red.violations].sort()).toEqual([...full.violations].sort());
        }),
        { numRuns: 80, seed: 1122 + bound },
      );
    }, 240_000);
  }
});
