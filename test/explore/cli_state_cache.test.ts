// `flushlab explore --state-cache` refused where explore() refuses stateCache: explore()'s message, one line,
// exit code 2 and the --json error shape, before any search runs.

import { describe, it, expect } from "vitest";
import "../../lib/fixes/index";
import { cli } from "./cli_run";

const refusals: [string, string[], RegExp][] = [
  ["under the scenario's bound", [], /^stateCache needs an unbounded search \(preemptions: Infinity\)/],
  ["under --preemptions 1", ["--preemptions", "1"], /^stateCache needs an unbounded search/],
  ["with pct", ["--strategy", "pct"], /^stateCache applies to the dfs strategy, not pct\n$/],
  ["with random", ["--strategy", "random"], /^stateCache applies to the dfs strategy, not random\n$/],
  ["with --no-reduce", ["--preemptions", "inf", "--no-reduce"], /^stateCache works with partial-order reduction/],
  ["with --jobs 2", ["--preemptions", "inf", "--jobs", "2"], /^stateCache runs in one thread/],
];

describe("flushlab explore --state-cache refusals", () => {
  for (const [what, flags, msg] of refusals) {
    it(`refuses it ${what}: explore()'s error, exit 2, one line`, () => {
      const r = cli("explore", "lazy-mmu-batch", "--state-cache", ...flags);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^flushlab: [^\n]+\n$/);
      expect(r.err.slice("flushlab: ".length)).toMatch(msg);
      expect(r.out).toBe("");
    });
  }

  it("gives the same refusal as a --json error object", () => {
    const r = cli("explore", "lazy-mmu-batch", "--state-cache", "--strategy", "pct", "--json");
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toEqual({ error: "stateCache applies to the dfs strategy, not pct", exitCode: 2 });
  });
});
