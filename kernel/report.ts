// `flushlab report`: one race as a page a kernel engineer can attach to a thread — what the scenario does, the
// minimised timeline, a step inspector (the machine state after every step, computed here by replaying the
// schedule and embedded, so the page needs no kernel), the schedule string and replay command, the fix as a
// model diff, and every variant's verdict; or the same as plain text for a mailing list.

import { explore, replay } from "../lib/explore/explore";
import { getScenario } from "../lib/explore/registry";
import { variantDiff, type FunctionChange } from "../lib/explore/source";
import { describeMachine, type ContextRow } from "../lib/sim/describe";
import type { Violation } from "../lib/sim/trace";
import { ModelError } from "../lib/sim/machine";
import { diffHtml } from "./display/diff";
import { escapeHtml as e, jsonForScript } from "./display/escape";
import { plotlyBundle } from "./display/plotly";
import { tableText } from "./display/table";
import { timelineFigure } from "./display/timeline";
import { stepTableHtml, stepTableText } from "./display/timeline-table";
import { stepInfo } from "./display/timeline-steps";
import { translationState, type TranslationRow } from "./report-state";

export interface ReportOptions {
  variant?: string;
  /** A schedule string to report; default: search the variant (dfs, then minimised) for one. */
  schedule?: string;
  params?: Record<string, unknown>;
  /** Seconds each variant's search may take for the verdict table (default 20). */
  verdictTimeLimit?: number;
}

/** One variant's verdict under the scenario's default bounds. */
export interface VariantVerdict {
  variant: string;
  verdict: string;
  invariant: string | null;
  preemptions: number | null;
  executions: number;
  exhaustive: boolean;
}

/** The machine after step `i` (i = -1: before the first step). */
export interface StepState {
  contexts: ContextRow[];
  translation: TranslationRow[];
}

export interface RaceReport {
  scenario: string;
  title: string;
  description: string;
  variant: string;
  params: Record<string, unknown>;
  violation: Violation;
  replayCommand: string;
  /** states[i + 1] is the machine after step i; states[0] the initial one. */
  states: StepState[];
  /** The variant the fix is measured against (the first clean one), and the model diff to it. */
  fixedVariant: string | null;
  fix: FunctionChange[];
  verdicts: VariantVerdict[];
}

function paramArgs(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => ` --param ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("");
}

/** Search, replay and measure everything the page shows. */
export function buildReport(id: string, opts: ReportOptions = {}): RaceReport {
  const def = getScenario(id);
  const variants = Object.keys(def.variants);
  const variant = opts.variant ?? variants[0];
  const params = opts.params ?? {};
  const timeLimitMs = (opts.verdictTimeLimit ?? 20) * 1000;
  const verdicts: VariantVerdict[] = [];
  let schedule = opts.schedule;
  for (const v of variants) {
    const r = explore(id, { variant: v, params, timeLimitMs });
    const viol = r.violation;
    if (v === variant && !schedule && viol) schedule = viol.schedule;
    verdicts.push({
      variant: v,
      verdict: viol
        ? `${viol.invariant} at ${viol.preemptions} preemption(s), ${viol.steps} steps`
        : r.exhaustive
          ? `clean: bounded space exhausted (${r.executions} executions)`
          : `no violation in ${r.executions} executions, not exhausted`,
      invariant: viol?.invariant ?? null,
      preemptions: viol?.preemptions ?? null,
      executions: r.executions,
      exhaustive: r.exhaustive,
    });
  }
  if (!schedule) throw new ModelError(`${id} / ${variant}: the search found no violation to report (give --schedule)`);
  const full = replay(id, { variant, schedule, params });
  const violation = full.violation;
  if (!violation) throw new ModelError(`${id} / ${variant}: the schedule replays without a violation`);
  const states: StepState[] = [];
  for (let n = 0; n <= violation.trace.length; n++) {
    const m = replay(id, { variant, schedule, params, stopAt: n }).machine;
    states.push({ contexts: describeMachine(m), translation: translationState(m) });
  }
  const fixed = verdicts.find((v) => v.variant !== variant && v.invariant === null && v.exhaustive)?.variant ?? null;
  return {
    scenario: id,
    title: def.title,
    description: def.description ?? "",
    variant,
    params,
    violation,
    replayCommand: `flushlab replay ${id} --variant ${variant}${paramArgs(params)} --schedule ${violation.schedule}`,
    states,
    fixedVariant: fixed,
    fix: fixed ? variantDiff(def, variant, fixed) : [],
    verdicts,
  };
}

/** The plain-text report, for a mailing list: verdict, schedule, timeline, the state at the violating step, fix. */
export function reportText(r: RaceReport): string {
  const v = r.violation;
  const at = r.states[v.at + 1];
  const out = [
    `flushlab race report: ${r.scenario} / ${r.variant}`,
    r.title,
    ...(r.description ? ["", r.description] : []),
    "",
    `VIOLATION ${v.invariant}: ${v.message}`,
    `${v.steps} steps, ${v.preemptions} preemption(s); functions: ${v.functions.join(", ")}`,
    "",
    `schedule: ${v.schedule}`,
    `replay:   ${r.replayCommand}`,
    "",
    "timeline (✖ marks the violating step):",
    stepTableText(v.trace, v),
    "",
    `the machine after step #${v.at}:`,
    tableText(at.contexts),
  ];
  if (at.translation.length) out.push("", `translations after step #${v.at}:`, tableText(at.translation));
  if (r.fixedVariant) {
    out.push("", `the fix, as a diff of the model (${r.variant} → ${r.fixedVariant}):`, "");
    for (const c of r.fix) out.push(c.diff, "");
  }
  out.push("verdicts (the scenario's default bounds):");
  out.push(tableText(r.verdicts.map((x) => ({ variant: x.variant, verdict: x.verdict }))));
  return out.join("\n");
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1400px;margin:0 auto;padding:16px 24px;color:#222}
h1{font-size:1.5em;margin:0.2em 0}h2{font-size:1.15em;margin:1.4em 0 0.4em;border-bottom:1px solid #ddd}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:8px;border-radius:4px}
.verdict{background:#fde8e8;border-left:4px solid #d62728;padding:8px 12px}
table.t{border-collapse:collapse;font-size:12.5px}table.t td,table.t th{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
table.t th{background:#f4f4f4}tr.mark td{background:#fff1c2}tr.mark td.m{color:#b00;font-weight:600}
#inspector{border:1px solid #ccc;border-radius:6px;padding:10px 14px;margin:8px 0}
#inspector .bar{display:flex;gap:10px;align-items:center}#inspector input[type=range]{flex:1}
#step-what{margin:6px 0;font-weight:600}.cols{display:flex;gap:24px;flex-wrap:wrap}.cols>div{min-width:380px}
tr.current td{outline:2px solid #1f77b4}
`;

function rowsHtml<T extends object>(
  rows: readonly T[],
  cols: (keyof T & string)[],
  markCol?: keyof T & string,
): string {
  const head = cols.map((c) => `<th>${e(c)}</th>`).join("");
  const body = rows
    .map((r) => {
      const marked = markCol && r[markCol];
      const cells = cols
        .map((c) => `<td${c === markCol ? ' class="m"' : ""}>${e(r[c] === null ? "" : String(r[c]))}</td>`)
        .join("");
      return `<tr${marked ? ' class="mark"' : ""}>${cells}</tr>`;
    })
    .join("");
  return `<table class="t"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

// The inspector: the slider's value is a step; the panel shows the embedded state after it and marks its row.
const INSPECTOR_JS = `(function () {
  var data = JSON.parse(document.getElementById("fl-report-data").textContent);
  var slider = document.getElementById("step"), what = document.getElementById("step-what");
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return {"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;","'":"&#39;"}[c]; }); }
  function table(rows, cols, mark) {
    if (!rows.length) return "<p><i>no translations in this scenario</i></p>";
    var h = "<table class=t><thead><tr>" + cols.map(function (c) { return "<th>" + esc(c) + "</th>"; }).join("") + "</tr></thead><tbody>";
    rows.forEach(function (r) {
      h += "<tr" + (mark && r[mark] ? " class=mark" : "") + ">" + cols.map(function (c) {
        return "<td" + (c === mark ? " class=m" : "") + ">" + esc(r[c] === null ? "" : r[c]) + "</td>"; }).join("") + "</tr>";
    });
    return h + "</tbody></table>";
  }
  function show(i) {
    i = Math.max(0, Math.min(data.trace.length - 1, i));
    slider.value = String(i);
    var s = data.trace[i], st = data.states[i + 1];
    what.textContent = "after step #" + s.i + (s.i === data.at ? " (the violating step)" : "") + ": CPU " + s.cpu + " " + s.ctx + ", " + s.thread + ": " + s.fn + ": " + s.what + (s.obj ? " " + s.obj : "");
    document.getElementById("ctx").innerHTML = table(st.contexts, ["context", "cpu", "state", "next", "irqs", "preempt_count", "locks"]);
    document.getElementById("xlate").innerHTML = table(st.translation, ["where", "va", "pfn", "detail", "mark"], "mark");
    document.body.setAttribute("data-step", String(i));
    var prev = document.querySelector("tr.current"); if (prev) prev.classList.remove("current");
    var row = document.getElementById(data.plotId + "-step-" + s.i); if (row) { row.classList.add("current"); }
    var plot = document.getElementById(data.plotId);
    if (plot && window.Plotly && plot.layout) {
      var shapes = (plot.layout.shapes || []).filter(function (x) { return x.name !== "inspector"; });
      shapes.push({ name: "inspector", type: "line", xref: "x", yref: "paper", x0: s.i + 1, x1: s.i + 1, y0: 0, y1: 1, line: { color: "#1f77b4", width: 2 } });
      window.Plotly.relayout(plot, { shapes: shapes });
    }
  }
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  document.getElementById("prev").addEventListener("click", function () { show(Number(slider.value) - 1); });
  document.getElementById("next").addEventListener("click", function () { show(Number(slider.value) + 1); });
  document.addEventListener("keydown", function (ev) {
    if (ev.target && ev.target.tagName === "INPUT" && ev.target !== slider) return;
    if (ev.key === "ArrowLeft") { show(Number(slider.value) - 1); ev.preventDefault(); }
    if (ev.key === "ArrowRight") { show(Number(slider.value) + 1); ev.preventDefault(); }
  });
  show(data.at);
})();`;

/** The self-contained page (plotly inlined once; no network, no kernel). */
export function reportHtml(r: RaceReport): string {
  const v = r.violation;
  const plotId = "fl-timeline";
  const lanes = stepInfo(v.trace).lanes.length;
  const fig = plotlyBundle(timelineFigure(v), { includeLibrary: true, divId: plotId, height: 260 + 60 * lanes });
  const data = { trace: v.trace, at: v.at, plotId, states: r.states };
  const verdicts = rowsHtml(
    r.verdicts.map((x) => ({ ...x, "": x.variant === r.variant ? "◀ this report" : "" })),
    ["variant", "verdict", ""],
  );
  const params = Object.keys(r.params).length ? ` (${paramArgs(r.params).trim()})` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(`${r.scenario} / ${r.variant}: ${v.invariant}`)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body data-step="">
<h1>${e(r.scenario)} / ${e(r.variant)}: ${e(v.invariant)}</h1>
<p>${e(r.title)}${e(params)}</p>
${r.description ? `<p>${e(r.description)}</p>` : ""}
<div class="verdict"><b>VIOLATION ${e(v.invariant)}</b>: ${e(v.message)}<br>
${v.steps} steps, ${v.preemptions} preemption(s), found by the explorer and minimised; functions: <code>${e(v.functions.join(", "))}</code></div>
<h2>Reproduce</h2>
<p>Schedule string: <code id="schedule">${e(v.schedule)}</code></p>
<pre id="replay">${e(r.replayCommand)}</pre>
<h2>Timeline</h2>
<p>One lane per CPU context; the violating step is marked red. Move through the steps with the inspector below
(slider, ◀ ▶, or the arrow keys): it shows the machine after that step.</p>
${fig["text/html"]}
<div id="inspector">
<div class="bar"><button id="prev" title="previous step (←)">◀</button>
<input id="step" type="range" min="0" max="${v.trace.length - 1}" value="${v.at}" aria-label="step">
<button id="next" title="next step (→)">▶</button></div>
<div id="step-what"></div>
<div class="cols"><div><h3>Translations: PTEs, HPTEs, TLBs, frames (marked: harmful)</h3><div id="xlate"></div></div>
<div><h3>CPU contexts</h3><div id="ctx"></div></div></div>
</div>
${stepTableHtml(v.trace, v, plotId)}
<h2>The fix, as a diff of the model${r.fixedVariant ? ` (${e(r.variant)} → ${e(r.fixedVariant)})` : ""}</h2>
${r.fixedVariant ? diffHtml(r.fix, r.variant, r.fixedVariant) : "<p>No variant of this scenario is clean under the default bounds.</p>"}
<h2>Every variant's verdict</h2>
<p>Each variant searched under the scenario's default bounds (dfs, partial-order reduction).</p>
${verdicts}
<script type="application/json" id="fl-report-data">${jsonForScript(data)}</script>
<script>${INSPECTOR_JS}</script>
</body></html>
`;
}
