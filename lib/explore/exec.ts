// One execution of a session under a strategy: the step loop every strategy shares (DFS+DPOR, PCT, the
// random walk, replay). Judging the end (deadlock, livelock, the scenario's final check) happens here only.

import { Machine, ViolationInfo, LOCAL } from "../sim/machine";
import type { TraceStep } from "../sim/trace";
import type { Decision } from "./schedule";
import type { Session } from "./scenario";
import type { Strategy } from "./strategy";

export interface ExecOutcome {
  violation: ViolationInfo | null;
  steps: number;
  /** Preemptions after the strategy's replayed prefix (all of them, for a strategy that replays none). */
  preemptions: number;
  /** The strategy abandoned the execution (pick returned -1) before it ended. */
  abandoned: boolean;
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
  /** Record the decisions (default true; DFS keeps its own stack). */
  record?: boolean;
  /** Ask the scenario for its observation of the final state (default true). */
  observe?: boolean;
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

const NO_TOKENS: number[] = [];

export function runExecution(session: Session, s: Strategy, opts: ExecOptions): ExecOutcome {
  const m = session.fresh(s.traced === true);
  const record = opts.record !== false;
  // Decisions as numbers (value·2 + 1 for a choose() value): no object per step.
  const tokens: number[] = record ? [] : NO_TOKENS;
  m.chooser = record
    ? (n) => {
        const v = s.choose(n);
        tokens.push(v * 2 + 1);
        return v;
      }
    : (n) => s.choose(n);
  if (opts.trace) m.trace = [];
  const prefix = (s.beginExecution !== undefined ? s.beginExecution(m) : 0) || 0;
  const hasAfterStep = s.afterStep !== undefined;
  let last = -1;
  let preemptions = 0;
  let abandoned = false;
  const stopAfter = opts.stopAfter ?? Infinity;
  const maxSteps = opts.maxSteps;
  // A prefix the strategy has run before: its states were judged then, and its decisions are valid.
  while (m.steps < prefix && !m.violation && m.steps < stopAfter) {
    const p = s.pick(m, -1, last);
    if (record) tokens.push(p * 2);
    m.step(p);
    if (hasAfterStep) s.afterStep!(m, p);
    last = p;
  }
  for (;;) {
    if (m.violation || m.steps >= stopAfter) break;
    const en = m.enabledMask();
    if (en === 0) {
      judgeEnd(m, session);
      break;
    }
    if (m.steps >= maxSteps) {
      livelock(m, maxSteps);
      break;
    }
    const p = s.pick(m, en, last);
    if (p < 0) {
      abandoned = true;
      break;
    }
    if (last >= 0 && p !== last && (en & (1 << last)) !== 0) preemptions++;
    if (record) tokens.push(p * 2);
    m.step(p);
    if (hasAfterStep) s.afterStep!(m, p);
    last = p;
  }
  if (s.endExecution !== undefined) s.endExecution(m, { violation: m.violation, steps: m.steps, abandoned });
  const observation =
    opts.observe !== false && !abandoned && !m.violation && session.instance.observe
      ? session.instance.observe()
      : null;
  return new Outcome(m, preemptions, abandoned, tokens, observation);
}

/** An execution's outcome; its decisions are decoded on first use (most executions never need them). */
class Outcome implements ExecOutcome {
  readonly violation: ViolationInfo | null;
  readonly steps: number;
  readonly trace: TraceStep[] | null;
  private decoded: Decision[] | null = null;
  constructor(
    readonly machine: Machine,
    readonly preemptions: number,
    readonly abandoned: boolean,
    private readonly tokens: readonly number[],
    readonly observation: string | null,
  ) {
    this.violation = machine.violation;
    this.steps = machine.steps;
    this.trace = machine.trace;
  }
  get decisions(): Decision[] {
    return (this.decoded ??= this.tokens.map((t) => ({ choice: (t & 1) === 1, value: t >> 1 })));
  }
}

/** Lowest set bit's index. */
export function lowestBit(mask: number): number {
  return 31 - Math.clz32(mask & -mask);
}

/** The serial policy: keep running the last process while it can run, else the lowest-numbered one. */
export function serialPick(enabled: number, last: number): number {
  return last >= 0 && (enabled & (1 << last)) !== 0 ? last : lowestBit(enabled);
}

/** The serial strategy: no preemption; choose() takes 0. */
export const serial: Strategy = { pick: (_m, en, last) => serialPick(en, last), choose: () => 0 };
