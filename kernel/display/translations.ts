// The translation picture of a machine in a notebook (as a race report's inspector shows it): PTEs, HPTEs, each
// core's TLB entries and the frames they reach, the harmful ones highlighted.
import type { Machine } from "../../lib/sim/machine";
import { translationState, type TranslationRow } from "../report-state";
import { emit } from "./emit";
import { escapeHtml as e } from "./escape";
import { tableText } from "./table";

const COLS = ["where", "va", "pfn", "detail", "mark"] as const;

export function translationsHtml(rows: readonly TranslationRow[], caption = ""): string {
  const td = "padding:1px 8px;text-align:left;border:1px solid #ddd";
  const head = COLS.map((c) => `<th style="${td};background:#f4f4f4">${c}</th>`).join("");
  const body = rows
    .map((r) => {
      const bg = r.mark && r.where !== "frame " + r.pfn ? "background:#fff1c2;" : "";
      const cells = COLS.map(
        (c) =>
          `<td style="${bg}${td}${c === "mark" && r.mark ? ";color:#b00;font-weight:600" : ""}">${e(r[c] ?? "")}</td>`,
      ).join("");
      return `<tr class="${r.mark ? "mark" : ""}">${cells}</tr>`;
    })
    .join("\n");
  const cap = caption ? `<caption style="text-align:left">${e(caption)}</caption>` : "";
  return `<table class="flushlab-translations" style="border-collapse:collapse;font-size:12.5px">${cap}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Show machine `m`'s translations (a replay stopped at a step: `fl.replay(id, { schedule, stopAt }).machine`). */
export function translations(m: Machine, caption = ""): TranslationRow[] {
  const rows = translationState(m);
  emit({ "text/html": translationsHtml(rows, caption), "text/plain": tableText(rows) });
  return rows;
}
