// Every final state of a scenario, counted: run the whole (optionally reduced) search and tally each
// execution's observation, or its invariant when it broke one. What "how many interleavings lose?" needs.

import { dfs } from "./dfs";
import { ScenarioDef, Session, SessionOptions, getScenario } from "./scenario";

export interface OutcomeOptions extends SessionOptions {
  /** Partial-order reduction (default false: every interleaving, so the counts are interleaving counts). */
  reduce?: boolean;
  /** Preemption bound (default none). */
  preemptions?: number;
  maxExecutions?: number;
}

export interface Outcomes {
  executions: number;
  exhaustive: boolean;
  /** Observation (or invariant name) → how many executions ended that way. */
  counts: Record<string, number>;
}

export function outcomes(scenario: string | ScenarioDef<any, any>, opts: OutcomeOptions = {}): Outcomes {
  const def = typeof scenario === "string" ? getScenario(scenario) : scenario;
  const session = new Session(def, opts);
  const counts: Record<string, number> = {};
  const r = dfs(session, {
    reduce: opts.reduce ?? false,
    preemptionBound: opts.preemptions ?? Infinity,
    maxSteps: session.bounds.maxSteps,
    maxExecutions: opts.maxExecutions ?? 1_000_000,
    deadline: Infinity,
    stopOnViolation: false,
    onExecution: (e) => {
      const key = e.violation ? e.violation.invariant : e.observation ?? "(no observation)";
      counts[key] = (counts[key] ?? 0) + 1;
    },
  });
  return { executions: r.executions, exhaustive: r.exhaustive, counts };
}
