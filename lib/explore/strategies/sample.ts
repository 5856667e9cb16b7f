// The search loop of the sampling strategies (PCT, the random walk): one serial execution first (it also
// measures k, the steps, and n, the contexts, for PCT), then one execution per seed drawn from the user's,
// so runs with different seeds are independent, until a violation, the execution budget or the deadline.

import type { Machine } from "../../sim/machine";
import type { Session } from "../scenario";
import type { Decision } from "../schedule";
import type { Found, SearchOptions, Strategy } from "../strategy";
import { runExecution, serial } from "../exec";
import { Rng } from "../rng";

export interface SampleRun {
  found: Found | null;
  executions: number;
  /** Steps of the longest execution. */
  longest: number;
  /** Contexts that took a step in the serial execution (PCT's n). */
  contexts: number;
}

/** Default execution budget of a sampling search. */
export const SAMPLE_EXECUTIONS = 10_000;

/**
 * Run the serial execution, then `next(seed, first machine, longest so far)`'s strategy once per seed.
 */
export function sample(
  session: Session,
  o: SearchOptions,
  next: (seed: number, first: Machine, longest: number) => Strategy,
): SampleRun {
  const maxExecutions = o.maxExecutions ?? SAMPLE_EXECUTIONS;
  const first = runExecution(session, serial, { maxSteps: o.maxSteps });
  let executions = 1;
  let k = first.steps;
  const n = countContexts(first.decisions);
  let found: Found | null = first.violation
    ? { info: first.violation, decisions: first.decisions, steps: first.steps, preemptions: first.preemptions }
    : null;
  let lastReport = performance.now();
  const seeds = new Rng(o.seed);
  while (!found && executions < maxExecutions && performance.now() < o.deadline) {
    const out = runExecution(session, next(seeds.next(), first.machine, k), { maxSteps: o.maxSteps });
    executions++;
    if (out.steps > k) k = out.steps;
    if (out.violation)
      found = { info: out.violation, decisions: out.decisions, steps: out.steps, preemptions: out.preemptions };
    if (performance.now() - lastReport > 100) {
      lastReport = performance.now();
      o.onProgress(executions);
    }
  }
  return { found, executions, longest: k, contexts: n };
}

/** Contexts that took at least one step (PCT's n). */
function countContexts(decisions: readonly Decision[]): number {
  const seen = new Set<number>();
  for (const d of decisions) if (!d.choice) seen.add(d.value);
  return Math.max(1, seen.size);
}
