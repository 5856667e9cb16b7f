// One execution of a session under a picker (PCT, random walk, replay): the plain step loop every sampling
// strategy shares. Exhaustive search has its own loop in dfs.ts, which interleaves race analysis.

import { Machine, ViolationInfo, LOCAL } from "../sim/machine";
import type { TraceStep } from "../sim/trace";
import type { Decision } from "./schedule";
import type { Session } from "./scenario";

export interface Picker {
  /** Pick the process to run among `enabled` (a bit mask); `last` ran the previous step (-1 at start). */
  pick(m: Machine, enabled: number, last: number): number;
  /** Value of a choose(n) point. */
  choose(n: number): number;
}

export interface ExecOutcome {
  violation: ViolationInfo | null;
  steps: number;
  preemptions: number;
  /** The decisions taken (built on first use: most executions never need them). */
  readonly decisions: Decision[];
  trace: TraceStep[] | null;
  observation: string | null;
  machine: Machine;
}

export interface ExecOptions {
  maxSteps: number;
  trace?: boolean;
  /** Stop after this many steps without judging the end state (inspect the machine at a step). */
  stopAfter?: number;
}

/** Report why nothing can run: each blocked context and what it waits for. */
export function deadlock(m: Machine): void {
  const waits: string[] = [];
  for (const c of m.ctxs) {
    const blocked = c.irq ? c.gen !== null : !c.done;
    if (!blocked) continue;
    const on = c.kind === LOCAL ? "" : ` on ${m.objName(c.obj)}`;
    waits.push(`${c.name} waits in ${c.ev.fn} (${c.ev.what}${on})`);
  }
  m.violate("deadlock", `no CPU can make progress: ${waits.join("; ")}`);
}

export function livelock(m: Machine, maxSteps: number): void {
  m.violate("livelock", `no thread finished within ${maxSteps} steps (step bound): a livelock, or raise maxSteps`);
}

/** Judge an execution that ran out of enabled contexts: deadlock, or the scenario's final check. */
export function judgeEnd(m: Machine, session: Session): void {
  if (!m.allTasksDone()) deadlock(m);
  else if (session.instance.final) session.instance.final();
}

export function runExecution(session: Session, picker: Picker, opts: ExecOptions): ExecOutcome {
  const m = session.fresh();
  // Decisions as numbers (value·2 + 1 for a choose() value): no object per step.
  const tokens: number[] = [];
  m.chooser = (n) => {
    const v = picker.choose(n);
    tokens.push(v * 2 + 1);
    return v;
  };
  if (opts.trace) m.trace = [];
  let last = -1;
  let preemptions = 0;
  const stopAfter = opts.stopAfter ?? Infinity;
  for (;;) {
    if (m.violation || m.steps >= stopAfter) break;
    const en = m.enabledMask();
    if (en === 0) {
      judgeEnd(m, session);
      break;
    }
    if (m.steps >= opts.maxSteps) {
      livelock(m, opts.maxSteps);
      break;
    }
    const p = picker.pick(m, en, last);
    if (last >= 0 && p !== last && (en & (1 << last)) !== 0) preemptions++;
    tokens.push(p * 2);
    m.step(p);
    last = p;
  }
  const observation = !m.violation && session.instance.observe ? session.instance.observe() : null;
  let decisions: Decision[] | null = null;
  return {
    violation: m.violation,
    steps: m.steps,
    preemptions,
    get decisions(): Decision[] {
      return (decisions ??= tokens.map((t) => ({ choice: (t & 1) === 1, value: t >> 1 })));
    },
    trace: m.trace,
    observation,
    machine: m,
  };
}

/** Lowest set bit's index. */
export function lowestBit(mask: number): number {
  return 31 - Math.clz32(mask & -mask);
}

/** The serial policy: keep running the last process while it can run, else the lowest-numbered one. */
export function serialPick(enabled: number, last: number): number {
  return last >= 0 && (enabled & (1 << last)) !== 0 ? last : lowestBit(enabled);
}
