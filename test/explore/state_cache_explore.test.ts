// The state cache as users reach it: explore({ stateCache }) and `flushlab explore --state-cache [--max-memory MB]`.
// Same verdict as the stateless search; the settings it cannot run under refused with one clear line.

import { describe, it, expect } from "vitest";
import { explore } from "../../lib/explore/index";
import { cli } from "./cli_run";
import "../../lib/fixes/index";

const unbounded = { preemptions: Infinity, params: { cpus: 2, pages: 2 } } as const;

describe("explore with a state cache", { timeout: 120_000 }, () => {
  it("exhausts the fixed kernel as the stateless search does, and says what the cache did", () => {
    const plain = explore("lazy-mmu-batch", { variant: "after", ...unbounded });
    const cached = explore("lazy-mmu-batch", { variant: "after", ...unbounded, stateCache: 64 });
    expect(plain.exhaustive && cached.exhaustive).toBe(true);
    expect(cached.violation).toBeNull();
    const sc = cached.stats.stateCache!;
    expect(sc.states).toBeGreaterThan(0);
    expect(sc.hits).toBeGreaterThan(0); // some execution was cut at an explored state
    expect(cached.executions).toBeLessThan(plain.executions); // 1,374 against 1,476: the cut subtrees are not rerun
    expect(plain.stats.stateCache).toBeUndefined();
  });

  it("finds the race before the fix, with the invariant the stateless search finds", () => {
    const plain = explore("lazy-mmu-batch", { variant: "before", ...unbounded });
    const cached = explore("lazy-mmu-batch", { variant: "before", ...unbounded, stateCache: true });
    expect(cached.violation?.invariant).toBe(plain.violation?.invariant);
    expect(cached.violation?.preemptions).toBe(plain.violation?.preemptions);
  });

  it("refuses a bound, another strategy, no reduction, workers and a bad budget", () => {
    expect(() => explore("lazy-mmu-batch", { stateCache: true })).toThrow(/unbounded search/);
    expect(() => explore("lazy-mmu-batch", { ...unbounded, strategy: "pct", stateCache: true })).toThrow(/dfs/);
    expect(() => explore("lazy-mmu-batch", { ...unbounded, reduce: false, stateCache: true })).toThrow(/reduction/);
    expect(() => explore("lazy-mmu-batch", { ...unbounded, jobs: 2, stateCache: true })).toThrow(/one thread/);
    expect(() => explore("lazy-mmu-batch", { ...unbounded, stateCache: 0 })).toThrow(/MB/);
  });
});

describe("flushlab explore --state-cache", { timeout: 120_000 }, () => {
  it("prints the cache's figures and exits 0 on an exhaustive clean search", () => {
    const r = cli(
      "explore",
      "lazy-mmu-batch",
      "--variant",
      "after",
      "--param",
      "cpus=2",
      "--param",
      "pages=2",
      "--preemptions",
      "inf",
      "--state-cache",
      "--max-memory",
      "16",
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/no preemption bound/);
    expect(r.out).toMatch(/state cache: \d+ states stored .*\d+ executions cut at an explored state/);
  });

  it("refuses it under a bound, and --max-memory without it, in one line each", () => {
    const a = cli("explore", "lazy-mmu-batch", "--state-cache");
    expect(a.code).toBe(2);
    expect(a.err).toBe(
      "flushlab: stateCache needs an unbounded search (preemptions: Infinity): a preemption bound breaks state matching\n",
    );
    const b = cli("explore", "lazy-mmu-batch", "--max-memory", "8");
    expect(b.code).toBe(2);
    expect(b.err).toMatch(
      /^flushlab: --max-memory is the state cache's budget: give --state-cache \(or --bitstate\) too\n$/,
    );
  });
});
