// `flushlab classroom …` on commander: what is refused while parsing (nothing runs, exit 2), help, and a job that
// runs. Grading itself (Jupyter) is test/kernel/classroom.test.ts's.

import { describe, it, expect } from "vitest";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run } from "../../lib/cli/main";
import { runClassroomJob, type ClassroomJob } from "../../kernel/classroom/cli";

const ROOT = path.resolve(__dirname, "..", "..");
const SOURCE = path.join(ROOT, "test", "kernel", "fixtures", "classroom", "source", "squares.ipynb");

/** Parse as the bin does: the job (if the line parsed) is returned, not run. */
function parse(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let job: ClassroomJob | undefined;
  const code = run(
    ["classroom", ...argv],
    (s) => out.push(s),
    (s) => err.push(s),
    false,
    undefined,
    (j) => (job = j),
  );
  return { code, job, out: out.join("\n"), err: err.join("") };
}

function refused(argv: string[], message: RegExp) {
  const r = parse(...argv);
  expect(r.job, argv.join(" ")).toBeUndefined();
  expect(r.code, argv.join(" ")).toBe(2);
  expect(r.err, argv.join(" ")).toMatch(message);
  expect(r.err.trim().split("\n"), argv.join(" ")).toHaveLength(1);
}

describe("flushlab classroom (commander)", () => {
  it("refuses unknown options, unknown commands, missing and repeated flags and bad values, before any work", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "classroom-cli-"));
    refused(["release", SOURCE, "--out", out, "--bogus"], /unknown option '--bogus'/);
    refused(["relase", SOURCE], /unknown command 'relase'.*release/);
    refused(["release", SOURCE], /release needs --out DIR/);
    refused(["release", "--out", out], /missing required argument 'notebooks'/);
    refused(["release", path.join(out, "nope.ipynb"), "--out", out], /no such notebook: .*nope\.ipynb/);
    refused(["release", SOURCE, "--out", out, "--out", out], /--out given twice/);
    refused(["autograde", "subs", "--source", SOURCE, "--out", out, "--parallel", "abc"], /--parallel must be a whole/);
    refused(
      ["autograde", "subs", "--source", SOURCE, "--out", out, "--parallel", "0"],
      /--parallel must be at least 1/,
    );
    refused(["autograde", "subs", "--source", SOURCE, "--out", out, "--cell-timeout", "-5"], /--cell-timeout must be/);
    refused(["autograde", "subs", "--out", out], /which source notebooks\?/);
    refused(["autograde", "a", "b", "--source", SOURCE, "--out", out], /too many arguments/);
    refused(["autograde", "subs", "--source", SOURCE, "--out", out, "--no-sandbox=1"], /unknown option/);
    refused(["collect", "--from", "x", "--out", out, "--source", SOURCE, "--due", "friday"], /--due must be an ISO/);
    refused(["collect", "--from", "x", "--out", out, "--source", SOURCE, "--students", "ann,,bob"], /--students/);
    refused(["collect", "--out", out, "--source", SOURCE], /collect needs --from and --out/);
    refused(["override", out, "bob", "squares.ipynb", "c", "lots", "--comment", "x"], /points must be a number/);
    refused(["override", out, "bob", "squares.ipynb", "c", "1"], /override needs --comment/);
    refused(["return", out], /return needs --to/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it("shows its subcommands for `help`, and exits 2 with the same help when none is given", () => {
    for (const argv of [["help"], ["--help"]]) {
      const r = parse(...argv);
      expect(r.code).toBe(0);
      for (const c of ["release", "collect", "autograde", "override", "return"]) expect(r.out).toMatch(c);
    }
    const bare = parse();
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/autograde \[options\] <submissions>/);
    const one = parse("help", "autograde");
    expect(one.out).toMatch(/--cell-timeout <seconds>/);
    expect(one.out).toMatch(/--no-sandbox/);
  });

  it("runs a parsed job (release writes the student copy) and reports a job's bad input as exit 2", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "classroom-cli-"));
    const r = parse("release", SOURCE, `--out=${out}`);
    expect(r.code).toBe(0);
    const err: string[] = [];
    expect(await runClassroomJob(r.job!, (s) => err.push(s))).toBe(0);
    expect(fs.readdirSync(out)).toEqual(["squares.ipynb"]);
    const o = parse("override", out, "bob", "squares.ipynb", "c", "1", "--comment", "why");
    expect(await runClassroomJob(o.job!, (s) => err.push(s))).toBe(2);
    expect(err.join("")).toMatch(/^flushlab classroom: no gradebook in /);
  });

  it("run() without the bin's launcher refuses the work (it cannot wait for it), after parsing", () => {
    const out: string[] = [];
    const err: string[] = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "classroom-cli-"));
    const code = run(
      ["classroom", "release", SOURCE, "--out", dir],
      (s) => out.push(s),
      (s) => err.push(s),
    );
    expect(code).toBe(2);
    expect(err.join("")).toMatch(/installed bin/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("the bin runs a classroom command and gives its exit codes", () => {
    const bin = path.join(ROOT, "bin", "flushlab.js");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "classroom-cli-"));
    const ok = spawnSync(process.execPath, [bin, "classroom", "release", SOURCE, "--out", dir], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^release: .*squares\.ipynb → .*grade cells/);
    const bad = spawnSync(process.execPath, [bin, "classroom", "release", SOURCE, "--out", dir, "--x"], {
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("flushlab: unknown option '--x'\n");
  });
});
