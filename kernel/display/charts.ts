// The plots every notebook needs besides timelines: outcome counts and latency distributions.
import { escapeHtml } from "./escape";
import { plot, type Figure, type PlotOptions } from "./plotly";
import { record } from "./record";

export type Counts = Record<string, number> | Map<string | number, number> | Array<[string | number, number]>;

export interface ChartOptions extends PlotOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Record the plotted numbers in the manifest under this name. */
  record?: string;
}

export interface CountsOptions extends ChartOptions {
  /** Bars drawn in red, e.g. the outcomes that violate an invariant. */
  highlight?: (label: string) => boolean;
}

function entries(counts: Counts): Array<[string, number]> {
  const list = counts instanceof Map ? [...counts] : Array.isArray(counts) ? counts : Object.entries(counts);
  return list.map(([k, v]) => [String(k), v]);
}

const axis = (text?: string) => (text ? { title: { text: escapeHtml(text) } } : {});

export function countsFigure(counts: Counts, opts: CountsOptions = {}): Figure {
  const e = entries(counts);
  return {
    data: [
      {
        type: "bar",
        name: escapeHtml(opts.yTitle ?? "count"),
        x: e.map(([k]) => escapeHtml(k)),
        y: e.map(([, v]) => v),
        text: e.map(([, v]) => String(v)),
        textposition: "auto",
        marker: { color: e.map(([k]) => (opts.highlight?.(k) ? "#d62728" : "#1f77b4")) },
      },
    ],
    layout: {
      title: { text: escapeHtml(opts.title ?? "Counts") },
      xaxis: { type: "category", ...axis(opts.xTitle) },
      yaxis: { rangemode: "tozero", ...axis(opts.yTitle ?? "count") },
    },
  };
}

/** Bar chart of counts per label (outcomes, violations per invariant, schedules per result). */
export function countsPlot(counts: Counts, opts: CountsOptions = {}): void {
  plot(countsFigure(counts, opts), { height: opts.height ?? 360, includeLibrary: opts.includeLibrary });
  if (opts.record) record(opts.record, Object.fromEntries(entries(counts)));
}

export interface LatencyOptions extends ChartOptions {
  /** Unit shown on the value axis. Default "ns". */
  unit?: string;
  /** Box plots (default) or overlaid histograms. */
  kind?: "box" | "histogram";
}

export type Series = Record<string, number[]> | Map<string, number[]>;

export function latencyFigure(series: Series, opts: LatencyOptions = {}): Figure {
  const e = series instanceof Map ? [...series] : Object.entries(series);
  const unit = escapeHtml(opts.unit ?? "ns");
  const hist = opts.kind === "histogram";
  return {
    data: e.map(([name, values]) =>
      hist
        ? { type: "histogram", name: escapeHtml(name), x: values, opacity: 0.6 }
        : { type: "box", name: escapeHtml(name), y: values, boxpoints: "outliers", boxmean: true },
    ),
    layout: {
      title: { text: escapeHtml(opts.title ?? "Latency") },
      barmode: hist ? "overlay" : undefined,
      showlegend: hist,
      xaxis: hist ? { title: { text: escapeHtml(opts.xTitle ?? "") || `latency (${unit})` } } : axis(opts.xTitle),
      yaxis: hist
        ? { title: { text: "count" } }
        : { title: { text: escapeHtml(opts.yTitle ?? "") || `latency (${unit})` }, rangemode: "tozero" },
    },
  };
}

/** Latency distributions, one box (or histogram) per series. */
export function latencyPlot(series: Series, opts: LatencyOptions = {}): void {
  plot(latencyFigure(series, opts), { height: opts.height ?? 380, includeLibrary: opts.includeLibrary });
  if (opts.record) {
    const e = series instanceof Map ? [...series] : Object.entries(series);
    record(opts.record, Object.fromEntries(e.map(([k, v]) => [k, summary(v)])));
  }
}

/** n, min, median, p99, max: what a manifest reader needs to compare two runs. */
export function summary(values: number[]): { n: number; min: number; p50: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN);
  return { n: s.length, min: s[0] ?? NaN, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] ?? NaN };
}
