// The published .d.ts (dist/) must type-check under tslab's bundled TypeScript 5.0 with Node10 resolution,
// the way a notebook cell sees it; a newer-syntax .d.ts would break every notebook import.
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { FIXTURES, ROOT } from "./helpers";
import {
  notebookCheckOptions,
  tslabCompilerOptions,
  tslabTypescript,
  TSLAB_LEFT_OUT,
} from "../../kernel/tslab-options";

const ts = tslabTypescript(ROOT);

/**
 * The options tslab's converter really passes to TypeScript: its converter is loaded with a TypeScript whose
 * createWatchCompilerHost records them and stops (the real module is restored, the converter unloaded, after).
 */
function tslabConverterOptions(): Record<string, unknown> {
  const tslabDir = path.dirname(createRequire(path.join(ROOT, "package.json")).resolve("tslab/package.json"));
  const converterFile = path.join(tslabDir, "dist", "converter.js");
  const req = createRequire(converterFile);
  const tsFile = req.resolve("@tslab/typescript-for-tslab");
  const real = req(tsFile) as typeof ts;
  let seen: Record<string, unknown> | undefined;
  const stop = new Error("options recorded");
  const spy = {
    ...real,
    createWatchCompilerHost: (_files: unknown, options: Record<string, unknown>) => {
      seen = options;
      throw stop;
    },
  };
  delete req.cache[converterFile];
  req.cache[tsFile]!.exports = spy;
  try {
    (req(converterFile) as { createConverter: () => unknown }).createConverter();
  } catch (e) {
    if (e !== stop) throw e;
  } finally {
    req.cache[tsFile]!.exports = real;
    delete req.cache[converterFile];
  }
  if (!seen) throw new Error("tslab's converter did not call createWatchCompilerHost: read converter.js again");
  return seen;
}

describe("published types under tslab's TypeScript", () => {
  it("is TypeScript 5.0 (what tslab bundles)", () => {
    expect(ts.version).toMatch(/^5\.0\./);
  });

  it('type-checks `import * as fl from "flushlab"` and flushlab/display against dist/ with no errors', () => {
    const consumer = path.join(FIXTURES, "typecheck", "consumer.ts");
    expect(fs.existsSync(path.join(ROOT, "dist", "lib", "index.d.ts"))).toBe(true);
    // The notebook check's options, with library checking ON so every .d.ts we ship is checked.
    const program = ts.createProgram([consumer], { ...notebookCheckOptions(ts), skipLibCheck: false });
    const ours = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => !d.file || !d.file.fileName.includes("/node_modules/"));
    const text = ours.map(
      (d) =>
        `${d.file ? path.relative(ROOT, d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`,
    );
    expect(text).toEqual([]);
    const files = program.getSourceFiles().map((f) => path.relative(ROOT, f.fileName));
    expect(files).toContain("dist/lib/index.d.ts");
    expect(files).toContain("dist/kernel/display/index.d.ts");
  });
});

describe("the checks compile as tslab does", () => {
  it("share tslab's converter's options: each one tslab passes is ours, or left out for a stated reason", () => {
    const theirs = tslabConverterOptions();
    const ours = tslabCompilerOptions(ts);
    for (const [k, v] of Object.entries(ours)) expect(theirs[k], k).toEqual(v);
    const unaccounted = Object.keys(theirs).filter((k) => !(k in ours) && !(k in TSLAB_LEFT_OUT));
    expect(unaccounted).toEqual([]);
    // What the checks add only tightens them (or names the one ambient package tslab would find via typeRoots).
    const added = Object.keys(notebookCheckOptions(ts)).filter((k) => !(k in ours));
    expect(added.sort()).toEqual(["noEmit", "strict", "types"]);
  });
});

describe("notebooks' code cells type-check against the built library (npm run typecheck)", () => {
  it("every notebook in notebooks/ compiles under tslab's TypeScript", () => {
    const out = execFileSync(process.execPath, [path.join(ROOT, "dist", "kernel", "typecheck-notebooks.js")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(out).toMatch(/\d+ notebook\(s\), 0 error\(s\)/);
  });
  it("a cell with a type error fails it, naming the notebook and the cell", () => {
    let err = "";
    try {
      execFileSync(
        process.execPath,
        [path.join(ROOT, "dist", "kernel", "typecheck-notebooks.js"), path.join(FIXTURES, "typecheck-bad")],
        { cwd: ROOT, encoding: "utf8", stdio: "pipe" },
      );
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err).toMatch(/bad\.ipynb \(cell 2\): Type 'string' is not assignable to type 'number'/);
  });
});
