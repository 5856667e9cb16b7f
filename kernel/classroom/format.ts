// nbgrader's cell metadata (schema v3, nbgrader/nbgraderformat/v3.json) and its cell predicates, checksum and
// delimiters, in TypeScript comment form: the contract that lets a course with nbgrader use these notebooks.
import { createHash } from "crypto";
import { sourceOf, type Cell, type Notebook } from "../notebook";

export const SCHEMA_VERSION = 3;

/** `metadata.nbgrader` as nbgrader/nbgraderformat/v3.json defines it (additionalProperties: false). */
export interface NbgraderMeta {
  schema_version: number;
  grade: boolean;
  locked: boolean;
  solution: boolean;
  task?: boolean;
  grade_id?: string;
  points?: number;
  checksum?: string;
  cell_type?: "code" | "markdown" | "raw";
}

const KEYS = new Set([
  "schema_version",
  "grade",
  "locked",
  "solution",
  "task",
  "grade_id",
  "points",
  "checksum",
  "cell_type",
]);

/** How the grader checks a grade cell's submitted value outside the student's kernel (our key, beside nbgrader's). */
export interface Verify {
  /** A checker of the library, as a path under `flushlab` (e.g. fixes.lazyMmuBatch.exercises.checkFlushCount). */
  checker?: string;
  /** The value the cell must submit (JSON); the release drops it. */
  equals?: unknown;
}

export const DELIMITERS = {
  beginSolution: "BEGIN SOLUTION",
  endSolution: "END SOLUTION",
  beginHidden: "BEGIN HIDDEN TESTS",
  endHidden: "END HIDDEN TESTS",
} as const;

/**
 * The code stub for TypeScript (nbgrader's ClearSolutions.code_stub["typescript"]): it prints and throws
 * nothing, so a released notebook runs headless with no failed cell. The text stub is nbgrader's own.
 */
export const CODE_STUB = `// YOUR CODE HERE\nconsole.log("not attempted");`;
export const TEXT_STUB = "YOUR ANSWER HERE";

/** The record key a hidden test submits a value under: `record({ "submit:<grade_id>": value })`. */
export const SUBMIT_PREFIX = "submit:";

export function nbMeta(cell: Cell): NbgraderMeta | undefined {
  const m = cell.metadata?.nbgrader;
  return m && typeof m === "object" ? (m as NbgraderMeta) : undefined;
}

// nbgrader/utils.py: is_grade, is_solution, is_locked (a solution cell is never locked, a grade cell always), is_task.
export const isGrade = (c: Cell): boolean => nbMeta(c)?.grade === true;
export const isSolution = (c: Cell): boolean => nbMeta(c)?.solution === true;
export const isTask = (c: Cell): boolean => nbMeta(c)?.task === true;
export function isLocked(c: Cell): boolean {
  const m = nbMeta(c);
  if (!m || isSolution(c)) return false;
  return isGrade(c) || m.locked === true;
}
/** Cells nbgrader tracks by grade_id: grade, solution, locked (and task cells, which are locked). */
export const isTracked = (c: Cell): boolean => isGrade(c) || isSolution(c) || isLocked(c);
export const gradeId = (c: Cell): string | undefined => nbMeta(c)?.grade_id;

export function verifyOf(c: Cell): Verify | undefined {
  const f = c.metadata?.flushlab as { verify?: Verify } | undefined;
  return f?.verify;
}

/** Python's str(float(x)) (repr): shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
export function pyFloatStr(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e16 || a < 1e-4)) return x.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

/**
 * nbgrader.utils.compute_checksum: md5 over source, cell_type, str(is_grade), str(is_solution), str(is_locked),
 * grade_id and, for grade cells, str(float(points)) — each utf-8 encoded, in that order.
 */
export function computeChecksum(cell: Cell): string {
  const m = createHash("md5");
  const py = (b: boolean) => (b ? "True" : "False");
  m.update(Buffer.from(sourceOf(cell), "utf8"));
  m.update(Buffer.from(cell.cell_type, "utf8"));
  m.update(py(isGrade(cell)));
  m.update(py(isSolution(cell)));
  m.update(py(isLocked(cell)));
  m.update(Buffer.from(nbMeta(cell)?.grade_id ?? "", "utf8"));
  if (isGrade(cell)) m.update(pyFloatStr(Number(nbMeta(cell)!.points)));
  return m.digest("hex");
}

/** nbgrader's CheckCellMetadata (v3 schema and validate_cell/validate_nb): throws with the cell it rejects. */
export function validateNotebook(nb: Notebook, where = "notebook"): void {
  const ids = new Set<string>();
  nb.cells.forEach((cell, i) => {
    const m = nbMeta(cell);
    if (!m) return;
    const at = `${where}, cell ${i + 1}${m.grade_id ? ` (${m.grade_id})` : ""}`;
    for (const k of Object.keys(m))
      if (!KEYS.has(k)) throw new Error(`${at}: nbgrader metadata has an unknown key "${k}"`);
    if (m.schema_version !== SCHEMA_VERSION)
      throw new Error(`${at}: schema_version must be ${SCHEMA_VERSION}, got ${m.schema_version}`);
    for (const k of ["grade", "locked", "solution"] as const)
      if (typeof m[k] !== "boolean") throw new Error(`${at}: "${k}" must be a boolean`);
    if (m.task !== undefined && typeof m.task !== "boolean") throw new Error(`${at}: "task" must be a boolean`);
    if (m.grade || m.solution || m.locked) {
      if (!m.grade_id) throw new Error(`${at}: a grade, solution or locked cell needs a grade_id`);
      if (!/^[a-zA-Z0-9_-]*$/.test(m.grade_id))
        throw new Error(`${at}: grade_id "${m.grade_id}" must match ^[a-zA-Z0-9_\\-]*$`);
      if (ids.has(m.grade_id)) throw new Error(`${at}: duplicate grade_id "${m.grade_id}"`);
      ids.add(m.grade_id);
    }
    if (m.grade && (typeof m.points !== "number" || !(m.points >= 0)))
      throw new Error(`${at}: a grade cell needs points >= 0`);
    if (m.task) {
      if (cell.cell_type !== "markdown") throw new Error(`${at}: task cells have to be markdown`);
    } else if (cell.cell_type === "markdown" && m.grade !== m.solution) {
      throw new Error(`${at}: a markdown cell must be both grade and solution, or neither`);
    }
    if (m.checksum !== undefined && !/^[0-9a-f]{32}$/.test(m.checksum))
      throw new Error(`${at}: checksum must be 32 hex digits`);
  });
}

/** Replaces each BEGIN/END SOLUTION region by the stub, indented like the BEGIN line (ClearSolutions). */
export function clearSolutionRegions(source: string, stub: string): { source: string; replaced: boolean } {
  const out: string[] = [];
  let inside = false;
  let replaced = false;
  for (const line of source.split("\n")) {
    if (line.includes(DELIMITERS.beginSolution)) {
      if (inside) throw new Error("nested BEGIN SOLUTION");
      inside = true;
      replaced = true;
      const indent = /^\s*/.exec(line)![0];
      for (const s of stub.split("\n")) out.push(indent + s);
    } else if (line.includes(DELIMITERS.endSolution)) {
      inside = false;
    } else if (!inside) out.push(line);
  }
  if (inside) throw new Error("BEGIN SOLUTION without END SOLUTION");
  return { source: out.join("\n"), replaced };
}

/** Drops each BEGIN/END HIDDEN TESTS region with its delimiter lines (ClearHiddenTests). */
export function removeHiddenTests(source: string): { source: string; removed: boolean } {
  const out: string[] = [];
  let inside = false;
  let removed = false;
  for (const line of source.split("\n")) {
    if (line.includes(DELIMITERS.beginHidden)) {
      if (inside) throw new Error("nested BEGIN HIDDEN TESTS");
      inside = removed = true;
    } else if (line.includes(DELIMITERS.endHidden)) {
      inside = false;
    } else if (!inside) out.push(line);
  }
  if (inside) throw new Error("BEGIN HIDDEN TESTS without END HIDDEN TESTS");
  return { source: out.join("\n"), removed };
}
