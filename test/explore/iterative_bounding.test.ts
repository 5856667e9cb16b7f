// The default DFS searches bounds 0 and 1 to their end before the requested bound: a race that needs one
// preemption is found early, and a clean search still exhausts exactly the space one search at that bound does.

import { describe, it, expect } from "vitest";
import { dfs, explore, minimise, Session, getScenario } from "../../lib/explore/index";
import "../../lib/fixes/index";
import "../../lib/examples/index";

const lazy = () => getScenario("lazy-mmu-batch");

/** One DFS search at `bound`, as the default strategy ran before it iterated. */
function single(id: string, variant: string, params: Record<string, unknown>, bound: number) {
  const s = new Session(getScenario(id), { variant, params });
  return dfs(s, {
    reduce: true,
    preemptionBound: bound,
    maxSteps: s.bounds.maxSteps,
    maxExecutions: Infinity,
    deadline: Infinity,
    stopOnViolation: true,
  });
}

describe("iterative context bounding in the default DFS", () => {
  it("a clean search exhausts the requested bound's space: the same executions there as one search", () => {
    for (const [id, variant] of [
      ["lazy-mmu-batch", "after"],
      ["lost-update", "spinlock"],
    ] as const) {
      const r = explore(id, { variant });
      const one = single(id, variant, {}, 2);
      expect(r.violation, id).toBeNull();
      expect(r.exhaustive).toBe(true);
      expect(one.exhaustive).toBe(true);
      const lower = r.stats.lowerBoundExecutions ?? 0;
      expect(lower, id).toBeGreaterThan(0);
      expect(r.executions - lower, id).toBe(one.executions);
    }
  });

  it("3 CPUs x 3 pages before: the race is found at bound 1, in fewer executions, with the same minimised result", () => {
    const params = { cpus: 3, pages: 3 };
    const r = explore(lazy(), { variant: "before", params });
    const one = single("lazy-mmu-batch", "before", params, 2);
    expect(r.violation?.invariant).toBe(one.violation?.info.invariant);
    expect(r.executions).toBeLessThan(one.executions);
    // minimisation is separate: its invariant and preemption count are what one search at bound 2 minimises to
    const s = new Session(lazy(), { variant: "before", params });
    const old = minimise(s, one.violation!, s.bounds.maxSteps, 20_000);
    expect(old.info.invariant).toBe(r.violation?.invariant);
    expect(r.violation?.preemptions).toBe(old.preemptions);
    expect(r.violation?.preemptions).toBe(1);
  });

  it("an execution budget spans the searches: one that runs out below the bound claims nothing", () => {
    const r = explore(lazy(), { variant: "after", maxExecutions: 3 });
    expect(r.exhaustive).toBe(false);
    expect(r.executions).toBeLessThanOrEqual(3);
    expect(r.violation).toBeNull();
  });

  it("unbounded is one search, as asked", () => {
    const r = explore(lazy(), { variant: "after", preemptions: Infinity });
    expect(r.exhaustive).toBe(true);
    expect(r.stats.lowerBoundExecutions).toBeUndefined();
  });
});
