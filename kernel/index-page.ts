// out/index.html: the front page of a workbook run. Per notebook: its title and one-line summary, status, run
// time, the races found (scenario, variant, invariant, schedule string, from what the notebook recorded), its
// parameters and failures; links that say what they open. Everything else recorded is in manifest.json.
import { escapeHtml as e } from "./display/escape";
import type { Manifest, NotebookEntry } from "./manifest";

const STATUS: Record<NotebookEntry["status"], string> = {
  ok: "ran cleanly",
  failed: "cells failed",
  dead: "kernel died",
  stopped: "not run to the end",
};

interface Verdict {
  key: string;
  name: string;
  scenario: string;
  variant: string;
  invariant: string;
  steps?: number;
  preemptions?: number;
  schedule: string;
}

/** A recorded counterexample: `timeline(v, { record })` stores invariant + schedule; the schedule names scenario and variant. */
function verdicts(records: Record<string, unknown>): Verdict[] {
  const out: Verdict[] = [];
  for (const [name, v] of Object.entries(records)) {
    const r = v as { invariant?: unknown; schedule?: unknown; steps?: unknown; preemptions?: unknown } | null;
    if (!r || typeof r !== "object" || typeof r.schedule !== "string" || typeof r.invariant !== "string") continue;
    const [, scenario = "?", variant = "?"] = r.schedule.split(".");
    out.push({
      key: name,
      name: name.replace(/:?\s*counterexample$/, ""),
      scenario,
      variant,
      invariant: r.invariant,
      schedule: r.schedule,
      steps: typeof r.steps === "number" ? r.steps : undefined,
      preemptions: typeof r.preemptions === "number" ? r.preemptions : undefined,
    });
  }
  return out;
}

/** "cpus 2 · seed 1" for a flat object of scalars; null for anything bigger. */
function inline(v: unknown): string | null {
  if (v === null || ["string", "number", "boolean"].includes(typeof v))
    return String(v).length <= 48 ? String(v) : null;
  if (typeof v !== "object" || Array.isArray(v)) return null;
  const parts = Object.entries(v as Record<string, unknown>).map(([k, x]) =>
    x === null || typeof x !== "object" ? `${k} ${String(x)}` : null,
  );
  return parts.every((p) => p !== null) && parts.join(" · ").length <= 120 ? parts.join(" · ") : null;
}

/** Markdown link syntax and emphasis out, first sentence only (the page itself has the rest). */
function oneLine(md: string): string {
  const text = md
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`/g, "")
    .replace(/(^|\s)[*_]+|[*_]+(?=\s|$|[.,;:])/g, "$1");
  const sentence = /^(.{40,}?[.!?])(\s|$)/.exec(text)?.[1] ?? text;
  return sentence.length <= 240 ? sentence : sentence.slice(0, 239) + "…";
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function notebookSection(n: NotebookEntry): string {
  const title = n.title ?? n.notebook;
  const links = [
    n.html ? `<a href="${e(n.html)}">Read the write-up (HTML page)</a>` : `<span class="muted">no HTML page</span>`,
    n.ipynb ? `<a href="${e(n.ipynb)}" download>Download the executed notebook (${e(n.ipynb)})</a>` : "",
  ]
    .filter(Boolean)
    .join(" · ");
  const failed = n.cells.filter((c) => c.status !== "ok");
  const v = verdicts(n.records);
  const found = v.length
    ? `<table class="verdicts"><thead><tr><th>counterexample</th><th>scenario</th><th>variant</th><th>invariant broken</th><th>steps</th><th>preemptions</th><th>schedule string (replays it)</th></tr></thead><tbody>${v
        .map(
          (x) =>
            `<tr><td>${e(x.name)}</td><td><code>${e(x.scenario)}</code></td><td><code>${e(x.variant)}</code></td><td><code>${e(x.invariant)}</code></td><td class="num">${x.steps ?? ""}</td><td class="num">${x.preemptions ?? ""}</td><td><code class="schedule">${e(x.schedule)}</code></td></tr>`,
        )
        .join("")}</tbody></table>`
    : "";
  const params = inline(n.records.parameters);
  const small = Object.entries(n.records).filter(
    ([k, x]) => k !== "parameters" && !v.some((y) => y.key === k) && inline(x) !== null && typeof x !== "object",
  );
  const rest = Object.keys(n.records).filter(
    (k) => k !== "parameters" && !v.some((y) => y.key === k) && !small.some(([s]) => s === k),
  );
  return `<section class="nb ${e(n.status)}">
<h2>${n.html ? `<a href="${e(n.html)}">${e(title)}</a>` : e(title)} <span class="badge ${e(n.status)}">${e(STATUS[n.status])}</span></h2>
${n.summary ? `<p class="summary">${e(oneLine(n.summary))}</p>` : ""}
<p class="meta"><code>${e(n.notebook)}</code> · ${n.cells.length} cells run on ${e(n.kernel)} in ${secs(n.runMs)} (kernel start ${secs(n.kernelStartMs)})${params ? ` · parameters: ${e(params)}` : ""}</p>
<p class="links">${links}</p>
${n.error ? `<p class="error">${e(n.error)}</p>` : ""}
${failed.length ? `<ul class="failed">${failed.map((c) => `<li>cell ${c.index + 1} (${e(c.status)}): ${e(c.message ?? "")}</li>`).join("")}</ul>` : ""}
${n.warnings.length ? `<ul class="warnings">${n.warnings.map((w) => `<li>warning: ${e(w)}</li>`).join("")}</ul>` : ""}
${found}
${small.length ? `<p class="records">${small.map(([k, x]) => `${e(k)}: <b>${e(inline(x))}</b>`).join(" · ")}</p>` : ""}
${rest.length ? `<p class="muted">Also recorded (values in manifest.json): ${rest.map(e).join(", ")}</p>` : ""}
</section>`;
}

export function indexPage(m: Manifest): string {
  const tools = Object.entries(m.tools)
    .filter(([k]) => k !== "jupyter")
    .map(([k, v]) => `${e(k)} ${e(v ?? "?")}`)
    .join(" · ");
  const params = Object.keys(m.parameters).length
    ? `<p>Run with <code>${Object.entries(m.parameters)
        .map(([k, v]) => `--param ${e(k)}=${e(JSON.stringify(v))}`)
        .join(" ")}</code></p>`
    : "";
  const failed = m.notebooks.filter((n) => !n.ok).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>flushlab workbook</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 64em; margin: 2em auto; padding: 0 1em; color: #222; overflow-wrap: anywhere; }
h1 { margin-bottom: .2em; } h2 { font-size: 1.2em; margin: 0 0 .3em; }
section.nb { border: 1px solid #ddd; border-left: 5px solid #2a7; border-radius: 4px; padding: .8em 1em; margin: 1em 0; }
section.nb.failed, section.nb.dead, section.nb.stopped { border-left-color: #d62728; }
.badge { font-size: .75em; font-weight: 600; padding: .1em .5em; border-radius: 1em; background: #e3f5ea; color: #175; vertical-align: middle; }
.badge.failed, .badge.dead, .badge.stopped { background: #fde8e8; color: #a11; }
.summary { margin: .2em 0; } .meta, .muted { color: #666; font-size: .9em; margin: .2em 0; }
.error, .failed { color: #a11; } .warnings { color: #8a5a00; }
table.verdicts { border-collapse: collapse; width: 100%; table-layout: fixed; margin: .5em 0; font-size: .9em; }
table.verdicts th, table.verdicts td { text-align: left; padding: .3em .4em; border-bottom: 1px solid #eee; vertical-align: top; }
table.verdicts th:nth-child(1) { width: 18%; } table.verdicts th:nth-child(2) { width: 15%; } table.verdicts th:nth-child(3) { width: 7%; }
table.verdicts th:nth-child(4) { width: 12%; } table.verdicts th:nth-child(5) { width: 4em; } table.verdicts th:nth-child(6) { width: 8em; }
td.num { text-align: right; } code.schedule { word-break: break-all; font-size: .85em; }
</style></head><body>
<h1>flushlab workbook</h1>
<p>${m.ok ? "All notebooks ran cleanly." : `<strong>${failed} of ${m.notebooks.length} notebook(s) did not run cleanly.</strong>`} ${m.notebooks.length} notebook(s) in ${secs(m.totalMs)},
${e(m.createdAt.replace("T", " ").replace(/\.\d+Z$/, " UTC"))}, commit <code>${e((m.git.commit ?? "unknown").slice(0, 12))}</code>${m.git.dirty ? " (with uncommitted changes)" : ""}.</p>
${params}
${m.notebooks.map(notebookSection).join("\n")}
${m.errors.length ? `<h2>Errors</h2><ul class="error">${m.errors.map((x) => `<li>${e(x)}</li>`).join("")}</ul>` : ""}
<p class="muted">${tools}</p>
<p class="muted"><a href="manifest.json">manifest.json: every recorded value, per-cell timings and tool versions (machine-readable)</a></p>
</body></html>
`;
}
