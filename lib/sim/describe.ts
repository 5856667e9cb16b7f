// The machine at a step, for a student beside the timeline: each context's state and the step it will take
// next (what a replay stopped with `stopAt` shows before the subsystem-specific views).

import { Machine, LOCAL, WRITE } from "./machine";

export type ContextRow = {
  context: string;
  cpu: number;
  /** running, waiting (its next step's condition is false), done, idle (interrupt context without work). */
  state: string;
  /** The step it takes next: function, what, object. */
  next: string;
  /** IRQ flag of the context ("-" for an interrupt context with no handler running). */
  irqs: "on" | "off" | "-";
  preempt_count: number;
  locks: number;
};

/** One row per context of machine `m` (task and interrupt context of every CPU). */
export function describeMachine(m: Machine): ContextRow[] {
  const rows: ContextRow[] = [];
  for (const c of m.ctxs) {
    const idle = c.irq && c.gen === null;
    const waiting = !c.done && !idle && !m.isEnabled(c.proc);
    const state = c.done
      ? "done"
      : idle
        ? m.irqReadyAt(c.cpu) !== Infinity
          ? "work queued"
          : "idle"
        : waiting
          ? "waiting"
          : "running";
    const obj = c.kind === LOCAL ? "" : ` [${c.kind === WRITE ? "W" : "R"} ${m.objName(c.obj)}]`;
    rows.push({
      context: c.name,
      cpu: c.cpu,
      state,
      next: c.done || (idle && state === "idle") ? "" : `${c.ev.fn}: ${c.ev.what}${obj}`,
      irqs: idle ? "-" : c.irqsOff ? "off" : "on",
      preempt_count: c.irq ? 0 : c.preempt,
      locks: c.locks,
    });
  }
  return rows;
}
