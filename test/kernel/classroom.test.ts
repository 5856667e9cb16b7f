// release → autograde → feedback on a fixture class, end to end on real jupyter-servers with tslab: points and
// messages per fixture student, the hostile ones contained, submissions untouched, override and regrade.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readNotebook, sourceOf, writeNotebook, type Notebook } from "../../kernel/notebook";
import { loadToolchain } from "../../kernel/paths";
import { autograde } from "../../kernel/classroom/autograde";
import { collect, returnFeedback } from "../../kernel/classroom/collect";
import { gradeId, nbMeta } from "../../kernel/classroom/format";
import { effectiveRows, loadGradebook, type Gradebook, type Row } from "../../kernel/classroom/gradebook";
import { releaseNotebook } from "../../kernel/classroom/release";
import { USER_PREFIX, lookupUser, processesOf } from "../../kernel/classroom/sandbox";
import { FIXTURES, ROOT, scratch } from "./helpers";

const SOURCE = path.join(FIXTURES, "classroom", "source", "squares.ipynb");
const base = scratch("classroom");
const SUBS = path.join(base, "submissions");
const OUT = path.join(base, "graded");
const NB = "squares.ipynb";

const source = readNotebook(SOURCE);
const release = releaseNotebook(source);
const solutions = new Map(
  source.cells
    .filter((c) => nbMeta(c)?.solution)
    .map((c) => [gradeId(c)!, sourceOf(c).replace(/^\s*\/\/ (BEGIN|END) SOLUTION\n?/gm, "")]),
);

/** The release with some answer cells replaced (the rest left as released). */
function answered(answers: Record<string, string>): Notebook {
  const nb = structuredClone(release);
  for (const c of nb.cells) {
    const id = gradeId(c);
    if (id && id in answers) c.source = answers[id];
  }
  return nb;
}
const right = () => answered(Object.fromEntries(solutions));
const decl = (id: string) => sourceOf(release.cells.find((c) => gradeId(c) === id)!).split("\n")[0] + "\n";

function put(student: string, nb: Notebook | string | null): void {
  const dir = path.join(SUBS, student);
  fs.mkdirSync(dir, { recursive: true });
  if (nb === null) return;
  if (typeof nb === "string") fs.writeFileSync(path.join(dir, NB), nb);
  else writeNotebook(path.join(dir, NB), nb);
}

const HOSTILE = () =>
  decl("squares") +
  `import * as fs from "fs";
import * as cp from "child_process";
const probe = (what: string, f: () => unknown) => { try { f(); console.log("HOSTILE " + what + ": ALLOWED"); } catch (e) { console.log("HOSTILE " + what + ": " + (e as any).code); } };
probe("read source", () => fs.readFileSync(${JSON.stringify(SOURCE)}));
probe("read other submission", () => fs.readFileSync(${JSON.stringify(path.join(SUBS, "right", NB))}));
probe("write other submission", () => fs.writeFileSync(${JSON.stringify(path.join(SUBS, "right", NB))}, "{}"));
probe("list gradebook", () => fs.readdirSync(${JSON.stringify(OUT)}));
probe("write project", () => fs.writeFileSync(${JSON.stringify(path.join(ROOT, "hostile-was-here"))}, "x"));
probe("list grader scratch", () => fs.readdirSync(${JSON.stringify("")} + require("path").dirname(require("path").dirname(process.cwd()))));
cp.spawn("sleep", ["600"], { detached: true, stdio: "ignore" }).unref();
(fl.fixes.lazyMmuBatch.exercises as any).checkFlushCount = () => ({ exercise: "exercise 1 (flush counts)", status: "correct", message: "right (patched by the student)" });
(assert as any).deepStrictEqual = () => undefined;
squares = (n: number) => [n];
`;

let gb: Gradebook;
let rows: Row[];
const row = (student: string, cell: string) => rows.find((r) => r.student === student && r.cell === cell)!;
const points = (student: string) => rows.filter((r) => r.student === student).reduce((s, r) => s + (r.points ?? 0), 0);
const before = new Map<string, string>();

beforeAll(async () => {
  put("right", right());
  put(
    "wrong",
    answered({
      squares: decl("squares") + "squares = (n: number) => Array.from({ length: n }, (_, i) => i * i);",
      sum_of_squares: decl("sum_of_squares") + "sumOfSquares = (n: number) => n;",
      flush_counts_answer: decl("flush_counts_answer") + "answer1 = { batchFlushes: 1, tlbie: 0, tlbiel: 600 };",
    }),
  );
  put("partial", answered({ squares: solutions.get("squares")! }));
  put(
    "broken",
    answered({
      squares: decl("squares") + "squares = (n: number): number[] => { return n.map(1); };",
      flush_counts_answer: solutions.get("flush_counts_answer")!,
    }),
  );
  put("unmodified", release);
  put("empty", null);
  put("malformed", '{"cells": [ {"cell_type": "code", ');
  // Edits the locked imports cell and a test cell to pass anything, then moves cells around and deletes a test.
  const cheat = right();
  for (const c of cheat.cells)
    if (gradeId(c) === "correct_squares" || gradeId(c) === "imports")
      c.source = sourceOf(c).replace(/assert\.deepStrictEqual/g, "console.log") + "\n// edited";
  const moved = cheat.cells.filter((c) => gradeId(c) !== "squares_invalid_input");
  moved.reverse();
  put("cheat", { ...cheat, cells: moved });
  put(
    "loop",
    answered({
      squares: decl("squares") + "while (true) {}",
      flush_counts_answer: solutions.get("flush_counts_answer")!,
    }),
  );
  put(
    "deaf",
    answered({
      ...Object.fromEntries(solutions),
      sum_of_squares: decl("sum_of_squares") + 'process.on("SIGINT", () => undefined);\nwhile (true) {}',
    }),
  );
  put(
    "exits",
    answered({ ...Object.fromEntries(solutions), squares: solutions.get("squares")! + "\nprocess.exit(3);" }),
  );
  put(
    "hostile",
    answered({
      squares: HOSTILE(),
      flush_counts_answer: decl("flush_counts_answer") + "answer1 = { batchFlushes: 1, tlbie: 1, tlbiel: 1 };",
    }),
  );
  for (const s of fs.readdirSync(SUBS))
    for (const f of fs.readdirSync(path.join(SUBS, s)))
      before.set(`${s}/${f}`, fs.readFileSync(path.join(SUBS, s, f), "utf8"));
  gb = await autograde({
    root: ROOT,
    toolchain: loadToolchain(ROOT),
    sources: [SOURCE],
    submissionsDir: SUBS,
    outDir: OUT,
    cellTimeoutMs: 8000,
  });
  rows = effectiveRows(gb);
}, 600_000);

describe("autograde a fixture class", () => {
  it("gives the right submission every automatic point, checked by the grader where the cell submits a value", () => {
    expect(points("right")).toBe(4.5);
    expect(row("right", "flush_counts")).toMatchObject({ points: 2, status: "passed", verified: "grader" });
    expect(row("right", "flush_counts").message).toMatch(/right: 5 batch flushes/);
    expect(row("right", "correct_squares")).toMatchObject({ points: 1, verified: "grader" });
    expect(row("right", "sum_of_squares_equation")).toMatchObject({ points: null, status: "manual" });
  });

  it("fails wrong answers with the checker's or runner's message", () => {
    expect(points("wrong")).toBe(0);
    expect(row("wrong", "correct_squares").message).toMatch(/Expected values to be strictly deep-equal|AssertionError/);
    expect(row("wrong", "flush_counts")).toMatchObject({ status: "failed" });
    expect(row("wrong", "flush_counts").message).toMatch(/not quite — batch flushes/);
  });

  it("grades a partial submission cell by cell and a broken one with tslab's error", () => {
    expect(row("partial", "correct_squares").points).toBe(1);
    expect(row("partial", "squares_invalid_input").points).toBe(1);
    expect(row("partial", "correct_sum_of_squares")).toMatchObject({ points: 0, status: "not attempted" });
    expect(row("broken", "correct_squares")).toMatchObject({ points: 0, status: "failed" });
    // The answer cell's own type error is reported; the tests after it fail because squares was never declared.
    expect(row("broken", "squares")).toMatchObject({ points: null, status: "failed" });
    expect(row("broken", "squares").message).toMatch(/Property 'map' does not exist on type 'number'/);
    expect(row("broken", "flush_counts").points).toBe(2);
  });

  it("gives the unmodified release 0 points, not attempted; an empty folder and malformed JSON get a row each", () => {
    expect(points("unmodified")).toBe(0);
    for (const c of ["correct_squares", "squares_invalid_input", "correct_sum_of_squares", "flush_counts"])
      expect(row("unmodified", c).status).toBe("not attempted");
    expect(row("empty", "")).toMatchObject({ status: "empty submission" });
    expect(row("malformed", "")).toMatchObject({ status: "malformed" });
    expect(row("malformed", "")?.message).toMatch(/could not be read/);
    expect(points("empty") + points("malformed")).toBe(0);
  });

  it("restores edited and deleted locked cells from the source and undoes reordering", () => {
    const notes = rows.filter((r) => r.student === "cheat" && r.points === null && r.status !== "manual");
    expect(notes.map((r) => `${r.cell}:${r.status}`).sort()).toEqual([
      ":reordered",
      "correct_squares:restored",
      "imports:restored",
      "squares_invalid_input:missing",
    ]);
    // The originals ran, with the hidden tests: the right answers still score everything.
    expect(points("cheat")).toBe(4.5);
  });

  it("survives an endless loop, a loop that ignores the interrupt, and process.exit", () => {
    expect(row("loop", "correct_squares")).toMatchObject({ points: 0 });
    expect(row("loop", "flush_counts").points).toBe(2);
    // The unstoppable loop's kernel is killed; the notebook re-runs with that cell skipped, so later cells count.
    expect(row("deaf", "sum_of_squares")).toMatchObject({ points: null, status: "timeout" });
    expect(row("deaf", "sum_of_squares").message).toMatch(
      /ignores SIGINT\): the kernel (was killed|died); the notebook was re-run/,
    );
    expect(row("deaf", "correct_sum_of_squares").points).toBe(0);
    expect(row("deaf", "flush_counts").points).toBe(2);
    expect(row("deaf", "correct_squares").points).toBe(1);
    expect(row("exits", "squares")).toMatchObject({ points: null, status: "kernel died" });
    expect(row("exits", "squares").message).toMatch(/re-run on a fresh kernel without this cell/);
    expect(row("exits", "correct_squares")).toMatchObject({ points: 0, status: "failed" });
    expect(row("loop", "squares")).toMatchObject({ status: "timeout" });
    expect(row("exits", "flush_counts").points).toBe(2);
  });

  it("contains the hostile submission: no file reached, patched checkers overruled, no process left", () => {
    const fb = fs.readFileSync(path.join(OUT, "feedback", "hostile", "squares.html"), "utf8");
    for (const what of [
      "read source",
      "read other submission",
      "write other submission",
      "list gradebook",
      "write project",
      "list grader scratch",
    ]) {
      expect(fb).toMatch(new RegExp(`HOSTILE ${what}: E(ACCES|PERM)`));
    }
    expect(fb).not.toMatch(/HOSTILE [\w ]+: ALLOWED/);
    expect(fs.existsSync(path.join(ROOT, "hostile-was-here"))).toBe(false);
    // The patched checker said "correct" inside the kernel; the grader re-ran the real one on the submitted answer.
    expect(fb).toMatch(/right \(patched by the student\)/);
    expect(row("hostile", "flush_counts")).toMatchObject({ points: 0, status: "failed", verified: "grader" });
    expect(row("hostile", "correct_squares").points).toBe(0);
    for (let i = 0; i < 2; i++) {
      const u = lookupUser(USER_PREFIX + i);
      if (u) expect(processesOf(u.uid)).toEqual([]);
    }
  });

  it("never modifies a submission; writes the gradebook (CSV, JSON) and feedback privately", () => {
    for (const [k, v] of before) expect(fs.readFileSync(path.join(SUBS, k), "utf8"), k).toBe(v);
    const csv = fs.readFileSync(path.join(OUT, "gradebook.csv"), "utf8");
    expect(csv.split("\n")[0]).toBe("student,notebook,cell,points,max_points,status,message,verified");
    expect(csv).toMatch(/^right,squares\.ipynb,flush_counts,2,2,passed,/m);
    expect(fs.statSync(OUT).mode & 0o077).toBe(0);
    expect(fs.statSync(path.join(OUT, "gradebook.json")).mode & 0o077).toBe(0);
    const fb = fs.readFileSync(path.join(OUT, "feedback", "right", "squares.html"), "utf8");
    expect(fb).toMatch(/4\.5 \/ 5\.5/);
    expect(fb).not.toMatch(/HIDDEN TESTS|submit:/);
  });

  it("keeps a manual override with its comment through a regrade of one student's cell", async () => {
    execFileSync(process.execPath, [
      path.join(ROOT, "bin", "flushlab.js"),
      "classroom",
      "override",
      OUT,
      "wrong",
      NB,
      "correct_squares",
      "0.5",
      "--comment",
      "off by one, method right",
    ]);
    put("wrong", answered({ squares: solutions.get("squares")! }));
    const again = await autograde({
      root: ROOT,
      toolchain: loadToolchain(ROOT),
      sources: [SOURCE],
      submissionsDir: SUBS,
      outDir: OUT,
      students: ["wrong"],
      cells: ["squares_invalid_input"],
      cellTimeoutMs: 4000,
    });
    const r = effectiveRows(again);
    const get = (s: string, c: string) => r.find((x) => x.student === s && x.cell === c)!;
    expect(get("wrong", "correct_squares")).toMatchObject({ points: 0.5, status: "override" });
    expect(get("wrong", "correct_squares").message).toMatch(/off by one, method right \(autograder: 0 pt, failed/);
    expect(get("wrong", "squares_invalid_input").points).toBe(1); // regraded
    expect(get("wrong", "correct_sum_of_squares").points).toBe(0); // not in --cell: kept
    expect(get("right", "flush_counts").points).toBe(2); // other students kept
    expect(loadGradebook(OUT)!.overrides).toHaveLength(1);
  }, 300_000);

  it("collects with timestamps and returns feedback beside each student's copy", () => {
    const homes = path.join(base, "homes");
    for (const s of ["right", "wrong"]) {
      fs.mkdirSync(path.join(homes, s, "workbook"), { recursive: true });
      fs.copyFileSync(path.join(SUBS, s, NB), path.join(homes, s, "workbook", NB));
    }
    fs.writeFileSync(
      path.join(homes, "wrong", "workbook", "timestamp.txt"),
      "2015-02-01 09:28:58.749302 America/Los_Angeles\n",
    );
    const got = collect({
      from: path.join(homes, "{student}", "workbook"),
      students: ["right", "wrong"],
      notebooks: [NB],
      dest: path.join(base, "collected"),
      due: new Date("2020-01-01T00:00:00Z"),
    });
    expect(got.map((g) => [g.student, g.files, g.late])).toEqual([
      ["right", [NB], true],
      ["wrong", [NB], false],
    ]);
    expect(fs.readFileSync(path.join(base, "collected", "wrong", "timestamp.txt"), "utf8")).toMatch(
      /^2015-02-01 09:28:58/,
    );
    const written = returnFeedback(OUT, path.join(homes, "{student}", "workbook"), ["right", "wrong"]);
    expect(written).toHaveLength(2);
    expect(fs.readFileSync(path.join(homes, "wrong", "workbook", "feedback", "squares.html"), "utf8")).toMatch(
      /off by one, method right/,
    );
  });
});
