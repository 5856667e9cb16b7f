// Estimates of a DFS's remaining work (estimate.ts, DfsState.fraction).

import { describe, it, expect } from "vitest";
import { estimateOf } from "../../lib/explore/estimate";
import { dfsStrategy } from "../../lib/explore/strategies/dfs";
import { runExecution } from "../../lib/explore/exec";
import { Session } from "../../lib/explore/scenario";
import { getScenario } from "../../lib/explore/registry";
import { explore, ExploreProgress } from "../../lib/explore/explore";
import "../../lib/examples/index";
import "../../lib/fixes/index";

describe("estimates", () => {
  it("executions and time left scale with the fraction still to do", () => {
    expect(estimateOf(50, 0.25, 1000)).toEqual({ fraction: 0.25, executionsLeft: 150, msLeft: 3000 });
    expect(estimateOf(0, 0, 0).executionsLeft).toBe(Infinity);
  });

  it("plain DFS: the fraction behind the path grows with every execution and ends near 1", () => {
    const session = new Session(getScenario("lost-update"), { variant: "racy", params: { cpus: 3 } });
    const s = dfsStrategy(session, {
      reduce: false,
      preemptionBound: Infinity,
      maxSteps: 500,
      maxExecutions: Infinity,
      deadline: Infinity,
      stopOnViolation: false,
    });
    const seen: number[] = [];
    while (!s.state.exhausted) {
      runExecution(session, s, { maxSteps: 500, record: false, observe: false });
      if (!s.state.exhausted) seen.push(s.state.fraction());
    }
    expect(seen.length).toBeGreaterThan(50);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen[seen.length - 1]).toBeLessThanOrEqual(1);
    expect(seen[seen.length - 1]).toBeGreaterThan(0.9);
  });

  it("explore's progress reports carry a DFS estimate", () => {
    const got: ExploreProgress[] = [];
    explore("lazy-mmu-batch", { variant: "after", params: { cpus: 3 }, onProgress: (p) => got.push(p) });
    const withEstimate = got.filter((p) => p.estimate && Number.isFinite(p.estimate.executionsLeft));
    expect(withEstimate.length).toBeGreaterThan(0);
    for (const p of withEstimate) expect(p.estimate!.fraction).toBeGreaterThan(0);
  });
});
