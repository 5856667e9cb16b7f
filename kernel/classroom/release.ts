// `classroom release`: the student version of an instructor's notebook, as nbgrader's generate_assignment makes
// it — solutions replaced by the stub, hidden tests removed, outputs cleared, cells locked, checksums recorded.
import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "../paths";
import { cleared, readNotebook, sourceOf, toLines, writeNotebook, type Cell, type Notebook } from "../notebook";
import {
  CODE_STUB,
  TEXT_STUB,
  clearSolutionRegions,
  computeChecksum,
  gradeId,
  isGrade,
  isLocked,
  isSolution,
  isTracked,
  nbMeta,
  removeHiddenTests,
  validateNotebook,
} from "./format";

function setSource(cell: Cell, text: string): void {
  cell.source = toLines(text);
}

/** The student version of one source notebook (pure: the source object is not touched). */
export function releaseNotebook(source: Notebook, where = "notebook"): Notebook {
  validateNotebook(source, where);
  const nb = cleared(source);
  nb.cells.forEach((cell, i) => {
    const at = `${where}, cell ${i + 1}${gradeId(cell) ? ` (${gradeId(cell)})` : ""}`;
    const text = sourceOf(cell);
    // ClearSolutions: regions anywhere must sit in solution cells; a solution cell without regions is all stub.
    const sol = clearSolutionRegions(text, cell.cell_type === "code" ? CODE_STUB : TEXT_STUB);
    if (sol.replaced && !isSolution(cell))
      throw new Error(`${at}: a BEGIN SOLUTION region in a cell that is not a solution cell`);
    let out = sol.replaced ? sol.source : isSolution(cell) ? (cell.cell_type === "code" ? CODE_STUB : TEXT_STUB) : text;
    // ClearHiddenTests: only grade cells may hold hidden tests.
    const hid = removeHiddenTests(out);
    if (hid.removed && !isGrade(cell))
      throw new Error(`${at}: a BEGIN HIDDEN TESTS region in a cell that is not a grade cell`);
    out = hid.source;
    if (out !== text) setSource(cell, out);
    lockCell(cell);
    // ComputeChecksums, after hidden tests are gone (nbgrader runs it again after ClearHiddenTests).
    if (isTracked(cell)) Object.assign(nbMeta(cell)!, { checksum: computeChecksum(cell), cell_type: cell.cell_type });
    // Our grader-only verification data (expected values) never reaches students.
    if (cell.metadata.flushlab) delete cell.metadata.flushlab;
  });
  validateNotebook(nb, `${where} (release)`);
  return nb;
}

/** LockCells with nbgrader's defaults: grade cells and read-only cells locked, solution cells undeletable. */
function lockCell(cell: Cell): void {
  if (isSolution(cell)) cell.metadata.deletable = false;
  else if (isGrade(cell) || isLocked(cell)) {
    cell.metadata.deletable = false;
    cell.metadata.editable = false;
  }
}

export interface Released {
  source: string;
  out: string;
  gradeCells: number;
  points: number;
}

/** Releases each notebook into outDir (same file name); refuses to write over its own input. */
export function releaseFiles(files: string[], outDir: string): Released[] {
  fs.mkdirSync(outDir, { recursive: true });
  return files.map((file) => {
    const out = path.join(outDir, path.basename(file));
    if (path.resolve(out) === path.resolve(file))
      throw new Error(`release would overwrite its source ${file}: choose another --out`);
    const nb = releaseNotebook(readNotebook(file), path.basename(file));
    writeNotebook(out, nb);
    const grades = nb.cells.filter(isGrade);
    return {
      source: file,
      out,
      gradeCells: grades.length,
      points: grades.reduce((s, c) => s + Number(nbMeta(c)!.points), 0),
    };
  });
}

/**
 * The workbook's student version: notebooks/ (the instructor's source, solutions and hidden tests in it) released
 * into release/ (git-ignored). Everything a student sees — workbook/, out/, the hub's copies — is built from it.
 * A release file whose source is gone is removed; files of other names are left alone.
 */
export function releaseWorkbook(root: string, sourceDir = path.join(root, "notebooks")): string {
  const outDir = path.join(root, "release");
  const names = fs
    .readdirSync(sourceDir)
    .filter((f) => f.endsWith(".ipynb"))
    .sort();
  releaseFiles(
    names.map((n) => path.join(sourceDir, n)),
    outDir,
  );
  const stamp = path.join(outDir, ".released.json");
  const before = fs.existsSync(stamp) ? (JSON.parse(fs.readFileSync(stamp, "utf8")) as string[]) : [];
  for (const gone of before.filter((n) => !names.includes(n))) fs.rmSync(path.join(outDir, gone), { force: true });
  fs.writeFileSync(stamp, JSON.stringify(names) + "\n");
  return outDir;
}

// `node dist/kernel/classroom/release.js`: builds release/ from notebooks/ (the hub's config runs it at start).
if (require.main === module) console.log(`release: ${releaseWorkbook(projectRoot())}`);
