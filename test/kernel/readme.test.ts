// README's Quick start is the contract CI runs: its first code block holds exactly two command lines, and
// .ci/run runs exactly those lines, in order.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers";

function quickStart(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.split(/^## Quick start$/m)[1]?.split(/^## /m)[0] ?? "";
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

describe("Quick start", () => {
  it("is two command lines: install + workbook, then the test suite", () => {
    const lines = quickStart();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^npm install && npm run workbook$/);
    expect(lines[1]).toBe("npm test");
  });

  it("is what .ci/run runs, in order, under set -euo pipefail", () => {
    const run = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    expect(run.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(run).toMatch(/^set -euo pipefail$/m);
    const commands = run
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#") && !l.startsWith("set ") && !l.startsWith("cd "));
    expect(commands).toEqual(quickStart());
    expect(fs.statSync(path.join(ROOT, ".ci", "run")).mode & 0o111).not.toBe(0);
  });
});
