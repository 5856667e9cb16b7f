// The notebook the grader runs for one submission: the student's answers (solution cells, their own extra cells)
// put back into the source's structure, with every locked and grade cell — hidden tests included — from the
// source. What the student changed that they should not have is reported, never trusted.
import { sourceOf, type Cell, type Notebook } from "../notebook";
import { computeChecksum, gradeId, isGrade, isSolution, isTracked, nbMeta } from "./format";

export interface Note {
  cell: string;
  status: "restored" | "missing" | "reordered" | "duplicate" | "retyped";
  message: string;
}

export interface GradedCell {
  cell: Cell;
  /** The grade_id of a source cell, or undefined for the student's own (unmarked) cells. */
  id?: string;
  /** What a student may see of this cell in feedback: the release's text (no hidden tests) or their own. */
  shown: string;
}

export interface Assembled {
  notebook: Notebook;
  cells: GradedCell[];
  notes: Note[];
  /** Per solution cell id: false when the student's cell is the release's stub, unchanged (or missing). */
  attempted: Map<string, boolean>;
}

const withSource = (cell: Cell, text: string): Cell => ({ ...structuredClone(cell), source: text });

/** The checksum the student's cell would have if it carried the release's metadata: edits of metadata don't hide edits of source. */
function checksumAs(student: Cell, release: Cell): string {
  return computeChecksum({ ...release, cell_type: student.cell_type, source: sourceOf(student) });
}

export function assemble(source: Notebook, release: Notebook, submission: Notebook): Assembled {
  const notes: Note[] = [];
  const tracked = source.cells.filter(isTracked);
  const ids = new Set(tracked.map((c) => gradeId(c)!));
  const rel = new Map(release.cells.filter(isTracked).map((c) => [gradeId(c)!, c]));

  // The submission: its first cell for each source id, and the unmarked cells that follow each of them.
  const matched = new Map<string, Cell>();
  const after = new Map<string, Cell[]>([["", []]]);
  const order: string[] = [];
  let anchor = "";
  for (const c of submission.cells) {
    const id = nbMeta(c) ? gradeId(c) : undefined;
    if (id && ids.has(id)) {
      if (matched.has(id)) {
        notes.push({
          cell: id,
          status: "duplicate",
          message: `a second cell with grade_id ${id}: ignored, the first one is graded`,
        });
        continue;
      }
      matched.set(id, c);
      order.push(id);
      anchor = id;
      after.set(id, []);
      continue;
    }
    // The student's own cells (and source cells nbgrader does not track) stay, after the cell they followed.
    after
      .get(anchor)!
      .push({ ...structuredClone(c), metadata: { ...structuredClone(c.metadata), nbgrader: undefined } });
  }
  const expected = tracked.map((c) => gradeId(c)!).filter((id) => matched.has(id));
  if (expected.join("\n") !== order.join("\n")) {
    notes.push({
      cell: "",
      status: "reordered",
      message:
        "cells were moved: graded in the source's order (each of your own cells stays after the cell it followed)",
    });
  }

  const cells: GradedCell[] = [];
  const attempted = new Map<string, boolean>();
  const pushOwn = (list: Cell[]) => {
    for (const c of list) cells.push({ cell: stripNb(c), shown: sourceOf(c) });
  };
  pushOwn(after.get("")!);
  for (const src of tracked) {
    const id = gradeId(src)!;
    const r = rel.get(id)!;
    const got = matched.get(id);
    if (got && got.cell_type !== src.cell_type) {
      notes.push({
        cell: id,
        status: "retyped",
        message: `the cell type was changed to ${got.cell_type}: graded as ${src.cell_type}`,
      });
    }
    if (isSolution(src)) {
      // The student's answer, under the source's metadata (they cannot change points or flags).
      if (!got)
        notes.push({
          cell: id,
          status: "missing",
          message: "this answer cell was deleted: the release's stub was graded",
        });
      const text = got ? sourceOf(got) : sourceOf(r);
      attempted.set(id, got !== undefined && checksumAs(got, r) !== nbMeta(r)!.checksum);
      cells.push({ cell: withSource(src, text), id, shown: text });
    } else {
      if (!got)
        notes.push({ cell: id, status: "missing", message: "this locked cell was deleted: restored from the source" });
      else if (checksumAs(got, r) !== nbMeta(r)!.checksum) {
        notes.push({
          cell: id,
          status: "restored",
          message: "this locked cell was edited (its checksum differs from the release's): the original was graded",
        });
      }
      cells.push({ cell: structuredClone(src), id, shown: sourceOf(r) });
    }
    pushOwn(after.get(id) ?? []);
  }
  const notebook: Notebook = { ...structuredClone(source), cells: cells.map((c) => c.cell) };
  return { notebook, cells, notes, attempted };
}

function stripNb(c: Cell): Cell {
  const copy = structuredClone(c);
  delete copy.metadata.nbgrader;
  return copy;
}

/** The solution cells a grade cell grades: those since the previous grade cell that follows a solution (nbgrader's layout). */
export function answerCellsOf(source: Notebook): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let pending: string[] = [];
  let last: string[] = [];
  for (const c of source.cells) {
    if (isSolution(c) && !isGrade(c)) {
      pending.push(gradeId(c)!);
    } else if (isGrade(c)) {
      if (pending.length) {
        last = pending;
        pending = [];
      }
      out.set(gradeId(c)!, isSolution(c) ? [gradeId(c)!] : last);
    }
  }
  return out;
}
