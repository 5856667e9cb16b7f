// Terminal progress for the workbook: one line per notebook and per cell, failures with their first stderr lines.
import * as path from "path";
import type { RunEvent, NotebookRun } from "./run-notebook";

const ICON: Record<string, string> = { ok: "✓", error: "✗", timeout: "⏱", dead: "☠", aborted: "⊘" };

export class Reporter {
  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(l + "\n")) {}

  line(text: string): void {
    this.write(text);
  }

  notebookStart(file: string, n: number, total: number): void {
    this.write(`[${n}/${total}] ${path.basename(file)}`);
  }

  event(e: RunEvent): void {
    if (e.kind === "kernel") this.write(`      kernel ready in ${(e.ms / 1000).toFixed(1)} s`);
    else if (e.kind === "retry") this.write(`      cell ${e.index + 1}: kernel answered "abort", retry ${e.attempt}`);
    else if (e.kind === "late")
      this.write(
        `      ${ICON.error} cell ${String(e.report.index + 1).padStart(2)} FAILED after it returned: ${e.report.message}`,
      );
    else {
      const r = e.report;
      const count = r.executionCount === null ? "" : ` [${r.executionCount}]`;
      this.write(
        `      ${ICON[r.status] ?? "?"} cell ${String(r.index + 1).padStart(2)}${count} ${r.status} ${r.ms} ms  (${e.done}/${e.total})`,
      );
      if (r.message) this.write(`          ${r.message}`);
    }
  }

  notebookEnd(r: NotebookRun, outFile: string): void {
    const failed = r.cells.filter((c) => c.status !== "ok").length;
    const verdict = r.ok ? "ok" : r.error ? `STOPPED: ${r.error}` : `${failed} cell(s) FAILED`;
    this.write(`      → ${outFile}  ${r.cells.length} cells, ${(r.runMs / 1000).toFixed(1)} s, ${verdict}`);
  }
}
