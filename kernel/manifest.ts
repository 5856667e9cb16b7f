// out/manifest.json: what produced the write-ups (tool versions, git commit, parameters) and what they say
// (per-notebook status, timings, failed cells, recorded seeds and schedule strings).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { Toolchain } from "./paths";
import { describeNotebook } from "./notebook";
import type { CellReport, NotebookRun } from "./run-notebook";
import { runStatus, type RunStatus } from "./run-status";

export interface NotebookEntry {
  notebook: string;
  /** The first "# " heading and the paragraph after it. */
  title: string | null;
  summary: string | null;
  /** The executed copy in out/, or null when the file could not be read as a notebook. */
  ipynb: string | null;
  html: string | null;
  ok: boolean;
  /** ok, failed (a cell), dead (kernel died), stopped (not run to the end). */
  status: RunStatus["status"];
  error?: string;
  warnings: string[];
  kernel: string;
  kernelStartMs: number;
  runMs: number;
  cells: Array<Pick<CellReport, "index" | "status" | "ms" | "executionCount" | "message">>;
  injectedParametersCell: number | null;
  records: Record<string, unknown>;
}

export interface Manifest {
  flushlab: string;
  createdAt: string;
  ok: boolean;
  git: { commit: string | null; dirty: boolean | null };
  tools: Record<string, string | null>;
  parameters: Record<string, unknown>;
  server: { startMs: number };
  totalMs: number;
  notebooks: NotebookEntry[];
  errors: string[];
  /** Every file of out/ this run wrote (the runner replaces or removes nothing else). */
  files: string[];
}

function pkgVersion(name: string, from: string): string | null {
  try {
    return JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [from] }), "utf8")).version;
  } catch {
    return null;
  }
}

function run(cmd: string, args: string[], cwd: string): string | null {
  try {
    return execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

export function gitInfo(root: string): Manifest["git"] {
  const commit = run("git", ["rev-parse", "HEAD"], root);
  const status = run("git", ["status", "--porcelain", "--untracked-files=no"], root);
  return { commit, dirty: status === null ? null : status.length > 0 };
}

export function toolVersions(tc: Toolchain, root: string): Manifest["tools"] {
  const tslabDir = path.dirname(require.resolve("tslab/package.json", { paths: [root] }));
  return {
    node: process.version,
    npm: run("npm", ["--version"], root),
    tslab: pkgVersion("tslab", root),
    "typescript (tslab)": pkgVersion("@tslab/typescript-for-tslab", tslabDir),
    "@jupyterlab/services": pkgVersion("@jupyterlab/services", root),
    "plotly.js": pkgVersion("plotly.js-dist-min", root),
    python: tc.versions.python ?? null,
    jupyter_server: tc.versions.jupyter_server ?? null,
    jupyter_client: tc.versions.jupyter_client ?? null,
    nbconvert: tc.versions.nbconvert ?? null,
    nbformat: tc.versions.nbformat ?? null,
    jupyter: tc.jupyter,
  };
}

export function notebookEntry(r: NotebookRun, ipynb: string | null, html: string | null): NotebookEntry {
  const d = r.notebook ? describeNotebook(r.notebook) : { title: null, summary: null };
  return {
    notebook: path.basename(r.file),
    title: d.title,
    summary: d.summary,
    ipynb,
    html,
    ok: r.ok,
    status: runStatus(r).status,
    ...(r.error ? { error: r.error } : {}),
    warnings: r.warnings,
    kernel: r.kernelName,
    kernelStartMs: r.kernelStartMs,
    runMs: r.runMs,
    cells: r.cells.map(({ index, status, ms, executionCount, message }) => ({
      index,
      status,
      ms,
      executionCount,
      ...(message ? { message } : {}),
    })),
    injectedParametersCell: r.injectedAt >= 0 ? r.injectedAt : null,
    records: r.records,
  };
}
