// out/index.html: the write-ups at a glance, with links, status, timings and recorded values.
import { escapeHtml } from "./display/escape";
import type { Manifest } from "./manifest";

export function indexPage(m: Manifest): string {
  const rows = m.notebooks.map((n) => {
    const failed = n.cells.filter((c) => c.status !== "ok").length;
    const status = n.ok ? "ok" : n.error ? "stopped" : `${failed} failed cell(s)`;
    const link = n.html ? `<a href="${escapeHtml(n.html)}">${escapeHtml(n.notebook)}</a>` : escapeHtml(n.notebook);
    const recs = Object.entries(n.records).map(([k, v]) => `<div><code>${escapeHtml(k)}</code> = <code>${escapeHtml(JSON.stringify(v))}</code></div>`).join("");
    return `<tr class="${n.ok ? "ok" : "fail"}"><td>${link}<br><small><a href="${escapeHtml(n.ipynb)}">.ipynb</a></small></td>` +
      `<td>${escapeHtml(status)}${n.error ? `<br><small>${escapeHtml(n.error)}</small>` : ""}</td>` +
      `<td>${n.cells.length}</td><td>${(n.kernelStartMs / 1000).toFixed(1)} s</td><td>${(n.runMs / 1000).toFixed(1)} s</td><td>${recs}</td></tr>`;
  }).join("\n");
  const tools = Object.entries(m.tools).map(([k, v]) => `${escapeHtml(k)} ${escapeHtml(v ?? "?")}`).join(" · ");
  const params = Object.keys(m.parameters).length ? `<p>Parameters: <code>${escapeHtml(JSON.stringify(m.parameters))}</code></p>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flushlab workbook</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .4em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
tr.fail td:nth-child(2) { color: #b00; font-weight: 600; } tr.ok td:nth-child(2) { color: #070; }
small { color: #666; } code { font-size: 90%; }
</style></head><body>
<h1>flushlab workbook</h1>
<p>${m.ok ? "All notebooks ran cleanly." : "<strong>Some notebooks failed.</strong>"} Generated ${escapeHtml(m.createdAt)}
from commit <code>${escapeHtml(m.git.commit ?? "unknown")}</code>${m.git.dirty ? " (with uncommitted changes)" : ""} in ${(m.totalMs / 1000).toFixed(1)} s.</p>
${params}
<table><thead><tr><th>notebook</th><th>status</th><th>cells</th><th>kernel start</th><th>run</th><th>recorded</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${m.errors.length ? `<h2>Errors</h2><pre>${escapeHtml(m.errors.join("\n"))}</pre>` : ""}
<p><small>${tools}</small></p>
<p><small>Details: <a href="manifest.json">manifest.json</a></small></p>
</body></html>
`;
}
