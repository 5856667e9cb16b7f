// The state cache in bitstate mode (Holzmann's supertrace, state_cache.ts): the table's lookup rules, the same
// verdicts as the stateless search with an array large enough, a miss probability that grows as the array
// shrinks, and a tiny array whose collisions cut states the search then never visits, and says so.

import { describe, it, expect } from "vitest";
import { dfs, explore, Session } from "../../lib/explore/index";
import { StateTable } from "../../lib/explore/state_cache";
import { programScenario, Program } from "./programs";
import { cli } from "./cli_run";
import "../../lib/fixes/index";

const MB = 2 ** 20;
const row = new Int32Array(8);

describe("the bitstate table", () => {
  it("hits a state stored at the same depth asleep in a subset, and nothing else", () => {
    const t = new StateTable(MB, "bitstate");
    t.store(0x1234, 0x5678, 7, 0b01, row, 0, 8);
    expect(t.lookup(0x1234, 0x5678, 7, 0b01)).toBeGreaterThanOrEqual(0);
    expect(t.lookup(0x1234, 0x5678, 7, 0b11)).toBeGreaterThanOrEqual(0); // stored sleep set ⊆ current one
    expect(t.lookup(0x1234, 0x5678, 7, 0b10)).toBe(-1); // stored visit slept on process 0: not covered
    expect(t.lookup(0x1234, 0x5678, 7, 0)).toBe(-1);
    expect(t.lookup(0x1234, 0x5678, 8, 0b01)).toBe(-1); // another depth: another key
    expect(t.lookup(0x1235, 0x5678, 7, 0b01)).toBe(-1);
    expect(t.summary(0).off).toBe(-1); // no summary: a hit races with everything
    const s = t.stats();
    expect([s.mode, s.states, s.hits, s.bits, s.hashes, s.bytes]).toEqual(["bitstate", 1, 2, 8 * MB, 3, MB]);
  });

  it("sizes the array to the largest power of two of bits within the budget, and refuses bad settings", () => {
    expect(new StateTable(3 * MB, "bitstate").stats().bits).toBe(16 * MB);
    expect(new StateTable(1, "bitstate").stats().bits).toBe(32); // one word at least
    expect(() => new StateTable(MB, "bloom" as never)).toThrow(/compact, bitstate/);
    expect(() => new StateTable(-1, "bitstate")).toThrow(/0 or more bytes, got -1/);
    expect(() => new StateTable(NaN)).toThrow(/0 or more bytes/);
  });
});

/** A program with many terminal states: three threads' read-modify-writes and increments on two variables. */
const prog: Program = {
  vars: 2,
  locks: 1,
  threads: [
    [
      { t: "read", v: 0, reg: 0 },
      { t: "write", v: 0, reg: 0, add: 1 },
      { t: "inc", v: 1 },
    ],
    [
      { t: "inc", v: 0 },
      { t: "read", v: 1, reg: 1 },
      { t: "write", v: 0, reg: 1, add: 2 },
    ],
    [
      { t: "read", v: 0, reg: 0 },
      { t: "inc", v: 1 },
      { t: "write", v: 1, reg: 0, add: 1 },
    ],
  ],
};

function searchProg(stateCache?: { maxMemoryMb: number; mode: "bitstate" }) {
  const states = new Set<string>();
  const r = dfs(new Session(programScenario(prog)), {
    reduce: true,
    preemptionBound: Infinity,
    maxSteps: 200,
    maxExecutions: 100_000,
    deadline: Infinity,
    stopOnViolation: false,
    ...(stateCache ? { stateCache } : {}),
    onExecution: (e) => void states.add(e.observation!),
  });
  return { r, states };
}

describe("a search with a bit array", { timeout: 120_000 }, () => {
  it("a large array: the same terminal states as the stateless search, fewer executions, a tiny miss chance", () => {
    const plain = searchProg();
    const bit = searchProg({ maxMemoryMb: 1, mode: "bitstate" });
    expect(plain.r.exhaustive && bit.r.exhaustive).toBe(true);
    expect([...bit.states].sort()).toEqual([...plain.states].sort());
    expect(bit.r.cacheHits).toBeGreaterThan(0);
    expect(bit.r.executions).toBeLessThan(plain.r.executions);
    const p = bit.r.cache!.missProbability;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1e-6);
  });

  it("the miss probability is 0 < p < 1 and grows as the array shrinks", () => {
    const ps = [1, 1 / 64, 1 / 1024, 1 / 8192].map((mb) => searchProg({ maxMemoryMb: mb, mode: "bitstate" }));
    for (const x of ps) {
      expect(x.r.cache!.missProbability).toBeGreaterThan(0);
      expect(x.r.cache!.missProbability).toBeLessThan(1);
    }
    for (let i = 1; i < ps.length; i++)
      expect(ps[i].r.cache!.missProbability).toBeGreaterThan(ps[i - 1].r.cache!.missProbability);
    // Holzmann's hash factor m/n falls with the array
    for (let i = 1; i < ps.length; i++) expect(ps[i].r.cache!.hashFactor!).toBeLessThan(ps[i - 1].r.cache!.hashFactor!);
  });

  it("a 32-bit array: states collide, the search cuts subtrees it never saw, visits fewer states, and says so", () => {
    const big = searchProg({ maxMemoryMb: 1, mode: "bitstate" });
    const tiny = searchProg({ maxMemoryMb: 4 / MB, mode: "bitstate" });
    expect(tiny.r.cache!.bits).toBe(32);
    // false "visited" near the root: whole subtrees cut, so fewer executions run and fewer states are stored
    expect(tiny.r.executions).toBeLessThan(big.r.executions);
    expect(tiny.r.cache!.states).toBeLessThan(big.r.cache!.states);
    // terminal states lost to collisions, and the report says a miss was likely
    expect(tiny.states.size).toBeLessThan(big.states.size);
    for (const s of tiny.states) expect(big.states.has(s)).toBe(true);
    expect(tiny.r.cache!.missProbability).toBeGreaterThan(0.5);
    expect(tiny.r.cache!.hashFactor!).toBeLessThan(4); // Holzmann: trust a bitstate run only well above 100
  });
});

describe("explore and the CLI with --bitstate", { timeout: 120_000 }, () => {
  const unbounded = { preemptions: Infinity, params: { cpus: 2, pages: 2 } } as const;
  const bitstate = { mode: "bitstate" } as const;

  it("the same verdicts as the stateless search on lazy-mmu-batch before and after", () => {
    for (const variant of ["before", "after"]) {
      const plain = explore("lazy-mmu-batch", { variant, ...unbounded });
      const bit = explore("lazy-mmu-batch", { variant, ...unbounded, stateCache: bitstate });
      expect(bit.exhaustive).toBe(plain.exhaustive);
      expect(bit.violation?.invariant).toBe(plain.violation?.invariant);
      expect(bit.violation?.preemptions).toBe(plain.violation?.preemptions);
      expect(bit.stats.stateCache!.mode).toBe("bitstate");
      expect(bit.stats.stateCache!.bytes).toBe(64 * MB); // the default array
    }
  });

  it("refuses a bad mode, a bad size and unknown keys", () => {
    expect(() => explore("lazy-mmu-batch", { ...unbounded, stateCache: { mode: "bloom" as never } })).toThrow(
      /stateCache.mode must be one of compact, bitstate, got bloom/,
    );
    expect(() => explore("lazy-mmu-batch", { ...unbounded, stateCache: { ...bitstate, maxMemoryMb: 0.5 } })).toThrow(
      /whole number of MB/,
    );
    expect(() => explore("lazy-mmu-batch", { ...unbounded, stateCache: { maxMemory: 8 } as never })).toThrow(
      /takes maxMemoryMb and mode, not maxMemory/,
    );
  });

  it("flushlab explore --bitstate prints the array's size and the per-state miss chance; refuses a bound", () => {
    const r = cli(
      "explore",
      "lazy-mmu-batch",
      "--variant",
      "after",
      "--param",
      "cpus=2",
      "--preemptions",
      "inf",
      "--bitstate",
      "--max-memory",
      "2",
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /state cache: \d+ states stored \(2\.0 MB\), \d+ executions cut .*missed ≈ \d\.\de-\d+ per state \(bitstate\)/,
    );
    const a = cli("explore", "lazy-mmu-batch", "--bitstate");
    expect(a.code).toBe(2);
    // the refusal is explore()'s own (one source of truth for --state-cache and --bitstate)
    expect(a.err).toBe(
      "flushlab: stateCache needs an unbounded search (preemptions: Infinity): a preemption bound breaks state matching\n",
    );
  });
});
