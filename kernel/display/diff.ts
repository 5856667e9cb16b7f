// A fix as a reviewer reads it: each changed function side by side, removed lines red on the left, added lines
// green on the right, unchanged context between, long lines wrapped; the unified diff as the text/plain twin.
import type { DiffHunk, FunctionChange } from "../../lib/explore/source";
import { emit } from "./emit";
import { escapeHtml } from "./escape";

/** One row of the side-by-side view: a line on each side (null: nothing there), and what kind of row it is. */
interface Row {
  kind: "context" | "change" | "hunk";
  left: { n: number; text: string; removed: boolean } | null;
  right: { n: number; text: string; added: boolean } | null;
  header?: string;
}

/** The hunks as side-by-side rows: a run of removals is paired with the additions that follow it. */
export function sideBySide(hunks: readonly DiffHunk[]): Row[] {
  const rows: Row[] = [];
  for (const h of hunks) {
    rows.push({
      kind: "hunk",
      left: null,
      right: null,
      header: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`,
    });
    let a = h.oldStart;
    let b = h.newStart;
    for (let i = 0; i < h.lines.length;) {
      const l = h.lines[i];
      if (l.startsWith(" ")) {
        rows.push({
          kind: "context",
          left: { n: a++, text: l.slice(1), removed: false },
          right: { n: b++, text: l.slice(1), added: false },
        });
        i++;
        continue;
      }
      const del: string[] = [];
      const add: string[] = [];
      while (i < h.lines.length && h.lines[i].startsWith("-")) del.push(h.lines[i++].slice(1));
      while (i < h.lines.length && h.lines[i].startsWith("+")) add.push(h.lines[i++].slice(1));
      for (let j = 0; j < Math.max(del.length, add.length); j++) {
        rows.push({
          kind: "change",
          left: j < del.length ? { n: a++, text: del[j], removed: true } : null,
          right: j < add.length ? { n: b++, text: add[j], added: true } : null,
        });
      }
    }
  }
  return rows;
}

const STYLE = `<style>
.fl-diff{border-collapse:collapse;table-layout:fixed;width:100%;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:0.4em 0 1.2em}
.fl-diff caption{text-align:left;font-weight:600;padding:4px 0}
.fl-diff td{vertical-align:top;padding:0 6px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;text-align:left!important}
.fl-diff td.n{width:3.5em;color:#888;text-align:right!important;user-select:none;border-right:1px solid #ddd}
.fl-diff tr.h td{background:#eef3fb;color:#555;padding:2px 6px}
.fl-diff td.del{background:#ffebe9}.fl-diff td.del.n{background:#ffd7d5}
.fl-diff td.add{background:#e6ffec}.fl-diff td.add.n{background:#ccffd8}
.fl-diff td.empty{background:#f6f8fa}
.fl-diff th{font-weight:500;text-align:left!important;color:#444;padding:2px 6px;border-bottom:1px solid #ddd;overflow-wrap:anywhere}
</style>`;

/** One changed function as an HTML side-by-side table (a `<style>` block comes with diffHtml). */
export function changeTable(c: FunctionChange, labelA = "before", labelB = "after"): string {
  const cell = (side: Row["left"] | Row["right"], changed: boolean, cls: string) => {
    if (!side) return `<td class="n empty"></td><td class="empty"></td>`;
    const k = changed ? ` ${cls}` : "";
    return `<td class="n${k}">${side.n}</td><td class="${k.trim()}">${escapeHtml(side.text)}</td>`;
  };
  const body = sideBySide(c.hunks)
    .map((r) => {
      if (r.kind === "hunk") return `<tr class="h"><td colspan="4">${escapeHtml(r.header!)}</td></tr>`;
      return `<tr>${cell(r.left, r.left?.removed ?? false, "del")}${cell(r.right, r.right?.added ?? false, "add")}</tr>`;
    })
    .join("\n");
  const head =
    `<tr><th colspan="2">${escapeHtml(`${labelA}: ${c.a.file || "(notebook)"}${c.a.line ? ":" + c.a.line : ""}`)}</th>` +
    `<th colspan="2">${escapeHtml(`${labelB}: ${c.b.file || "(notebook)"}${c.b.line ? ":" + c.b.line : ""}`)}</th></tr>`;
  return (
    `<table class="fl-diff"><caption>${escapeHtml(c.name)}</caption>` +
    `<colgroup><col style="width:3.5em"><col><col style="width:3.5em"><col></colgroup>` +
    `<thead>${head}</thead><tbody>\n${body}\n</tbody></table>`
  );
}

/** Changed functions (variantDiff's answer) as one self-contained HTML fragment. */
export function diffHtml(changes: readonly FunctionChange[], labelA = "before", labelB = "after"): string {
  if (changes.length === 0) return `<p>no function differs</p>`;
  return `<div class="fl-diffs">${STYLE}${changes.map((c) => changeTable(c, labelA, labelB)).join("\n")}</div>`;
}

/** Show a fix in a notebook: coloured side by side in HTML, the unified diffs as text. */
export function diff(changes: readonly FunctionChange[], labelA = "before", labelB = "after"): void {
  emit({
    "text/html": diffHtml(changes, labelA, labelB),
    "text/plain": changes.map((c) => c.diff).join("\n\n"),
  });
}
