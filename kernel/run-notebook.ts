// Executes one notebook cell by cell on a fresh tslab kernel and returns the executed copy plus a report.
// tslab quirks handled here: errors arrive only as reply status "error"; for 200 ms after an error every request
// is answered "abort"; no execute_input is sent, so execution counts come from the reply; a timer's or an
// unawaited promise's error arrives after the cell's reply, under that cell's request.
import * as path from "path";
import type { KernelMessage, ServerConnection } from "@jupyterlab/services";
import { cellErrorSummary } from "./cell-error";
import {
  cleared,
  declaredParameters,
  injectParameters,
  readNotebook,
  sourceOf,
  type Notebook,
  type Params,
} from "./notebook";
import { collect, KernelSession, type CellResult, type Output } from "./session";
import { escapeHtml } from "./display/escape";
import { RECORD_MIME } from "./display/record-mime";

/** tslab aborts requests for 200 ms after a failed cell; wait a little longer before the next one. */
export const ABORT_WINDOW_MS = 250;
const MAX_ABORT_RETRIES = 5;
/** After the last cell, how long a timer may still fire and be blamed on the notebook. */
const SETTLE_MS = 300;
/** Kernels the workbook knows how to run (both registered by `tslab install`). */
const KERNELS = new Set(["tslab", "jslab"]);
const UNCAUGHT = /^(UncaughtException|UnhandledPromiseRejection): (.*)$/m;

export type CellOutcome = "ok" | "error" | "timeout" | "dead" | "aborted";

export interface CellReport {
  /** Index in the executed notebook (which includes an injected parameters cell, if any). */
  index: number;
  status: CellOutcome;
  executionCount: number | null;
  ms: number;
  /** One line for failed cells (the error's message and where in the cell): what the terminal and the manifest show. */
  message?: string;
}

export type RunEvent =
  | { kind: "kernel"; ms: number }
  | { kind: "cell"; report: CellReport; done: number; total: number }
  | { kind: "retry"; index: number; attempt: number }
  /** A cell already reported ok turned out to fail later (an error from its timer or promise). */
  | { kind: "late"; report: CellReport };

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
  /** The executed copy; null when the file could not be read as a notebook (then `error` says why). */
  notebook: Notebook | null;
  ok: boolean;
  /** Why the notebook stopped early or never ran (unreadable, wrong kernel, kernel died or would not start). */
  error?: string;
  /** Kernel death: the run ended before the notebook did (its page says so). */
  kernelDied?: boolean;
  /** Things the reader should know that did not fail the notebook (missing kernelspec, undeclared --param). */
  warnings: string[];
  /** The kernel it ran on. */
  kernelName: string;
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
  const base: NotebookRun = {
    file: opts.file,
    notebook: null,
    ok: false,
    warnings: [],
    kernelName: opts.kernelName ?? "tslab",
    cells: [],
    injectedAt: -1,
    kernelStartMs: 0,
    runMs: 0,
    records: {},
  };
  let source: Notebook;
  try {
    source = opts.notebook ?? readNotebook(opts.file);
  } catch (e) {
    return { ...base, error: `not run: ${(e as Error).message}` };
  }
  const spec = source.metadata.kernelspec as { name?: string; display_name?: string } | undefined;
  if (!opts.kernelName && spec?.name && !KERNELS.has(spec.name)) {
    return {
      ...base,
      notebook: cleared(source),
      error: `not run: its kernelspec is "${spec.name}"${spec.display_name ? ` (${spec.display_name})` : ""}; the workbook runs TypeScript notebooks on tslab (or JavaScript on jslab)`,
    };
  }
  const run: NotebookRun = { ...base, ok: true, kernelName: opts.kernelName ?? spec?.name ?? "tslab" };
  if (!spec?.name && !opts.kernelName) run.warnings.push(`no kernelspec in the notebook's metadata: ran it on tslab`);
  const params = opts.params ?? {};
  const injected = injectParameters(cleared(source), params);
  run.notebook = injected.notebook;
  run.injectedAt = injected.at;
  if (Object.keys(params).length) {
    if (injected.at < 0) run.warnings.push(`no cell tagged "parameters": --param values not applied`);
    else {
      const declared = declaredParameters(sourceOf(injected.notebook.cells[injected.at - 1]));
      for (const name of Object.keys(params))
        if (!declared.has(name))
          run.warnings.push(
            `--param ${name}: the parameters cell declares no "${name}" (declares ${[...declared].join(", ") || "nothing"}); set anyway`,
          );
    }
  }
  const nb = injected.notebook;
  const code = nb.cells
    .map((c, index) => ({ c, index }))
    .filter(({ c }) => c.cell_type === "code" && sourceOf(c).trim() !== "");

  // A unique session path in the notebook's directory: same cwd for the kernel, never a shared session.
  const rel = path.relative(opts.rootDir, opts.file);
  const sessionPath = path.join(
    path.dirname(rel),
    `.run-${process.pid}-${Date.now().toString(36)}-${path.basename(rel)}`,
  );
  let ks: KernelSession;
  try {
    ks = await KernelSession.open(opts.settings, sessionPath, run.kernelName);
  } catch (e) {
    return { ...run, ok: false, error: `kernel did not start: ${(e as Error).message}` };
  }
  run.kernelStartMs = ks.startMs;
  run.kernelInfo = ks.info as NotebookRun["kernelInfo"];
  opts.onEvent?.({ kind: "kernel", ms: ks.startMs });
  // Output that arrives after a cell's reply is that cell's: keep it there, and fail the cell if it is an error.
  const byMsg = new Map<string, { c: (typeof code)[number]["c"]; report: CellReport }>();
  ks.onLateOutput((msgId, msg) => {
    const owner = byMsg.get(msgId);
    if (!owner) return;
    collect(msg as KernelMessage.IIOPubMessage, (owner.c.outputs ??= []), ks.displays);
    const err = lateError(msg);
    if (err && owner.report.status === "ok") {
      owner.report.status = "error";
      owner.report.message = `error after the cell returned (a timer or a promise nobody awaited): ${err}`;
      run.ok = false;
      opts.onEvent?.({ kind: "late", report: owner.report });
    }
  });
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
      const report = cellReport(index, r, timeoutMs, sourceOf(c));
      byMsg.set(r.msgId, { c, report });
      run.cells.push(report);
      collectRecords(r.outputs, run.records);
      if (report.status !== "ok") run.ok = false;
      opts.onEvent?.({ kind: "cell", report, done: n + 1, total: code.length });
      if (r.status === "dead") {
        run.kernelDied = true;
        c.outputs.push(deathNotice(ks.dead, code.length - n - 1));
        run.error = `kernel died while running cell ${index + 1} (${ks.dead}); ${code.length - n - 1} later cell(s) not run, outputs so far kept`;
        break;
      }
      if (report.status !== "ok") await sleep(ABORT_WINDOW_MS);
    }
    // Give the last cell's timers a moment; what they print while this runs is still the last cell's.
    const last = run.cells.length ? byMsg.get([...byMsg.keys()].pop()!) : undefined;
    if (!ks.dead && last) {
      const settle = await ks.execute(`await new Promise((r) => setTimeout(r, ${SETTLE_MS}))`, timeoutMs, true);
      byMsg.set(settle.msgId, last);
      (last.c.outputs ??= []).push(...settle.outputs);
      const m = UNCAUGHT.exec(
        settle.outputs.map((o) => (o.output_type === "stream" && o.name === "stderr" ? o.text : "")).join(""),
      );
      if (m && last.report.status === "ok") {
        last.report.status = "error";
        last.report.message = `error after the cell returned (a timer or a promise nobody awaited): ${m[2]}`;
        run.ok = false;
        opts.onEvent?.({ kind: "late", report: last.report });
      }
    }
  } finally {
    run.runMs = Date.now() - t0;
    await ks.close();
  }
  return run;
}

/** An output left in the cell where the kernel died, so the notebook itself says why it ends there. */
function deathNotice(why: string, notRun: number): Output {
  const text = `The kernel died while running this cell (${why}). ${notRun} later cell(s) were not run; their outputs are empty.`;
  return {
    output_type: "display_data",
    metadata: {},
    data: {
      "text/plain": text,
      "text/html": `<div class="flushlab-dead" style="background:#fde8e8;border:1px solid #d62728;color:#7a1010;padding:6px 10px;border-radius:4px"><b>&#9760; Kernel died.</b> ${escapeHtml(text)}</div>`,
    },
  };
}

/** The error text of a late stderr message, if it is one tslab prints for an uncaught error. */
function lateError(msg: KernelMessage.IIOPubMessage): string | null {
  if (msg.header.msg_type !== "stream") return null;
  const c = msg.content as { name?: string; text?: string };
  if (c.name !== "stderr") return null;
  const m = UNCAUGHT.exec(c.text ?? "");
  return m ? m[2] : null;
}

function cellReport(index: number, r: CellResult, timeoutMs: number, source: string): CellReport {
  const status: CellOutcome = r.status === "abort" ? "aborted" : r.status;
  const report: CellReport = { index, status, executionCount: r.executionCount, ms: r.ms };
  const err = r.outputs
    .filter((o) => o.output_type === "stream" && o.name === "stderr")
    .map((o) => (o as { text: string }).text)
    .join("");
  if (status === "timeout") report.message = `timed out after ${timeoutMs} ms; kernel interrupted`;
  else if (status === "aborted") report.message = `kernel kept aborting the request (tslab abort window)`;
  else if (status !== "ok")
    report.message = cellErrorSummary(err, source) || (status === "dead" ? "kernel died" : "failed without a message");
  else {
    // An earlier cell's timer or promise failed while this one ran: tslab puts it in this cell's stderr.
    const m = UNCAUGHT.exec(err);
    if (m) {
      report.status = "error";
      report.message = `an error escaped while this cell ran (from a timer or unawaited promise of this or an earlier cell): ${m[2]}`;
    }
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
