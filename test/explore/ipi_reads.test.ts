// dfs() leaves out the tasks' IPI-queue reads until some IPI queue is written, then starts over with them: the
// search it reports must be step for step the one that always records them (counts, states, violations).

import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { dfs, dfsStrategy, runExecution, Session } from "../../lib/explore/index";
import type { DfsOptions } from "../../lib/explore/index";
import { programScenario, Op, Program } from "./programs";

interface Run {
  executions: number;
  sleepBlocked: number;
  pruned: number;
  exhaustive: boolean;
  leaves: string[];
}

const options = (bound: number, leaves: string[]): DfsOptions => ({
  reduce: true,
  preemptionBound: bound,
  maxSteps: 200,
  maxExecutions: 20_000,
  deadline: Infinity,
  stopOnViolation: false,
  onExecution: (e) => leaves.push(e.violation ? `! ${e.violation.invariant}` : e.observation!),
});

/** The search as dfs() runs it. */
function viaDfs(prog: Program, bound: number): Run {
  const leaves: string[] = [];
  const r = dfs(new Session(programScenario(prog)), options(bound, leaves));
  return { executions: r.executions, sleepBlocked: r.sleepBlocked, pruned: r.pruned, exhaustive: r.exhaustive, leaves };
}

/** The same search with the IPI-queue reads recorded from the first execution on (the reference). */
function withReads(prog: Program, bound: number): Run {
  const leaves: string[] = [];
  const session = new Session(programScenario(prog));
  const s = dfsStrategy(session, options(bound, leaves), true);
  let n = 0;
  while (!s.state.exhausted && n++ < 20_000) runExecution(session, s, { maxSteps: 200, record: false, observe: false });
  const st = s.state;
  return {
    executions: st.executions,
    sleepBlocked: st.sleepBlocked,
    pruned: st.pruned,
    exhaustive: st.exhausted,
    leaves,
  };
}

const opArb: fc.Arbitrary<Op[]> = fc.oneof(
  fc
    .record({ v: fc.integer({ min: 0, max: 1 }), reg: fc.integer({ min: 0, max: 1 }) })
    .map((o): Op[] => [{ t: "read", ...o }]),
  fc.record({ v: fc.integer({ min: 0, max: 1 }) }).map((o): Op[] => [{ t: "inc", ...o }]),
  fc.constant<Op[]>([{ t: "irqoff" }, { t: "inc", v: 1 }, { t: "irqon" }]),
  fc.constant<Op[]>([
    { t: "lock", l: 0 },
    { t: "inc", v: 0 },
    { t: "unlock", l: 0 },
  ]),
  fc.integer({ min: 0, max: 1 }).map((v): Op[] => [{ t: "ipi", v }]),
);

const programArb: fc.Arbitrary<Program> = fc.integer({ min: 2, max: 3 }).chain((n) =>
  fc.record({
    vars: fc.constant(2),
    locks: fc.constant(1),
    threads: fc.tuple(
      ...Array.from({ length: n }, () =>
        fc.array(opArb, { minLength: 1, maxLength: n === 2 ? 3 : 2 }).map((a) => a.flat()),
      ),
    ),
    forbid: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  }),
);

describe("IPI-queue reads recorded only once an IPI queue is written", () => {
  it("a program that sends a synchronous IPI: the same search, execution for execution", () => {
    const prog: Program = {
      vars: 2,
      locks: 1,
      threads: [
        [{ t: "ipi", v: 0 }],
        [{ t: "irqoff" }, { t: "inc", v: 0 }, { t: "irqon" }, { t: "read", v: 0, reg: 0 }],
      ],
    };
    for (const bound of [1, Infinity]) {
      const a = viaDfs(prog, bound);
      expect(a.exhaustive).toBe(true);
      expect(a).toEqual(withReads(prog, bound));
    }
  });

  for (const bound of [0, 2, Infinity]) {
    it(`generated programs, bound ${bound}: same counts, leaves and order`, () => {
      let withIpi = 0;
      fc.assert(
        fc.property(programArb, (prog) => {
          const a = viaDfs(prog, bound);
          fc.pre(a.exhaustive);
          expect(a).toEqual(withReads(prog, bound));
          if (prog.threads.some((t) => t.some((o) => o.t === "ipi"))) withIpi++;
        }),
        { numRuns: 60, seed: 4242 + (bound === Infinity ? 9 : bound) },
      );
      expect(withIpi).toBeGreaterThan(10);
    }, 120_000);
  }
});
