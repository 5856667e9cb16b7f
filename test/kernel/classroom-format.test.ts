// nbgrader's format: our checksum against the ones nbgrader computed for its documented example, our release
// against nbgrader's release of the same source, and the release of the TypeScript fixture.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readNotebook, sourceOf } from "../../kernel/notebook";
import {
  CODE_STUB,
  computeChecksum,
  gradeId,
  isGrade,
  isLocked,
  isSolution,
  nbMeta,
  pyFloatStr,
  validateNotebook,
} from "../../kernel/classroom/format";
import { releaseNotebook } from "../../kernel/classroom/release";
import { FIXTURES } from "./helpers";

const NBG = path.join(FIXTURES, "classroom", "nbgrader");
const SOURCE = path.join(FIXTURES, "classroom", "source", "squares.ipynb");

describe("nbgrader checksum", () => {
  it("matches every checksum nbgrader recorded in its documented release of ps1/problem1", () => {
    const nb = readNotebook(path.join(NBG, "release-problem1.ipynb"));
    const tracked = nb.cells.filter((c) => nbMeta(c)?.checksum);
    expect(tracked.length).toBe(10);
    for (const c of tracked) expect(computeChecksum(c), gradeId(c)).toBe(nbMeta(c)!.checksum);
  });

  it("depends on source, type, points and id (a one-character edit changes it)", () => {
    const nb = readNotebook(path.join(NBG, "release-problem1.ipynb"));
    const c = structuredClone(nb.cells.find((x) => gradeId(x) === "correct_squares")!);
    const before = computeChecksum(c);
    c.source = sourceOf(c) + " ";
    expect(computeChecksum(c)).not.toBe(before);
    const d = structuredClone(nb.cells.find((x) => gradeId(x) === "correct_squares")!);
    nbMeta(d)!.points = 2;
    expect(computeChecksum(d)).not.toBe(before);
  });

  it("formats points as Python's str(float(x))", () => {
    expect([1, 0.5, 0, 2.25, 1e16, 1.5e-5, 123456.75].map(pyFloatStr)).toEqual([
      "1.0",
      "0.5",
      "0.0",
      "2.25",
      "1e+16",
      "1.5e-05",
      "123456.75",
    ]);
  });
});

describe("release", () => {
  it("gives nbgrader's checksum for every locked and grade cell of its own example source", () => {
    // The stub differs (TypeScript's, not Python's), so solution cells differ; everything else must match.
    const ours = releaseNotebook(readNotebook(path.join(NBG, "source-problem1.ipynb")));
    const theirs = readNotebook(path.join(NBG, "release-problem1.ipynb"));
    const byId = new Map(theirs.cells.filter(gradeId).map((c) => [gradeId(c), c]));
    let compared = 0;
    for (const c of ours.cells.filter((x) => gradeId(x) && !isSolution(x))) {
      const t = byId.get(gradeId(c))!;
      expect(nbMeta(c)!.checksum, gradeId(c)).toBe(nbMeta(t)!.checksum);
      expect(c.metadata.editable).toBe(t.metadata.editable);
      expect(c.metadata.deletable).toBe(t.metadata.deletable);
      compared++;
    }
    expect(compared).toBe(6);
  });

  it("replaces solutions by the TypeScript stub, drops hidden tests and verify data, clears outputs", () => {
    const src = readNotebook(SOURCE);
    const rel = releaseNotebook(src);
    const text = rel.cells.map(sourceOf).join("\n");
    expect(text).not.toMatch(/BEGIN SOLUTION|END SOLUTION|HIDDEN TESTS|submit:|batchFlushes: 5|RangeError\("n must/);
    const squares = rel.cells.find((c) => gradeId(c) === "squares")!;
    expect(sourceOf(squares)).toBe(`let squares: ((n: number) => number[]) | undefined = undefined;\n${CODE_STUB}`);
    expect(sourceOf(rel.cells.find((c) => gradeId(c) === "sum_of_squares_equation")!)).toBe("YOUR ANSWER HERE");
    expect(rel.cells.some((c) => c.metadata.flushlab)).toBe(false);
    for (const c of rel.cells.filter((x) => x.cell_type === "code")) expect(c.outputs).toEqual([]);
    for (const c of rel.cells.filter((x) => isGrade(x) || isLocked(x) || isSolution(x)))
      expect(nbMeta(c)!.checksum).toBe(computeChecksum(c));
    // The source is untouched.
    expect(sourceOf(src.cells.find((c) => gradeId(c) === "squares")!)).toContain("BEGIN SOLUTION");
  });

  it("refuses what nbgrader refuses", () => {
    const src = readNotebook(SOURCE);
    const dup = structuredClone(src);
    nbMeta(dup.cells[6])!.grade_id = "squares";
    expect(() => validateNotebook(dup)).toThrow(/duplicate grade_id "squares"/);
    const hiddenOutside = structuredClone(src);
    hiddenOutside.cells[5].source = "// BEGIN HIDDEN TESTS\nx\n// END HIDDEN TESTS";
    expect(() => releaseNotebook(hiddenOutside)).toThrow(/not a grade cell/);
    const extra = structuredClone(src);
    (nbMeta(extra.cells[0]) as unknown as Record<string, unknown>).weight = 1;
    expect(() => validateNotebook(extra)).toThrow(/unknown key "weight"/);
  });
});
