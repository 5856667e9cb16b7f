// Runs the TypeScript compiler on api.test-d.ts: a misspelt variant, a parameter of the wrong type and an
// override of the wrong signature must be compile errors (each marked @ts-expect-error there), and the rest
// must compile. An unused @ts-expect-error (the API stopped catching a mistake) fails this test too.
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const file = path.join(__dirname, "api.test-d.ts");

describe("the typed entry point", () => {
  it("rejects at compile time exactly the lines marked @ts-expect-error", () => {
    // The project's own compiler options (tsconfig.json), so this checks what `tsc` would.
    const root = path.join(__dirname, "..", "..");
    const cfg = ts.getParsedCommandLineOfConfigFile(
      path.join(root, "tsconfig.json"),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
    );
    if (!cfg) throw new Error("tsconfig.json did not parse");
    const program = ts.createProgram([file], { ...cfg.options, noEmit: true });
    const diags = ts.getPreEmitDiagnostics(program).map((d) => {
      const where =
        d.file && d.start !== undefined
          ? `${path.relative(process.cwd(), d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}`
          : "";
      return `${where} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
    });
    expect(diags).toEqual([]);
    // The file really has the checks it claims (a file emptied by mistake would pass the line above).
    const text = ts.sys.readFile(file) ?? "";
    expect(text.match(/@ts-expect-error/g)?.length ?? 0).toBeGreaterThanOrEqual(20);
  }, 120_000);
});
