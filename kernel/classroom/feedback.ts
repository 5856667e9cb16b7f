// A student's feedback page for one notebook: the score, each grade cell's points and message, their code and
// its outputs (plots included). Student output is untrusted: text is escaped, HTML runs in a sandboxed iframe.
import { RECORD_MIME } from "../display/record-mime";
import type { Output } from "../session";
import { SUBMIT_PREFIX } from "./format";
import { effectiveRows, fmt, type Gradebook } from "./gradebook";

export interface FeedbackCell {
  id: string | null;
  cell_type: string;
  shown: string;
  outputs: Output[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function output(o: Output): string {
  if (o.output_type === "stream") return `<pre class="${o.name}">${esc(o.text)}</pre>`;
  if (o.output_type === "error") return `<pre class="stderr">${esc(`${o.ename}: ${o.evalue}`)}</pre>`;
  const d = o.data;
  const rec = d[RECORD_MIME] as Record<string, unknown> | undefined;
  // Values a hidden test submits are the grader's business, not feedback.
  if (rec && Object.keys(rec).some((k) => k.startsWith(SUBMIT_PREFIX))) return "";
  if (typeof d["image/png"] === "string")
    return `<img alt="plot" src="data:image/png;base64,${esc(d["image/png"] as string)}">`;
  if (typeof d["text/html"] === "string" || Array.isArray(d["text/html"])) {
    const html = Array.isArray(d["text/html"]) ? (d["text/html"] as string[]).join("") : (d["text/html"] as string);
    // No allow-same-origin: the student's scripts (plotly) run, but cannot reach this page or its origin.
    return `<iframe sandbox="allow-scripts" srcdoc="${esc(html)}" style="width:100%;height:480px;border:0"></iframe>`;
  }
  const text = d["text/plain"];
  return text ? `<pre>${esc(Array.isArray(text) ? text.join("") : String(text))}</pre>` : "";
}

export function feedbackHtml(student: string, notebook: string, cells: FeedbackCell[], gb: Gradebook): string {
  const rows = effectiveRows(gb).filter((r) => r.student === student && r.notebook === notebook);
  const pts = rows.reduce((s, r) => s + (r.points ?? 0), 0);
  const max = rows.reduce((s, r) => s + (r.max_points ?? 0), 0);
  const byCell = new Map(rows.filter((r) => r.cell && r.max_points !== null).map((r) => [r.cell, r]));
  const table = rows
    .map(
      (r) =>
        `<tr class="${esc(r.status.replace(/ /g, "-"))}"><td>${esc(r.cell || "(notebook)")}</td><td>${r.points === null ? "" : fmt(r.points)}${r.max_points === null ? "" : ` / ${fmt(r.max_points)}`}</td><td>${esc(r.status)}</td><td>${esc(r.message)}</td></tr>`,
    )
    .join("\n");
  const body = cells
    .map((c) => {
      const r = c.id ? byCell.get(c.id) : undefined;
      const head = r
        ? `<div class="grade ${esc(r.status.replace(/ /g, "-"))}">${esc(c.id!)}: ${r.points === null ? "—" : fmt(r.points)} / ${fmt(r.max_points ?? 0)} · ${esc(r.status)} · ${esc(r.message)}</div>`
        : "";
      if (c.cell_type !== "code") return `<div class="cell md">${head}<pre class="md">${esc(c.shown)}</pre></div>`;
      return `<div class="cell code">${head}<pre class="src">${esc(c.shown)}</pre>${c.outputs.map(output).join("")}</div>`;
    })
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(notebook)} — feedback for ${esc(student)}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}pre{white-space:pre-wrap;margin:.3em 0}pre.src{background:#f6f6f6;padding:.5em}pre.stderr{color:#a00}
table{border-collapse:collapse}td{border:1px solid #ccc;padding:.2em .5em;vertical-align:top}.passed{background:#e8f6e8}.failed,.timeout,.kernel-died{background:#fbe9e9}.grade{font-weight:bold;margin-top:1em}</style></head>
<body><h1>${esc(notebook)}</h1><p>Feedback for <b>${esc(student)}</b>: <b>${fmt(pts)} / ${fmt(max)}</b> points (${esc(gb.createdAt)}).</p>
<table><tr><th>cell</th><th>points</th><th>status</th><th>message</th></tr>
${table}</table>
${body}
</body></html>
`;
}

export function feedbackPage(
  student: string,
  n: {
    name: string;
    assembled?: { cells: Array<{ id?: string; cell: { cell_type: string }; shown: string }> };
    run?: { notebook: { cells: Array<{ outputs?: Output[] }> } | null };
  },
  gb: Gradebook,
): string {
  const cells: FeedbackCell[] =
    n.assembled?.cells.map((gc, i) => ({
      id: gc.id ?? null,
      cell_type: gc.cell.cell_type,
      shown: gc.shown,
      outputs: n.run?.notebook?.cells[i]?.outputs ?? [],
    })) ?? [];
  return feedbackHtml(student, n.name, cells, gb);
}
