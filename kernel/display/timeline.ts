// Timeline of a trace, designed for 50–200 steps: one lane per CPU (and interrupt context), one bar per step
// coloured by the class of object it touches (PTE, TLB, HPTE group, lock, …; reads lighter, local steps grey),
// the lock-held spans under each lane, every CPU switch as a dashed line, the violating step marked in red.
// Bars carry no text (unreadable at this density); the step table under the plot says what each step does,
// readable without hover in a static page, and a click on a bar scrolls to its row.
import type { TraceStep, Violation } from "../../lib/sim/trace";
import { emit, newDisplayId } from "./emit";
import { escapeHtml } from "./escape";
import { plotlyBundle, type Figure, type PlotOptions } from "./plotly";
import { record } from "./record";
import { stepTableHtml, stepTableText } from "./timeline-table";
import { laneOf, LOCAL, stepInfo } from "./timeline-steps";

export interface TimelineOptions extends PlotOptions {
  /** Marks `violation.at` and puts the invariant and schedule in the title. */
  violation?: Violation;
  title?: string;
  /** Also record the violation's schedule string (and invariant) in the manifest under this name. */
  record?: string;
  /** Show the step table under the plot (default true). */
  steps?: boolean;
}

function stepLabel(s: TraceStep): string {
  const obj = s.obj ? ` ${s.obj}` : "";
  const kind = s.kind === "-" ? "" : ` [${s.kind === "R" ? "read" : "write"}]`;
  return `#${s.i} ${escapeHtml(s.thread)} (${s.ctx})<br>${escapeHtml(s.fn)}: ${escapeHtml(s.what)}${escapeHtml(obj)}${kind}`;
}

/** Plotly titles do not wrap: break a long heading at a space. */
function wrap(text: string, width = 100): string {
  const words = text.split(" ");
  const lines: string[] = [];
  for (const w of words) {
    if (lines.length && (lines[lines.length - 1] + " " + w).length <= width) lines[lines.length - 1] += " " + w;
    else lines.push(w);
  }
  return lines.map(escapeHtml).join("<br>");
}

export function timelineFigure(input: TraceStep[] | Violation, opts: TimelineOptions = {}): Figure {
  const violation = opts.violation ?? (Array.isArray(input) ? undefined : input);
  const trace = Array.isArray(input) ? input : input.trace;
  const info = stepInfo(trace);
  const data: Array<Record<string, unknown>> = [];
  for (const cls of [...info.classes, LOCAL]) {
    const steps = trace.filter((s) => info.classOf(s) === cls.name);
    if (!steps.length) continue;
    data.push({
      type: "bar",
      orientation: "h",
      name: escapeHtml(cls.name),
      width: 0.6,
      y: steps.map(laneOf),
      base: steps.map((s) => s.i),
      x: steps.map(() => 1),
      customdata: steps.map((s) => s.i),
      hovertext: steps.map(stepLabel),
      hoverinfo: "text",
      marker: {
        color: cls.color,
        opacity: steps.map((s) => (s.kind === "R" ? 0.5 : 1)),
        line: { width: 1, color: "#fff" },
      },
    });
  }
  const shapes: Array<Record<string, unknown>> = [];
  const annotations: Array<Record<string, unknown>> = [];
  // Lock-held spans: a thin bar just under the lane (category k sits at y = k; the axis is reversed).
  for (const h of info.held) {
    const k = info.lanes.indexOf(h.lane);
    shapes.push({
      type: "rect",
      xref: "x",
      yref: "y",
      x0: h.from,
      x1: h.to + 1,
      y0: k + 0.34,
      y1: k + 0.44,
      fillcolor: "#555",
      line: { width: 0 },
    });
    annotations.push({
      x: h.from,
      y: k + 0.39,
      xref: "x",
      yref: "y",
      xanchor: "left",
      yanchor: "top",
      yshift: -4,
      showarrow: false,
      text: `holds ${escapeHtml(h.obj)}${h.open ? " (still held)" : ""}`,
      font: { size: 10, color: "#555" },
    });
  }
  for (const i of info.switches)
    shapes.push({
      type: "line",
      xref: "x",
      yref: "paper",
      x0: i + 1,
      x1: i + 1,
      y0: 0,
      y1: 1,
      line: { width: 1, dash: "dot", color: "#888" },
    });
  const bad = violation ? trace[violation.at] : undefined;
  if (violation && bad) {
    shapes.push({
      type: "rect",
      xref: "x",
      yref: "paper",
      x0: bad.i,
      x1: bad.i + 1,
      y0: 0,
      y1: 1,
      fillcolor: "rgba(214,39,40,0.15)",
      line: { width: 0 },
    });
    data.push({
      type: "scatter",
      mode: "markers",
      name: `violating step #${bad.i}: ${escapeHtml(violation.invariant)}`,
      x: [bad.i + 0.5],
      y: [laneOf(bad)],
      customdata: [bad.i],
      hovertext: [escapeHtml(violation.message)],
      hoverinfo: "text",
      marker: { symbol: "x", size: 14, color: "#d62728", line: { width: 1, color: "#fff" } },
    });
  }
  // Legend-only entries for what shapes draw.
  if (info.held.length)
    data.push({
      type: "scatter",
      mode: "lines",
      x: [null],
      y: [null],
      name: "lock held (acquire → release)",
      line: { color: "#555", width: 5 },
      hoverinfo: "skip",
    });
  if (info.switches.length)
    data.push({
      type: "scatter",
      mode: "lines",
      x: [null],
      y: [null],
      name: "CPU switch",
      line: { color: "#888", width: 1, dash: "dot" },
      hoverinfo: "skip",
    });
  const heading = opts.title
    ? wrap(opts.title)
    : violation
      ? wrap(`${violation.invariant}: ${violation.message}`)
      : `Trace (${trace.length} steps)`;
  const sub = violation
    ? `<br><sub>schedule ${escapeHtml(violation.schedule)} · ${violation.steps} steps · ${violation.preemptions} preemption(s)</sub>`
    : "";
  const n = trace.length;
  const lanesText = info.lanes.map((l) => `${l} · ${(info.threads.get(l) ?? []).map(escapeHtml).join(", ")}`);
  return {
    data,
    layout: {
      title: { text: heading + sub, font: { size: 15 } },
      barmode: "overlay",
      shapes,
      annotations,
      hovermode: "closest",
      xaxis: {
        title: { text: "step (lighter bars: reads; click a bar for its row in the step table)" },
        range: [-0.5, n + 0.5],
        zeroline: false,
        dtick: n <= 60 ? 2 : n <= 120 ? 5 : 10,
        showgrid: true,
        gridcolor: "#eee",
      },
      yaxis: {
        type: "category",
        categoryorder: "array",
        categoryarray: info.lanes,
        autorange: "reversed",
        tickvals: info.lanes,
        ticktext: lanesText,
        automargin: true,
      },
      legend: { title: { text: "object touched" }, orientation: "h", y: -0.35, yanchor: "top" },
      margin: { t: violation ? 90 : 50, l: 10, r: 10 },
    },
  };
}

/** Shows the timeline of a trace, or of a violation's trace with the violating step marked, and its step table. */
export function timeline(input: TraceStep[] | Violation, opts: TimelineOptions = {}): void {
  const violation = opts.violation ?? (Array.isArray(input) ? undefined : input);
  const trace = Array.isArray(input) ? input : input.trace;
  const fig = timelineFigure(input, opts);
  const lanes = stepInfo(trace).lanes.length;
  const divId = newDisplayId();
  const bundle = plotlyBundle(fig, {
    height: opts.height ?? 260 + 60 * Math.max(1, lanes),
    includeLibrary: opts.includeLibrary,
    divId,
  });
  if (opts.steps !== false) {
    bundle["text/html"] = String(bundle["text/html"]) + stepTableHtml(trace, violation, divId);
    bundle["text/plain"] = `${bundle["text/plain"]}\n${stepTableText(trace, violation)}`;
  }
  emit(bundle);
  if (opts.record && violation)
    record(opts.record, {
      invariant: violation.invariant,
      schedule: violation.schedule,
      steps: violation.steps,
      preemptions: violation.preemptions,
    });
}
