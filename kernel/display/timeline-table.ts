// The step table under a timeline: every step in words (lane, thread, function, what, object, access, locks
// held), the violating step and each CPU switch marked, each row reachable from its bar (id per step).
import type { TraceStep, Violation } from "../../lib/sim/trace";
import { escapeHtml as e, jsonForScript } from "./escape";
import { laneOf, stepInfo } from "./timeline-steps";

const ACCESS: Record<string, string> = { R: "read", W: "write", "-": "" };

function locksAt(info: ReturnType<typeof stepInfo>, s: TraceStep): string[] {
  return info.held.filter((h) => h.lane === laneOf(s) && s.i >= h.from && s.i <= h.to).map((h) => h.obj);
}

export function stepTableHtml(trace: TraceStep[], violation: Violation | undefined, plotId: string): string {
  const info = stepInfo(trace);
  const bad = violation ? trace[violation.at]?.i : undefined;
  const switches = new Set(info.switches);
  const rowId = (i: number) => `${plotId}-step-${i}`;
  const td = "padding:1px 6px;text-align:left;vertical-align:top;border:0";
  const rows = trace
    .map((s) => {
      const style = [
        s.i === bad ? "background:#fde8e8;font-weight:600" : "",
        switches.has(s.i) ? "border-bottom:2px dashed #888" : "",
      ]
        .filter(Boolean)
        .join(";");
      const swatch = `<span title="${e(info.classOf(s))}" style="display:inline-block;width:10px;height:10px;margin-right:4px;background:${info.colorOf(s)};opacity:${s.kind === "R" ? 0.5 : 1}"></span>`;
      const mark = s.i === bad ? ` ✖ ${e(violation!.invariant)}` : switches.has(s.i) ? " ⇣ switch" : "";
      return (
        `<tr id="${e(rowId(s.i))}" style="${style}"><td style="${td};text-align:right">${s.i}${mark}</td><td style="${td}">${e(laneOf(s))}</td><td style="${td}">${e(s.thread)}</td>` +
        `<td style="${td}"><code>${e(s.fn)}</code></td><td style="${td}">${e(s.what)}</td><td style="${td}">${swatch}<code>${e(s.obj)}</code></td>` +
        `<td style="${td}">${ACCESS[s.kind] ?? ""}</td><td style="${td}"><code>${e(locksAt(info, s).join(", "))}</code></td></tr>`
      );
    })
    .join("\n");
  const head = ["step", "lane", "thread", "function", "what", "object", "access", "locks held"]
    .map((h) => `<th style="${td};position:sticky;top:0;background:#f4f4f4">${h}</th>`)
    .join("");
  const summary = `Steps (${trace.length})${violation ? `: the violating step #${bad} in red` : ""}${info.switches.length ? `, CPU switches dashed` : ""}`;
  // A click on a bar (customdata = step number) scrolls the table to that row; the plot may be drawn later.
  const link = `<script type="text/javascript">(function () { var id = ${jsonForScript(plotId)}, tries = 0;
  function link() { var d = document.getElementById(id); if (!d || !d.on) { if (tries++ < 100) setTimeout(link, 200); return; }
    d.on("plotly_click", function (ev) { var p = ev.points && ev.points[0]; if (!p || p.customdata === undefined) return;
      var row = document.getElementById(id + "-step-" + p.customdata); if (!row) return;
      var box = row.closest("details"); if (box) box.open = true; row.scrollIntoView({ block: "nearest" }); row.style.outline = "2px solid #1f77b4"; setTimeout(function () { row.style.outline = ""; }, 1500); }); }
  link(); })();</script>`;
  return (
    `\n<details open class="flushlab-steps" style="margin:4px 0 8px"><summary style="cursor:pointer">${e(summary)}</summary>` +
    `<div style="max-height:420px;overflow:auto;border:1px solid #ddd"><table style="border-collapse:collapse;font-size:12px;width:100%;table-layout:auto"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table></div></details>\n${link}`
  );
}

export function stepTableText(trace: TraceStep[], violation: Violation | undefined): string {
  const bad = violation ? trace[violation.at]?.i : undefined;
  return trace
    .map(
      (s) =>
        `${s.i === bad ? "✖" : " "} #${String(s.i).padStart(3)} ${laneOf(s).padEnd(9)} ${s.thread}: ${s.fn}: ${s.what}${s.obj ? ` ${s.obj}` : ""}${s.kind === "-" ? "" : ` [${ACCESS[s.kind]}]`}`,
    )
    .join("\n");
}
