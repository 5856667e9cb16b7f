// The gradebook: one row per (student, notebook, cell), kept as JSON (the truth, with overrides and their
// comments) and written out as CSV. Overrides are applied on output and survive a regrade.
import * as fs from "fs";
import * as path from "path";

export type RowStatus =
  | "passed"
  | "failed"
  | "not attempted"
  | "timeout"
  | "kernel died"
  | "not run"
  | "manual"
  | "missing notebook"
  | "malformed"
  | "empty submission"
  | "restored"
  | "missing"
  | "reordered"
  | "duplicate"
  | "retyped"
  | "override";

export interface Row {
  student: string;
  notebook: string;
  /** grade_id, or "" for a row about the whole notebook. */
  cell: string;
  /** null for rows that carry no points (notes, manual grading pending). */
  points: number | null;
  max_points: number | null;
  status: RowStatus;
  message: string;
  /** Who decided: the grader recomputed the answer outside the kernel, or the cell merely ran without error in it. */
  verified: "grader" | "kernel" | "";
}

export interface Override {
  student: string;
  notebook: string;
  cell: string;
  points: number;
  comment: string;
  at: string;
}

export interface StudentInfo {
  /** From timestamp.txt (nbgrader's layout) or the newest file's mtime; "" if unknown. */
  timestamp: string;
  seconds: number;
}

export interface Gradebook {
  createdAt: string;
  notebooks: Array<{ name: string; max_points: number }>;
  rows: Row[];
  overrides: Override[];
  students: Record<string, StudentInfo>;
}

export const GRADEBOOK_JSON = "gradebook.json";
export const GRADEBOOK_CSV = "gradebook.csv";

export function loadGradebook(outDir: string): Gradebook | undefined {
  const f = path.join(outDir, GRADEBOOK_JSON);
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, "utf8")) as Gradebook) : undefined;
}

/** Rows with overrides applied: the points instructors and students see. */
export function effectiveRows(gb: Gradebook): Row[] {
  return gb.rows.map((r) => {
    const o = gb.overrides
      .filter((x) => x.student === r.student && x.notebook === r.notebook && x.cell === r.cell && r.cell !== "")
      .at(-1);
    return o
      ? {
          ...r,
          points: o.points,
          status: "override",
          message: `${o.comment} (autograder: ${r.points ?? "-"} pt, ${r.status}: ${r.message})`,
        }
      : r;
  });
}

const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function toCsv(rows: Row[]): string {
  const cols: Array<keyof Row> = [
    "student",
    "notebook",
    "cell",
    "points",
    "max_points",
    "status",
    "message",
    "verified",
  ];
  return [cols.join(","), ...rows.map((r) => cols.map((c) => csvField(r[c])).join(","))].join("\n") + "\n";
}

/** Writes gradebook.json and gradebook.csv (mode 0600: only the grader's user reads them). */
export function saveGradebook(outDir: string, gb: Gradebook): void {
  fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(outDir, GRADEBOOK_JSON), JSON.stringify(gb, null, 1) + "\n", { mode: 0o600 });
  fs.writeFileSync(path.join(outDir, GRADEBOOK_CSV), toCsv(effectiveRows(gb)), { mode: 0o600 });
}

export function totals(rows: Row[]): Map<string, { points: number; max: number }> {
  const t = new Map<string, { points: number; max: number }>();
  for (const r of rows) {
    const e = t.get(r.student) ?? { points: 0, max: 0 };
    e.points += r.points ?? 0;
    e.max += r.max_points ?? 0;
    t.set(r.student, e);
  }
  return t;
}

/** The summary table the CLI prints: one line per student, then the class. */
export function summaryTable(gb: Gradebook): string {
  const rows = effectiveRows(gb);
  const t = totals(rows);
  const students = [...t.keys()].sort();
  const w = Math.max(7, ...students.map((s) => s.length));
  const count = (s: string, st: RowStatus) => rows.filter((r) => r.student === s && r.status === st).length;
  const lines = [`${"student".padEnd(w)}  ${"points".padStart(11)}  passed failed n/a  timeout died  notes  time`];
  for (const s of students) {
    const { points, max } = t.get(s)!;
    const notes = rows.filter((r) => r.student === s && r.points === null && r.status !== "manual").length;
    lines.push(
      `${s.padEnd(w)}  ${`${fmt(points)}/${fmt(max)}`.padStart(11)}  ${String(count(s, "passed")).padStart(6)} ${String(count(s, "failed")).padStart(6)} ${String(count(s, "not attempted")).padStart(4)} ${String(count(s, "timeout")).padStart(8)} ${String(count(s, "kernel died")).padStart(4)} ${String(notes).padStart(6)}  ${(gb.students[s]?.seconds ?? 0).toFixed(1)} s`,
    );
  }
  return lines.join("\n");
}

export const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0$/, ""));
