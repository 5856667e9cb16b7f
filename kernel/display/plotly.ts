// A plotly figure as one output: application/vnd.plotly.v1+json (for renderers that know it), text/html that
// draws offline (plotly.js inlined in the first figure of a kernel session) and text/plain.
import * as fs from "fs";
import { emit, newDisplayId, type MimeBundle } from "./emit";
import { jsonForScript, scriptSafe } from "./escape";

/** A plotly figure as plain JSON (plotly's own types are left out so the .d.ts stays small and TS 5.0-safe). */
export interface Figure {
  data: Array<Record<string, unknown>>;
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export interface PlotOptions {
  /** Pixel height of the plot div. */
  height?: number;
  /** Inline plotly.js in this output even if an earlier one did (e.g. when only later cells are re-run). */
  includeLibrary?: boolean;
  /** The plot div's id, for HTML placed next to it that talks to the plot (default: a fresh one). */
  divId?: string;
}

export const PLOTLY_MIME = "application/vnd.plotly.v1+json";
const FLAG = Symbol.for("flushlab.plotly.injected");
const QUEUE = "__flushlabPlotlyQueue";

let bundleSource: string | null = null;
function plotlyJs(): string {
  bundleSource ??= scriptSafe(fs.readFileSync(require.resolve("plotly.js-dist-min"), "utf8"));
  return bundleSource;
}

/** plotly.js as a file the exported pages share (_static/plotly.js), wrapped like the inlined copy. */
export function plotlyLibraryFile(): string {
  return `(function(module, exports, define){\n${plotlyJs()}\n}).call(window);\n`;
}

/** Forget that plotly.js was inlined, so the next figure carries it again. */
export function resetPlotlyInjection(): void {
  delete (globalThis as Record<symbol, unknown>)[FLAG];
}

/** The MIME bundle for a figure (pure apart from the once-per-session flag, so tests can inspect it). */
export function plotlyBundle(fig: Figure, opts: PlotOptions = {}): MimeBundle {
  const g = globalThis as Record<symbol, unknown>;
  const include = opts.includeLibrary ?? !g[FLAG];
  const spec = { data: fig.data, layout: fig.layout ?? {}, config: fig.config ?? {} };
  const id = opts.divId ?? newDisplayId();
  let html = "";
  if (include) {
    // The call(window) wrapper hides module/exports/define, so the UMD bundle sets window.Plotly even under require.js.
    html +=
      `<script type="text/javascript">(function(module, exports, define){\n${plotlyJs()}\n}).call(window);\n` +
      `(window.${QUEUE} || []).splice(0).forEach(function (f) { f(); });</script>\n`;
    g[FLAG] = true;
  }
  html +=
    `<div id="${id}" class="flushlab-plot" style="height:${opts.height ?? 420}px; width:100%;"></div>\n` +
    `<script type="text/javascript">(function () { var fig = ${jsonForScript(spec)};\n` +
    `  function draw() { window.Plotly.newPlot(${jsonForScript(id)}, fig.data, fig.layout, Object.assign({responsive: true}, fig.config)); }\n` +
    `  if (window.Plotly) { draw(); } else { (window.${QUEUE} = window.${QUEUE} || []).push(draw); } })();</script>`;
  return { [PLOTLY_MIME]: JSON.parse(JSON.stringify(spec)), "text/html": html, "text/plain": describe(fig) };
}

/** Shows a figure as one output with all three representations. */
export function plot(fig: Figure, opts: PlotOptions = {}): void {
  emit(plotlyBundle(fig, opts));
}

function describe(fig: Figure): string {
  const title = (fig.layout?.title as { text?: string } | undefined)?.text ?? fig.layout?.title;
  const names = fig.data.map((d) => d.name).filter((n) => typeof n === "string");
  return `<Plotly figure${title ? `: ${plain(String(title))}` : ""}; ${fig.data.length} trace(s)${names.length ? ": " + names.map((n) => plain(String(n))).join(", ") : ""}>`;
}

/** Plotly label markup (<br>, <sub>, escaped text) as plain text. */
function plain(s: string): string {
  return unescape(s.replace(/<br\s*\/?>/gi, " · ").replace(/<[^>]*>/g, ""));
}

/** Labels are stored HTML-escaped for plotly; text/plain shows them as the reader typed them. */
function unescape(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}
