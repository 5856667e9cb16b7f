// Every final state of a scenario, counted: run the whole (optionally reduced) search and tally each
// execution's observation, or its invariant when it broke one. What "how many interleavings lose?" needs.

import { dfs } from "./strategies/dfs";
import { AnyScenario, Session, SessionOptions } from "./scenario";
import { Registry, resolveScenario } from "./registry";

export interface OutcomeOptions<D extends AnyScenario = AnyScenario> extends SessionOptions<D> {
  /** Partial-order reduction (default false: every interleaving, so the counts are interleaving counts). */
  reduce?: boolean;
  /** Preemption bound (default none). */
  preemptions?: number;
  maxExecutions?: number;
  /** Where a scenario id is looked up (default: the default registry). */
  registry?: Registry;
}

export interface Outcomes {
  executions: number;
  exhaustive: boolean;
  /** Observation (or invariant name) → how many executions ended that way. */
  counts: Record<string, number>;
}

export function outcomes<D extends AnyScenario>(scenario: D, opts?: OutcomeOptions<D>): Outcomes;
export function outcomes(scenario: string, opts?: OutcomeOptions): Outcomes;
export function outcomes(scenario: AnyScenario | string, opts: OutcomeOptions = {}): Outcomes {
  const def = resolveScenario(scenario, opts.registry);
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
      const key = e.violation ? e.violation.invariant : (e.observation ?? "(no observation)");
      counts[key] = (counts[key] ?? 0) + 1;
    },
  });
  return { executions: r.executions, exhaustive: r.exhaustive, counts };
}
