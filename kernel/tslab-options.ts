// How tslab compiles a notebook cell, for the checks that compile code as a user's tslab would
// (kernel/typecheck-notebooks.ts, test/kernel/typecheck.test.ts): its bundled TypeScript and its converter's options
// (node_modules/tslab/dist/converter.js, tslab 1.0.22). test/kernel/typecheck.test.ts compares them with what
// tslab's converter actually passes, so an upgrade that changes them fails there.
import * as path from "path";
import { createRequire } from "module";
import type * as TS from "typescript";

/** tslab's own TypeScript (5.0, @tslab/typescript-for-tslab), as resolved from the project at `root`. */
export function tslabTypescript(root: string): typeof TS {
  const tslabDir = path.dirname(createRequire(path.join(root, "package.json")).resolve("tslab/package.json"));
  return createRequire(path.join(tslabDir, "package.json"))("@tslab/typescript-for-tslab") as typeof TS;
}

/**
 * tslab's converter's options that decide what type-checks. Its target and lib follow Node's major version
 * (ES2022 from Node 18; this package needs Node ≥ 20.19); the options it sets that do not are TSLAB_LEFT_OUT.
 */
export function tslabCompilerOptions(ts: typeof TS): TS.CompilerOptions {
  return {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts"],
    experimentalDecorators: true,
    resolveJsonModule: true,
    jsx: ts.JsxEmit.React,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
  };
}

/** Options tslab's converter sets that tslabCompilerOptions leaves out, and why. */
export const TSLAB_LEFT_OUT: Readonly<Record<string, string>> = {
  declaration: "emit only",
  newLine: "emit only",
  noImplicitUseStrict: "emit only",
  rootDir: "output paths",
  outDir: "output paths",
  disableTopLevelAwait:
    "tslab drops TypeScript's error for a cell's top-level await (1308) and runs the cell async; the checks join the cells as one module, where TypeScript allows it",
  typeRoots: "the kernel's own folder's node_modules/@types: the checks name @types/node instead (types)",
};

/**
 * The checks' options: tslab's, plus strict (tslab leaves it off; strict only adds errors, so a cell clean here is
 * clean in tslab), no emit, and @types/node as the one ambient package.
 */
export function notebookCheckOptions(ts: typeof TS): TS.CompilerOptions {
  return { ...tslabCompilerOptions(ts), strict: true, noEmit: true, types: ["node"] };
}
