// Executes one notebook cell by cell on a fresh tslab kernel and returns the executed copy plus a report.
// tslab quirks handled here: errors arrive only as reply status "error"; for 200 ms after an error every request
// is answered "abort"; no execute_input is sent, so execution counts come from the reply.
import * as path from "path";
import type { ServerConnection } from "@jupyterlab/services";
import { cleared, injectParameters, readNotebook, sourceOf, type Notebook, type Params } from "./notebook";
import { KernelSession, type CellResult, type Output } from "./session";
import { RECORD_MIME } from "./display/record-mime";

/** tslab aborts requests for 200 ms after a failed cell; wait a little longer before the next one. */
export const ABORT_WINDOW_MS = 250;
const MAX_ABORT_RETRIES = 5;

export type CellOutcome = "ok" | "error" | "timeout" | "dead" | "aborted";

export interface CellReport {
  /** Index in the executed notebook (which includes an injected parameters cell, if any). */
  index: number;
  status: CellOutcome;
  executionCount: number | null;
  ms: number;
  /** First lines of stderr for failed cells: what the terminal and the manifest show. */
  message?: string;
}

export type RunEvent =
  | { kind: "kernel"; ms: number }
  | { kind: "cell"; report: CellReport; done: number; total: number }
  | { kind: "retry"; index: number; attempt: number };

export interface RunOptions {
  settings: ServerConnection.ISettings;
  /** Absolute path of the notebook file (read only). */
  file: string;
  /** The server's root_dir: the kernel's cwd is the notebook's directory, given relative to it. */
  rootDir: string;
  params?: Params;
  cellTimeoutMs?: number;
  kernelName?: string;
  onEvent?: (e: RunEvent) => void;
  /** Hook for the classroom grader: run this notebook instead of reading `file` (which still names the session). */
  notebook?: Notebook;
}

export interface NotebookRun {
  file: string;
  notebook: Notebook;
  ok: boolean;
  /** Why the notebook stopped early (kernel died, kernel would not start), if it did. */
  error?: string;
  cells: CellReport[];
  /** Index of the injected parameters cell, or -1. */
  injectedAt: number;
  kernelStartMs: number;
  runMs: number;
  kernelInfo?: { implementation?: string; implementation_version?: string; protocol_version?: string };
  /** Values the notebook recorded with `record()` (display MIME application/vnd.flushlab.record+json), last wins. */
  records: Record<string, unknown>;
}

export async function runNotebook(opts: RunOptions): Promise<NotebookRun> {
  const timeoutMs = opts.cellTimeoutMs ?? 300_000;
  const injected = injectParameters(cleared(opts.notebook ?? readNotebook(opts.file)), opts.params ?? {});
  const nb = injected.notebook;
  const run: NotebookRun = { file: opts.file, notebook: nb, ok: true, cells: [], injectedAt: injected.at, kernelStartMs: 0, runMs: 0, records: {} };
  const code = nb.cells.map((c, index) => ({ c, index })).filter(({ c }) => c.cell_type === "code" && sourceOf(c).trim() !== "");

  // A unique session path in the notebook's directory: same cwd for the kernel, never a shared session.
  const rel = path.relative(opts.rootDir, opts.file);
  const sessionPath = path.join(path.dirname(rel), `.run-${process.pid}-${Date.now().toString(36)}-${path.basename(rel)}`);
  let ks: KernelSession;
  try {
    ks = await KernelSession.open(opts.settings, sessionPath, opts.kernelName ?? "tslab");
  } catch (e) {
    return { ...run, ok: false, error: `kernel did not start: ${(e as Error).message}` };
  }
  run.kernelStartMs = ks.startMs;
  run.kernelInfo = ks.info as NotebookRun["kernelInfo"];
  opts.onEvent?.({ kind: "kernel", ms: ks.startMs });
  const t0 = Date.now();
  try {
    for (const [n, { c, index }] of code.entries()) {
      let r: CellResult = await ks.execute(sourceOf(c), timeoutMs);
      for (let attempt = 1; r.status === "abort" && attempt <= MAX_ABORT_RETRIES; attempt++) {
        opts.onEvent?.({ kind: "retry", index, attempt });
        await sleep(ABORT_WINDOW_MS);
        r = await ks.execute(sourceOf(c), timeoutMs);
      }
      c.outputs = r.outputs;
      c.execution_count = r.executionCount;
      const report = cellReport(index, r, timeoutMs);
      run.cells.push(report);
      collectRecords(r.outputs, run.records);
      if (report.status !== "ok") run.ok = false;
      opts.onEvent?.({ kind: "cell", report, done: n + 1, total: code.length });
      if (r.status === "dead") {
        run.error = `kernel died while running cell ${index + 1} (${ks.dead}); ${code.length - n - 1} later cell(s) not run, outputs so far kept`;
        break;
      }
      if (report.status !== "ok") await sleep(ABORT_WINDOW_MS);
    }
  } finally {
    run.runMs = Date.now() - t0;
    await ks.close();
  }
  return run;
}

function cellReport(index: number, r: CellResult, timeoutMs: number): CellReport {
  const status: CellOutcome = r.status === "abort" ? "aborted" : r.status;
  const report: CellReport = { index, status, executionCount: r.executionCount, ms: r.ms };
  if (status === "timeout") report.message = `timed out after ${timeoutMs} ms; kernel interrupted`;
  else if (status === "aborted") report.message = `kernel kept aborting the request (tslab abort window)`;
  else if (status !== "ok") {
    const err = r.outputs.filter((o) => o.output_type === "stream" && o.name === "stderr").map((o) => (o as { text: string }).text).join("");
    report.message = err.trim().split("\n").slice(0, 3).join("\n") || (status === "dead" ? "kernel died" : "failed without a message");
  }
  return report;
}

function collectRecords(outputs: Output[], into: Record<string, unknown>): void {
  for (const o of outputs) {
    if (o.output_type !== "display_data") continue;
    const rec = o.data[RECORD_MIME];
    if (rec && typeof rec === "object" && !Array.isArray(rec)) Object.assign(into, rec);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
