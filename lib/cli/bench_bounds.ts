// Bench section "larger-bounds": exhaustive searches past a scenario's default preemption bound that a notebook
// states as a figure instead of running live (notebook 02: each takes about half a minute on one core, too close to
// a cell's 60 s limit on a busy machine). DFS is deterministic, so the execution counts are exact; the time is not.
import { explore } from "../explore/explore";
import "../fixes/index";

export interface LargerBoundFigure {
  scenario: string;
  variant: string;
  params: Record<string, unknown>;
  preemptions: number;
  executions: number;
  exhaustive: boolean;
  /** The invariant found broken, or null. */
  violation: string | null;
  ms: number;
}

/** The searches notebook 02 cites ("The fix, holding" and the v6.2 fix, at 3 preemptions). */
export const LARGER_BOUNDS = [
  { scenario: "split-tlb-flush", variant: "after", params: { arch: "x86" }, preemptions: 3 },
  { scenario: "split-tlb-flush-last-map", variant: "later", params: { arch: "x86" }, preemptions: 3 },
] as const;

export function largerBounds(log: (s: string) => void): Record<string, LargerBoundFigure> {
  log("\nexhaustive searches past the default bound (cited by notebook 02):");
  const out: Record<string, LargerBoundFigure> = {};
  for (const b of LARGER_BOUNDS) {
    // No time limit that a busy machine could hit: the figure is the whole space or nothing.
    const r = explore(b.scenario, {
      variant: b.variant,
      params: { ...b.params },
      preemptions: b.preemptions,
      timeLimitMs: 3_600_000,
    });
    const key = `${b.scenario}/${b.variant}@${Object.entries(b.params)
      .map(([k, v]) => `${k}:${String(v)}`)
      .join(",")},preemptions:${b.preemptions}`;
    out[key] = {
      scenario: b.scenario,
      variant: b.variant,
      params: { ...b.params },
      preemptions: b.preemptions,
      executions: r.executions,
      exhaustive: r.exhaustive,
      violation: r.violation ? r.violation.invariant : null,
      ms: r.elapsedMs,
    };
    log(
      `  ${key.padEnd(56)} ${r.executions} executions, ${r.exhaustive ? "exhaustive" : "NOT exhaustive"}, ${r.violation ? r.violation.invariant : "no violation"}, ${r.elapsedMs} ms`,
    );
  }
  return out;
}
