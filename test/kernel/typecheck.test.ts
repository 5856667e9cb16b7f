// The published .d.ts (dist/) must type-check under tslab's bundled TypeScript 5.0 with Node10 resolution,
// the way a notebook cell sees it; a newer-syntax .d.ts would break every notebook import.
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { FIXTURES, ROOT } from "./helpers";

const tslabDir = path.dirname(createRequire(path.join(ROOT, "package.json")).resolve("tslab/package.json"));
const ts = createRequire(path.join(tslabDir, "package.json"))(
  "@tslab/typescript-for-tslab",
) as typeof import("typescript");

describe("published types under tslab's TypeScript", () => {
  it("is TypeScript 5.0 (what tslab bundles)", () => {
    expect(ts.version).toMatch(/^5\.0\./);
  });

  it('type-checks `import * as fl from "flushlab"` and flushlab/display against dist/ with no errors', () => {
    const consumer = path.join(FIXTURES, "typecheck", "consumer.ts");
    expect(fs.existsSync(path.join(ROOT, "dist", "lib", "index.d.ts"))).toBe(true);
    // tslab's hard-coded options (converter.js), with library checking ON so every .d.ts we ship is checked.
    const program = ts.createProgram([consumer], {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.NodeJs,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts"],
      esModuleInterop: true,
      resolveJsonModule: true,
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ["node"],
    });
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
