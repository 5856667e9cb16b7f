// `npm install` alone makes `flushlab` and `flushlab/display` importable from any notebook in the project: its
// prepare step (kernel/link-self.js) links node_modules/flushlab to the root, replacing whatever npm left there.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, scratch } from "./helpers";

const SCRIPT = path.join(ROOT, "kernel", "link-self.js");

describe("kernel/link-self.js (npm's prepare step)", () => {
  it("is what package.json's prepare runs, before the build", () => {
    const prepare = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.prepare as string;
    expect(prepare).toMatch(/^node kernel\/link-self\.js && npm run build/);
  });

  it("links node_modules/flushlab to .., replacing a missing link, a stale one or a directory", () => {
    const root = scratch("link-self");
    for (const before of ["none", "stale", "dir"]) {
      const link = path.join(root, "node_modules", "flushlab");
      fs.rmSync(path.join(root, "node_modules"), { recursive: true, force: true });
      fs.mkdirSync(path.join(root, "node_modules"));
      if (before === "stale") fs.symlinkSync("/nonexistent", link);
      if (before === "dir") fs.mkdirSync(path.join(link, "lib"), { recursive: true });
      execFileSync(process.execPath, [SCRIPT, root]);
      expect(fs.readlinkSync(link), before).toBe("..");
    }
  });

  it("makes both modules resolve, from release/, workbook/ and notebooks/, to the built library", () => {
    execFileSync(process.execPath, [SCRIPT]);
    for (const dir of ["release", "workbook", "notebooks"]) {
      const from = path.join(ROOT, dir);
      expect(require.resolve("flushlab", { paths: [from] })).toBe(path.join(ROOT, "dist", "lib", "index.js"));
      expect(require.resolve("flushlab/display", { paths: [from] })).toBe(
        path.join(ROOT, "dist", "kernel", "display", "index.js"),
      );
    }
  });
});
