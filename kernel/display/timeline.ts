// Swim-lane timeline of a trace: one lane per CPU, one labelled bar per step coloured by kernel function
// (hatched in interrupt context), the violating step marked in red with the schedule string that replays it.
import type { TraceStep, Violation } from "../../lib/sim/trace";
import { escapeHtml } from "./escape";
import { plot, type Figure, type PlotOptions } from "./plotly";
import { record } from "./record";

export interface TimelineOptions extends PlotOptions {
  /** Marks `violation.at` and puts the invariant and schedule in the title. */
  violation?: Violation;
  title?: string;
  /** Also record the violation's schedule string (and invariant) in the manifest under this name. */
  record?: string;
}

const laneOf = (s: TraceStep) => `CPU ${s.cpu}`;

function stepLabel(s: TraceStep): string {
  const obj = s.obj ? ` ${s.obj}` : "";
  const kind = s.kind === "-" ? "" : ` [${s.kind}]`;
  return `#${s.i} ${escapeHtml(s.thread)} (${s.ctx})<br>${escapeHtml(s.fn)}: ${escapeHtml(s.what)}${escapeHtml(obj)}${kind}`;
}

export function timelineFigure(input: TraceStep[] | Violation, opts: TimelineOptions = {}): Figure {
  const violation = opts.violation ?? (Array.isArray(input) ? undefined : input);
  const trace = Array.isArray(input) ? input : input.trace;
  const lanes = [...new Set(trace.map((s) => s.cpu))].sort((a, b) => a - b).map((c) => `CPU ${c}`);
  const data: Array<Record<string, unknown>> = [];
  // One bar per step, labelled with what it does; one trace per function, so the legend names the functions.
  const byFn = new Map<string, TraceStep[]>();
  for (const s of trace) byFn.set(s.fn, [...(byFn.get(s.fn) ?? []), s]);
  for (const [fn, steps] of byFn) {
    data.push({
      type: "bar", orientation: "h", name: escapeHtml(fn), width: 0.6,
      y: steps.map(laneOf), base: steps.map((s) => s.i), x: steps.map(() => 1),
      text: steps.map((s) => escapeHtml(s.what)), textposition: "inside", insidetextanchor: "middle",
      hovertext: steps.map(stepLabel), hoverinfo: "text",
      marker: { line: { width: 1, color: "#fff" }, pattern: { shape: steps.map((s) => (s.ctx === "irq" ? "/" : "")) } },
    });
  }
  const shapes: Array<Record<string, unknown>> = [];
  const bad = violation ? trace[violation.at] : undefined;
  if (violation && bad) {
    data.push({
      type: "scatter", mode: "markers", name: escapeHtml(violation.invariant),
      // At the bar's right end, so the step's label stays readable.
      x: [bad.i + 0.9], y: [laneOf(bad)], hovertext: [escapeHtml(violation.message)], hoverinfo: "text",
      marker: { symbol: "x", size: 14, color: "#d62728", line: { width: 1, color: "#fff" } },
    });
    shapes.push({ type: "rect", xref: "x", yref: "paper", x0: bad.i, x1: bad.i + 1, y0: 0, y1: 1, fillcolor: "rgba(214,39,40,0.12)", line: { width: 0 } });
  }
  const heading = escapeHtml(opts.title ?? (violation ? `${violation.invariant}: ${violation.message}` : `Trace (${trace.length} steps)`));
  const sub = violation ? `<br><sub>schedule ${escapeHtml(violation.schedule)} · ${violation.steps} steps · ${violation.preemptions} preemption(s)</sub>` : "";
  return {
    data,
    layout: {
      title: { text: heading + sub }, barmode: "overlay", shapes, hovermode: "closest",
      // Step labels that do not fit their bar are hidden rather than shrunk to nothing.
      uniformtext: { mode: "hide", minsize: 9 },
      xaxis: { title: { text: "step" }, rangemode: "tozero", zeroline: false, ...(trace.length <= 40 ? { dtick: 1 } : {}) },
      yaxis: { type: "category", categoryorder: "array", categoryarray: lanes, autorange: "reversed" },
      legend: { title: { text: "function" } },
      margin: { t: violation ? 90 : 60 },
    },
  };
}

/** Shows the timeline of a trace, or of a violation's trace with the violating step marked. */
export function timeline(input: TraceStep[] | Violation, opts: TimelineOptions = {}): void {
  const fig = timelineFigure(input, opts);
  const violation = opts.violation ?? (Array.isArray(input) ? undefined : input);
  const lanes = new Set((Array.isArray(input) ? input : input.trace).map((s) => s.cpu)).size;
  plot(fig, { height: opts.height ?? 180 + 70 * Math.max(1, lanes), includeLibrary: opts.includeLibrary });
  if (opts.record && violation) record(opts.record, { invariant: violation.invariant, schedule: violation.schedule, steps: violation.steps, preemptions: violation.preemptions });
}
