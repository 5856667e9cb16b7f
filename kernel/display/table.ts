// Tables as escaped HTML (with a text/plain twin), from rows of objects or arrays.
import { emit } from "./emit";
import { escapeHtml } from "./escape";

export type Row = Record<string, unknown> | unknown[];

export interface TableOptions {
  /** Column headers; default: the keys of the object rows, in first-seen order. */
  columns?: string[];
  caption?: string;
}

function columnsOf(rows: Row[], opts: TableOptions): string[] {
  if (opts.columns) return opts.columns;
  const cols = new Set<string>();
  for (const r of rows) (Array.isArray(r) ? r.map((_, i) => String(i)) : Object.keys(r)).forEach((k) => cols.add(k));
  return [...cols];
}

/** A number as a table shows it: integers whole, fractions to 3 significant digits (exponent form when tiny or huge). */
export function formatNumber(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e6 ? String(Number(v.toPrecision(3))) : v.toExponential(2);
}

function cellsOf(row: Row, cols: string[]): string[] {
  const values = Array.isArray(row) ? cols.map((_, i) => row[i]) : cols.map((c) => row[c]);
  return values.map((v) =>
    v === undefined || v === null
      ? ""
      : typeof v === "object"
        ? JSON.stringify(v)
        : typeof v === "number"
          ? formatNumber(v)
          : String(v),
  );
}

export function tableHtml(rows: Row[], opts: TableOptions = {}): string {
  const cols = columnsOf(rows, opts);
  // Inline alignment: notebook and nbconvert styles right-align every cell, which garbles text columns.
  const head = cols.map((c) => `<th style="text-align:left">${escapeHtml(c)}</th>`).join("");
  const td = (v: string) =>
    `<td style="text-align:${/^-?[\d.,]+(e[+-]?\d+)?$/i.test(v) ? "right" : "left"}">${escapeHtml(v)}</td>`;
  const body = rows.map((r) => `<tr>${cellsOf(r, cols).map(td).join("")}</tr>`).join("\n");
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : "";
  return `<table class="flushlab-table">${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

export function tableText(rows: Row[], opts: TableOptions = {}): string {
  const cols = columnsOf(rows, opts);
  const grid = [cols, ...rows.map((r) => cellsOf(r, cols))];
  const widths = cols.map((_, i) => Math.max(...grid.map((line) => line[i].length)));
  const fmt = (line: string[]) =>
    line
      .map((v, i) => v.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [
    ...(opts.caption ? [opts.caption] : []),
    fmt(cols),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...grid.slice(1).map(fmt),
  ].join("\n");
}

export function table(rows: Row[], opts: TableOptions = {}): void {
  emit({ "text/html": tableHtml(rows, opts), "text/plain": tableText(rows, opts) });
}
