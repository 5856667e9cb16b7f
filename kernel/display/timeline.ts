// Swim-lane timeline of a trace: one lane per CPU, each function run as a bar, every step as a marker,
// the violating step marked in red with the schedule string that replays it.
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

interface Segment {
  lane: string;
  fn: string;
  ctx: TraceStep["ctx"];
  thread: string;
  start: number;
  steps: TraceStep[];
}

const laneOf = (s: TraceStep) => `CPU ${s.cpu}`;
const SYMBOL: Record<TraceStep["kind"], string> = { W: "square", R: "circle-open", "-": "line-ns-open" };

/** Consecutive steps of one CPU context in one function become one bar; a preemption splits the bar. */
function segments(trace: TraceStep[]): Segment[] {
  const out: Segment[] = [];
  let prev: TraceStep | undefined;
  for (const s of trace) {
    const last = out[out.length - 1];
    if (last && prev && prev.cpu === s.cpu && prev.ctx === s.ctx && prev.fn === s.fn && prev.thread === s.thread) last.steps.push(s);
    else out.push({ lane: laneOf(s), fn: s.fn, ctx: s.ctx, thread: s.thread, start: s.i, steps: [s] });
    prev = s;
  }
  return out;
}

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
  const byFn = new Map<string, Segment[]>();
  for (const seg of segments(trace)) byFn.set(seg.fn, [...(byFn.get(seg.fn) ?? []), seg]);
  for (const [fn, segs] of byFn) {
    data.push({
      type: "bar", orientation: "h", name: escapeHtml(fn), width: 0.6,
      y: segs.map((s) => s.lane), base: segs.map((s) => s.start), x: segs.map((s) => s.steps.length),
      text: segs.map(() => escapeHtml(fn)), textposition: "inside", insidetextanchor: "middle", constraintext: "both",
      hovertext: segs.map((s) => s.steps.map(stepLabel).join("<br>")), hoverinfo: "text",
      marker: { pattern: { shape: segs.map((s) => (s.ctx === "irq" ? "/" : "")) } },
    });
  }
  data.push({
    type: "scatter", mode: "markers", name: "steps", showlegend: false,
    x: trace.map((s) => s.i + 0.5), y: trace.map(laneOf), hovertext: trace.map(stepLabel), hoverinfo: "text",
    marker: { symbol: trace.map((s) => SYMBOL[s.kind]), size: 7, color: "#222" },
  });
  const shapes: Array<Record<string, unknown>> = [];
  const bad = violation ? trace[violation.at] : undefined;
  if (violation && bad) {
    data.push({
      type: "scatter", mode: "markers", name: escapeHtml(violation.invariant),
      x: [bad.i + 0.5], y: [laneOf(bad)], hovertext: [escapeHtml(violation.message)], hoverinfo: "text",
      marker: { symbol: "x", size: 18, color: "#d62728", line: { width: 1, color: "#fff" } },
    });
    shapes.push({ type: "rect", xref: "x", yref: "paper", x0: bad.i, x1: bad.i + 1, y0: 0, y1: 1, fillcolor: "rgba(214,39,40,0.12)", line: { width: 0 } });
  }
  const heading = escapeHtml(opts.title ?? (violation ? `${violation.invariant}: ${violation.message}` : `Trace (${trace.length} steps)`));
  const sub = violation ? `<br><sub>schedule ${escapeHtml(violation.schedule)} · ${violation.steps} steps · ${violation.preemptions} preemption(s)</sub>` : "";
  return {
    data,
    layout: {
      title: { text: heading + sub }, barmode: "overlay", shapes, hovermode: "closest",
      xaxis: { title: { text: "step" }, rangemode: "tozero", zeroline: false },
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
