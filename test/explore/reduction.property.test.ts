// Honesty of the search: on generated small programs, DPOR reaches exactly the terminal states and violations
// plain DFS reaches, in no more executions; with a preemption bound, the same holds against bounded plain DFS.
// The stateful search (DPOR + the state cache) reaches them too, on programs with interrupt contexts (IPIs,
// RCU callbacks), busy-waits, choose() and values that flow between threads; and each of the cache's
// soundness rules, broken on purpose, makes the property fail (so it tests something). The parallel DFS's work
// stealing, played in one thread with generated turns and hand-offs, reaches them too.

import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { dfs, Session, runExecution } from "../../lib/explore/index";
import { dfsStrategy } from "../../lib/explore/strategies/dfs";
import type { DfsOptions, DfsRoot, DfsSearcher } from "../../lib/explore/strategies/dfs";
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

/** The ops above plus RCU callbacks and busy-waits (the stateful search's programs). */
const richOpArb = (): fc.Arbitrary<Op[]> =>
  fc.oneof(
    opArb(),
    fc.integer({ min: 0, max: 1 }).map((v): Op[] => [{ t: "rcu" as const, v }]),
    fc
      .record({
        v: fc.integer({ min: 0, max: 1 }),
        val: fc.integer({ min: 1, max: 2 }),
        reg: fc.integer({ min: 0, max: 1 }),
      })
      .map((o): Op[] => [{ t: "wait" as const, ...o }]),
    // read, then write what was read plus one: a lost update when another thread does the same in between
    fc.integer({ min: 0, max: 1 }).map((v): Op[] => [
      { t: "read" as const, v, reg: 0 },
      { t: "write" as const, v, reg: 0, add: 1 },
    ]),
  );

const programsOf = (ops: () => fc.Arbitrary<Op[]>, long: number, short = 2, minThreads = 2): fc.Arbitrary<Program> =>
  fc.integer({ min: minThreads, max: 3 }).chain((n) =>
    fc.record({
      vars: fc.constant(2),
      locks: fc.constant(2),
      threads: fc.tuple(
        ...Array.from({ length: n }, () =>
          fc.array(ops(), { minLength: 1, maxLength: n === 2 ? long : short }).map((a) => a.flat()),
        ),
      ),
      forbid: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    }),
  );
const programArb = programsOf(opArb, 3);
const richProgramArb = programsOf(richOpArb, 4);
/** Three threads of up to four rich ops each: where a state is reached both with and without a process asleep. */
const richThreeArb = programsOf(richOpArb, 4, 4, 3);

interface Summary {
  states: Set<string>;
  violations: Set<string>;
  executions: number;
  exhaustive: boolean;
}

function search(
  prog: Program,
  reduce: boolean,
  bound: number,
  cache?: Pick<DfsOptions, "unsound"> & { maxMemoryMb?: number; mode?: "compact" | "bitstate" },
  maxExecutions = 20_000,
): Summary {
  const s = programScenario(prog);
  const states = new Set<string>();
  const violations = new Set<string>();
  const r = dfs(new Session(s), {
    reduce,
    ...(cache
      ? { stateCache: { maxMemoryMb: cache.maxMemoryMb ?? 64, mode: cache.mode }, unsound: cache.unsound }
      : {}),
    preemptionBound: bound,
    maxSteps: 200,
    maxExecutions,
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

/** The stateful search against plain DFS on one program: "" if they agree, else what differs. */
function statefulDiffers(prog: Program, unsound?: DfsOptions["unsound"]): string {
  const full = search(prog, false, Infinity);
  if (!full.exhaustive) return "";
  const st = search(prog, true, Infinity, { unsound });
  if (!st.exhaustive) return "not exhaustive";
  const a = JSON.stringify([[...st.states].sort(), [...st.violations].sort()]);
  const b = JSON.stringify([[...full.states].sort(), [...full.violations].sort()]);
  return a === b ? "" : `stateful ${a} vs plain ${b}`;
}

describe("the state cache is exact on generated programs", () => {
  it("DPOR alone is exact on the same programs (RCU grace periods, waits)", () => {
    fc.assert(
      fc.property(richProgramArb, (prog) => {
        const full = search(prog, false, Infinity);
        fc.pre(full.exhaustive);
        const red = search(prog, true, Infinity);
        expect([...red.states].sort()).toEqual([...full.states].sort());
        expect([...red.violations].sort()).toEqual([...full.violations].sort());
      }),
      { numRuns: 200, seed: 20261202 },
    );
  }, 240_000);

  it("unbounded: same terminal states and violations as plain DFS (IRQs, IPIs, RCU, waits, choose)", () => {
    let compared = 0;
    fc.assert(
      fc.property(richProgramArb, (prog) => {
        const full = search(prog, false, Infinity);
        fc.pre(full.exhaustive);
        const st = search(prog, true, Infinity, {});
        expect(st.exhaustive).toBe(true);
        expect([...st.states].sort()).toEqual([...full.states].sort());
        expect([...st.violations].sort()).toEqual([...full.violations].sort());
        compared++;
      }),
      { numRuns: 300, seed: 20261201 },
    );
    expect(compared).toBeGreaterThan(150);
  }, 240_000);

  it("past the memory budget (states stored without summaries) the same holds", () => {
    fc.assert(
      fc.property(richProgramArb, (prog) => {
        const full = search(prog, false, Infinity);
        fc.pre(full.exhaustive);
        const st = search(prog, true, Infinity, { maxMemoryMb: 0 });
        expect([...st.states].sort()).toEqual([...full.states].sort());
        expect([...st.violations].sort()).toEqual([...full.violations].sort());
      }),
      { numRuns: 100, seed: 20261203 },
    );
  }, 240_000);

  it("bitstate (an array large enough that no state collides) the same holds", () => {
    fc.assert(
      fc.property(richProgramArb, (prog) => {
        const full = search(prog, false, Infinity);
        fc.pre(full.exhaustive);
        const st = search(prog, true, Infinity, { maxMemoryMb: 1, mode: "bitstate" });
        expect([...st.states].sort()).toEqual([...full.states].sort());
        expect([...st.violations].sort()).toEqual([...full.violations].sort());
      }),
      { numRuns: 100, seed: 20261204 },
    );
  }, 240_000);

  // Each rule, broken, lets the cache prune a state whose subtree held a terminal state plain DFS reaches:
  // fast-check finds such a program from the seed above (run 17 without the summary racing, run 60 without
  // the histories; the counterexamples are recorded so the test stays quick and fixed), and the sound cache
  // agrees with plain DFS on both. The sleep-set subset rule is tested below, on its own family.
  const found: Record<"summary" | "history", Program> = {
    summary: {
      vars: 2,
      locks: 2,
      threads: [
        [
          { t: "rcu", v: 1 },
          { t: "inc", v: 0 },
        ],
        [
          { t: "lock", l: 0 },
          { t: "inc", v: 1 },
          { t: "unlock", l: 0 },
          { t: "read", v: 0, reg: 0 },
        ],
      ],
    },
    history: {
      vars: 2,
      locks: 2,
      threads: [
        [
          { t: "read", v: 1, reg: 0 },
          { t: "write", v: 1, reg: 0, add: 1 },
          { t: "read", v: 1, reg: 0 },
          { t: "write", v: 1, reg: 0, add: 1 },
        ],
        [{ t: "wait", v: 1, val: 1, reg: 0 }],
        [
          { t: "read", v: 1, reg: 0 },
          { t: "write", v: 1, reg: 0, add: 1 },
          { t: "read", v: 1, reg: 0 },
        ],
      ],
    },
  };
  for (const rule of ["summary", "history"] as const) {
    it(`without the ${rule} rule the property fails`, () => {
      expect(statefulDiffers(found[rule])).toBe("");
      expect(statefulDiffers(found[rule], rule)).not.toBe("");
      const out = fc.check(
        fc.property(richProgramArb, (prog) => statefulDiffers(prog, rule) === ""),
        { numRuns: 300, seed: 20261201 },
      );
      expect(out.failed).toBe(true);
    }, 240_000);
  }

  // The sleep-set subset rule (Godefroid; Yang et al.): a stored visit asleep in q is complete except for the
  // q-first paths, whose terminal states the branch that put q to sleep reached; what dropping the rule can
  // lose is the races of the current prefix with what runs after q's first step there, so the backtrack
  // points they would add (the expected mechanism: not traced step by step for the programs below). The
  // generator above never showed it (5,000 + 4,000 programs): its three-thread programs have at most two op
  // groups a thread, too short for one state to be reached along two orders, once with a thread asleep and
  // once awake, with something racing after it. Three threads of up to four ops do. Which program shows it
  // depends on which states the cache matches: the first one recorded (run 149 of seed 11) stopped losing a
  // state once finished calls folded into their results (state_hash.ts); with that key fast-check finds this
  // one at run 519 of the same seed (147 s: recorded here, and the family below checks the sound cache only).
  const sleepSubset: Program = {
    vars: 2,
    locks: 2,
    threads: [
      [
        { t: "inc", v: 0 },
        { t: "read", v: 0, reg: 1 },
        { t: "read", v: 1, reg: 0 },
        { t: "write", v: 1, reg: 0, add: 1 },
      ],
      [
        { t: "read", v: 0, reg: 0 },
        { t: "write", v: 0, reg: 0, add: 1 },
      ],
      [
        { t: "read", v: 1, reg: 0 },
        { t: "write", v: 1, reg: 0, add: 1 },
        { t: "rcu", v: 0 },
        { t: "wait", v: 0, val: 1, reg: 0 },
      ],
    ],
  };
  /** Terminal states and violations of one search of `prog`, as one comparable string. */
  const outcome = (x: Summary): string => JSON.stringify([[...x.states].sort(), [...x.violations].sort()]);

  it("without the sleep-set subset rule the recorded program loses terminal states the sound search reaches", () => {
    // the reference is stateless DPOR (exact against plain DFS in the properties above)
    const dpor = search(sleepSubset, true, Infinity);
    const sound = search(sleepSubset, true, Infinity, {});
    const broken = search(sleepSubset, true, Infinity, { unsound: "sleep-subset" });
    expect(dpor.exhaustive && sound.exhaustive && broken.exhaustive).toBe(true);
    expect(outcome(sound)).toBe(outcome(dpor));
    const lost = [...dpor.states].filter((x) => !broken.states.has(x));
    expect(lost.length).toBeGreaterThan(0);
    expect([...broken.states].every((x) => dpor.states.has(x))).toBe(true);
  }, 240_000);

  it("the three-thread family: the sound cache agrees with stateless DPOR", () => {
    let soundChecked = 0;
    fc.assert(
      fc.property(richThreeArb, (prog) => {
        const dpor = search(prog, true, Infinity);
        if (!dpor.exhaustive) return true;
        soundChecked++;
        return outcome(search(prog, true, Infinity, {})) === outcome(dpor);
      }),
      { numRuns: 150, seed: 11 },
    );
    expect(soundChecked).toBeGreaterThan(50);
  }, 240_000);
});

/**
 * The parallel DFS's work stealing (steal.ts) in one thread: `jobs` searches advance one execution at a time in
 * an order `turns` gives; after an execution, a search gives its shallowest open branch away (dfs.ts donate())
 * when `gifts` says so, and an idle worker takes the newest or oldest root handed out; a search that writes an
 * IPI queue starts over with the reads, as dfsRun does. The union is what the workers would report.
 */
function stolen(
  prog: Program,
  bound: number,
  jobs: number,
  turns: number[],
  gifts: boolean[],
  newest: boolean,
  unsound?: DfsOptions["unsound"],
): Summary & { roots: number } {
  const session = new Session(programScenario(prog));
  const states = new Set<string>();
  const violations = new Set<string>();
  const options = (root: DfsRoot | null): DfsOptions => ({
    reduce: true,
    preemptionBound: bound,
    maxSteps: 200,
    maxExecutions: Infinity,
    deadline: Infinity,
    stopOnViolation: false,
    onExecution: (e) => {
      if (e.violation) violations.add(`${e.violation.invariant}: ${e.violation.message}`);
      else states.add(e.observation!);
    },
    ...(root ? { root } : {}),
    ...(unsound ? { unsound } : {}),
  });
  const pending: DfsRoot[] = [];
  const busy: ({ s: DfsSearcher; root: DfsRoot | null } | null)[] = Array.from({ length: jobs }, () => null);
  busy[0] = { s: dfsStrategy(session, options(null), false), root: null };
  let executions = 0;
  let roots = 1;
  let n = 0;
  while (executions < 20_000) {
    for (let w = 0; w < jobs; w++)
      if (busy[w] === null && pending.length > 0) {
        const root = (newest ? pending.pop() : pending.shift())!;
        busy[w] = { s: dfsStrategy(session, options(root), false), root };
        roots++;
      }
    const live = busy.flatMap((b, w) => (b ? [w] : []));
    if (live.length === 0) break;
    const w = live[turns[n % turns.length] % live.length];
    const b = busy[w]!;
    runExecution(session, b.s, { maxSteps: 200, record: false, observe: false });
    executions++;
    if (b.s.state.restart) busy[w] = { s: dfsStrategy(session, options(b.root), true), root: b.root };
    else if (b.s.state.exhausted) busy[w] = null;
    else if (gifts[n % gifts.length]) {
      const d = b.s.donate();
      if (d) pending.push(d);
    }
    n++;
  }
  return { states, violations, executions, exhaustive: busy.every((b) => b === null), roots };
}

describe("work stealing (the parallel DFS) is exact on generated programs", () => {
  const steal = fc.record({
    jobs: fc.integer({ min: 2, max: 4 }),
    turns: fc.array(fc.nat(7), { minLength: 1, maxLength: 12 }),
    gifts: fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
    newest: fc.boolean(),
  });
  for (const bound of [Infinity, 0, 1, 2]) {
    it(`${bound === Infinity ? "unbounded" : `bound ${bound}`}: the stolen roots' union has plain DFS's terminal states and violations`, () => {
      let split = 0;
      fc.assert(
        fc.property(bound === Infinity ? richProgramArb : programArb, steal, (prog, x) => {
          const full = search(prog, false, bound);
          fc.pre(full.exhaustive);
          const st = stolen(prog, bound, x.jobs, x.turns, x.gifts, x.newest);
          expect(st.exhaustive).toBe(true);
          expect([...st.states].sort()).toEqual([...full.states].sort());
          expect([...st.violations].sort()).toEqual([...full.violations].sort());
          if (st.roots > 2) split++;
        }),
        { numRuns: bound === Infinity ? 200 : 80, seed: 1515 + (bound === Infinity ? 9 : bound) },
      );
      expect(split).toBeGreaterThan(10);
    }, 240_000);
  }

  // Found by the property above (unbounded, run 134): a branch handed out while its donor explores the other
  // choose() value of the same step must not sleep in that step's subtree, or each side leaves the "0 · 2"
  // interleavings to the other.
  it("an alternative handed out counts as done only for the donor's later siblings (else a state is lost)", () => {
    const prog: Program = {
      vars: 2,
      locks: 2,
      threads: [[{ t: "choose", reg: 1 }], [{ t: "rcu", v: 0 }], [{ t: "rcu", v: 0 }]],
    };
    const full = search(prog, false, Infinity);
    const same = (x: Summary) => JSON.stringify([[...x.states].sort(), [...x.violations].sort()]);
    expect(same(stolen(prog, Infinity, 2, [0], [true, false], false))).toBe(same(full));
    expect(same(stolen(prog, Infinity, 2, [0], [true, false], false, "given-done"))).not.toBe(same(full));
  });
});
