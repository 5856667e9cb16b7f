// Sharded search: the union of n shards has the whole search's verdict, violations and terminal states.

import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { programScenario, Op, Program } from "./programs";
import { Session } from "../../lib/explore/scenario";
import { getScenario } from "../../lib/explore/registry";
import { runPart, PartOptions, PartResult } from "../../lib/explore/shard";
import { dfs, dfsStrategy, type DfsOptions } from "../../lib/explore/strategies/dfs";
import { runExecution } from "../../lib/explore/exec";
import { explore } from "../../lib/explore/explore";
import "../../lib/fixes/index";
import "../../lib/examples/index";

function opts(session: Session, over: Partial<PartOptions> = {}): PartOptions {
  return {
    strategy: "dfs",
    preemptions: session.bounds.preemptions,
    reduce: true,
    depth: session.bounds.depth,
    maxSteps: session.bounds.maxSteps,
    deadline: Infinity,
    seed: 1,
    stopOnViolation: false,
    terminal: true,
    ...over,
  };
}

const dfsOpts = (bound: number): DfsOptions => ({
  reduce: true,
  preemptionBound: bound,
  maxSteps: 200,
  maxExecutions: 20_000,
  deadline: Infinity,
  stopOnViolation: false,
});

interface Union {
  states: Set<string>;
  invariants: string[];
  exhaustive: boolean;
  executions: number;
}

function union(parts: PartResult[]): Union {
  const states = new Set<string>();
  const inv = new Set<string>();
  for (const p of parts) {
    for (const s of p.terminalStates) states.add(s);
    for (const i of Object.keys(p.violationCounts)) inv.add(i);
  }
  return {
    states,
    invariants: [...inv].sort(),
    exhaustive: parts.every((p) => p.exhaustive),
    executions: parts.reduce((a, p) => a + p.executions, 0),
  };
}

const CASES: [string, string, Record<string, unknown>, number | undefined][] = [
  ["lazy-mmu-batch", "before", {}, undefined],
  ["lazy-mmu-batch", "after", {}, undefined],
  ["lost-update", "racy", {}, Infinity],
  ["lost-update", "spinlock", {}, Infinity],
];

describe("sharded DFS", () => {
  for (const [id, variant, params, bound] of CASES) {
    it(`${id}/${variant}: n = 1, 2, 3, 7 shards give the unsharded verdict and terminal states`, () => {
      const session = new Session(getScenario(id), { variant, params });
      const o = opts(session, bound !== undefined ? { preemptions: bound } : {});
      const whole = union([runPart(session, o)]);
      expect(whole.exhaustive).toBe(true);
      expect(whole.states.size).toBeGreaterThan(0);
      for (const n of [1, 2, 3, 7]) {
        const parts = Array.from({ length: n }, (_, i) => runPart(session, { ...o, shard: { index: i, count: n } }));
        const u = union(parts);
        expect(u.exhaustive).toBe(true);
        expect(u.invariants).toEqual(whole.invariants);
        expect([...u.states].sort()).toEqual([...whole.states].sort());
        // every shard numbers the same prefixes
        expect(new Set(parts.map((p) => p.prefixes)).size).toBe(1);
        expect(parts.reduce((a, p) => a + p.searched, 0)).toBe(parts[0].prefixes);
      }
    });
  }
});

describe("sharded DFS on generated programs (IRQ-off regions, IPIs, choose, locks)", () => {
  it("unbounded and bounded: the union of n shards reaches the unsharded terminal states and violations", () => {
    const op = fc.oneof(
      fc.record({
        t: fc.constant("read" as const),
        v: fc.integer({ min: 0, max: 1 }),
        reg: fc.integer({ min: 0, max: 1 }),
      }),
      fc.record({
        t: fc.constant("write" as const),
        v: fc.integer({ min: 0, max: 1 }),
        reg: fc.integer({ min: 0, max: 1 }),
        add: fc.integer({ min: 0, max: 2 }),
      }),
      fc.record({ t: fc.constant("inc" as const), v: fc.integer({ min: 0, max: 1 }) }),
      fc.constant<Op>({ t: "choose", reg: 1 }),
      fc.integer({ min: 0, max: 1 }).map((v): Op => ({ t: "ipi", v })),
    );
    const block = fc.oneof(
      op.map((o): Op[] => [o]),
      fc.integer({ min: 0, max: 1 }).map((l): Op[] => [
        { t: "lock", l },
        { t: "inc", v: l },
        { t: "unlock", l },
      ]),
      fc.integer({ min: 0, max: 1 }).map((v): Op[] => [{ t: "irqoff" }, { t: "inc", v }, { t: "irqon" }]),
    );
    const prog: fc.Arbitrary<Program> = fc.record({
      vars: fc.constant(2),
      locks: fc.constant(2),
      threads: fc.array(
        fc.array(block, { minLength: 1, maxLength: 2 }).map((a) => a.flat()),
        { minLength: 2, maxLength: 3 },
      ),
      forbid: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(prog, fc.constantFrom(2, 3, 7), fc.constantFrom(Infinity, 1), fc.integer(), (p, n, bound, salt) => {
        const session = new Session(programScenario(p));
        const o = opts(session, { preemptions: bound, maxSteps: 200 });
        const whole = union([runPart(session, o)]);
        const u = union(Array.from({ length: n }, (_, i) => runPart(session, { ...o, shard: { index: i, count: n } })));
        expect(u.exhaustive).toBe(whole.exhaustive);
        expect(u.invariants).toEqual(whole.invariants);
        expect([...u.states].sort()).toEqual([...whole.states].sort());
        // any partition of the prefixes (the parallel search's claims give one decided at run time)
        const depth = runPart(session, { ...o, shard: { index: 0, count: n } }).splitDepth!;
        const owner = (j: number) => Math.abs(Math.imul(j + 1, 0x9e3779b1) ^ salt) % n;
        const v = union(
          Array.from({ length: n }, (_, i) =>
            runPart(session, { ...o, splitDepth: depth, keep: (j) => owner(j) === i }),
          ),
        );
        expect([...v.states].sort()).toEqual([...whole.states].sort());
        expect(v.invariants).toEqual(whole.invariants);
        expect(v.exhaustive).toBe(whole.exhaustive);
      }),
      { numRuns: 60, seed: 15 },
    );
  });
});

describe("a part runs the default DFS's searches (dfs.ts: dfsRun, boundsOf)", () => {
  it("stopping at the first violation, a part searches bounds 0 and 1 first: 3 CPUs x 3 pages before, as explore()", () => {
    const params = { cpus: 3, pages: 3 };
    const session = new Session(getScenario("lazy-mmu-batch"), { variant: "before", params });
    const whole = explore("lazy-mmu-batch", { variant: "before", params });
    const part = runPart(session, opts(session, { stopOnViolation: true }));
    expect(part.violations[0]?.info.invariant).toBe(whole.violation?.invariant);
    // one search at bound 2 needs more executions to its first violation (iterative_bounding.test.ts)
    expect(part.executions).toBe(whole.executions);
    expect(part.violations[0]?.preemptions).toBeLessThanOrEqual(1);
  });

  it("a program that sends a synchronous IPI: the part restarts with the IPI-queue reads, as dfs() does", () => {
    const prog: Program = {
      vars: 2,
      locks: 1,
      threads: [
        [{ t: "ipi", v: 0 }],
        [{ t: "irqoff" }, { t: "inc", v: 0 }, { t: "irqon" }, { t: "read", v: 0, reg: 0 }],
        [
          { t: "read", v: 0, reg: 1 },
          { t: "write", v: 1, reg: 1, add: 1 },
        ],
      ],
      forbid: 1,
    };
    const session = new Session(programScenario(prog));
    for (const bound of [1, Infinity]) {
      // the restart matters here: a search without the reads stops itself at an IPI-queue write
      const probe = dfsStrategy(session, dfsOpts(bound), false);
      while (!probe.state.restart && !probe.state.exhausted)
        runExecution(session, probe, { maxSteps: 200, record: false, observe: false });
      expect(probe.state.restart).toBe(true);
      let violating = 0;
      const ref = dfs(session, { ...dfsOpts(bound), onExecution: (e) => void (e.violation && violating++) });
      const o = opts(session, { preemptions: bound, maxSteps: 200 });
      const one = runPart(session, o);
      // execution for execution the search dfs() reports (which equals the one with the reads from the start)
      expect(one.executions).toBe(ref.executions);
      expect(one.exhaustive).toBe(ref.exhaustive);
      expect(Object.values(one.violationCounts).reduce((a, n) => a + n, 0)).toBe(violating);
      for (const n of [2, 3]) {
        const u = union(Array.from({ length: n }, (_, i) => runPart(session, { ...o, shard: { index: i, count: n } })));
        expect([...u.states].sort()).toEqual([...one.terminalStates].sort());
        expect(u.invariants).toEqual(Object.keys(one.violationCounts).sort());
      }
    }
  });
});
