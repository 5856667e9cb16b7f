// The workbook job on a running server: execute every notebook of a folder, then write executed notebooks
// (signed), their HTML, out/index.html and out/manifest.json. The source notebooks are only read.
import * as fs from "fs";
import * as path from "path";
import type { ServerConnection } from "@jupyterlab/services";
import { childError, exportHtml, signNotebooks } from "./export";
import { indexPage } from "./index-page";
import { gitInfo, notebookEntry, toolVersions, type Manifest, type NotebookEntry } from "./manifest";
import { writeNotebook, type Params } from "./notebook";
import type { Toolchain } from "./paths";
import { Reporter } from "./reporter";
import { runNotebook } from "./run-notebook";

export interface WorkbookOptions {
  root: string;
  toolchain: Toolchain;
  settings: ServerConnection.ISettings;
  notebooksDir: string;
  outDir: string;
  params?: Params;
  cellTimeoutMs?: number;
  serverStartMs?: number;
  reporter?: Reporter;
}

/** The notebooks a folder holds, sorted by name (the numbering is the reading order). */
export function listNotebooks(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb") && !f.startsWith(".")).sort().map((f) => path.join(dir, f));
}

/** Removes what an earlier run wrote, so the folder never mixes runs. Only our own file types are touched. */
function cleanOut(outDir: string): void {
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir)) if (/\.(ipynb|html)$/.test(f) || f === "manifest.json") fs.rmSync(path.join(outDir, f));
}

export async function runWorkbook(o: WorkbookOptions): Promise<Manifest> {
  const t0 = Date.now();
  const rep = o.reporter ?? new Reporter();
  const files = listNotebooks(o.notebooksDir);
  const errors: string[] = [];
  if (files.length === 0) errors.push(`no notebooks in ${o.notebooksDir}`);
  cleanOut(o.outDir);
  const runs: Array<{ entry: NotebookEntry; file: string }> = [];
  for (const [i, file] of files.entries()) {
    rep.notebookStart(file, i + 1, files.length);
    const r = await runNotebook({ settings: o.settings, file, rootDir: o.root, params: o.params, cellTimeoutMs: o.cellTimeoutMs, onEvent: (e) => rep.event(e) });
    if (o.params && Object.keys(o.params).length && r.injectedAt < 0) rep.line(`      (no cell tagged "parameters": --param values not applied here)`);
    const out = path.join(o.outDir, path.basename(file));
    writeNotebook(out, r.notebook);
    rep.notebookEnd(r, path.relative(o.root, out));
    if (r.error) errors.push(`${path.basename(file)}: ${r.error}`);
    runs.push({ entry: notebookEntry(r, path.basename(out), null), file: out });
  }
  const written = runs.map((r) => r.file);
  try {
    signNotebooks(o.toolchain, written);
  } catch (e) {
    errors.push(`signing/validating failed: ${childError(e)}`);
  }
  try {
    exportHtml(o.toolchain, written, o.outDir);
    for (const r of runs) r.entry.html = path.basename(r.file).replace(/\.ipynb$/, ".html");
  } catch (e) {
    errors.push(`nbconvert --to html failed: ${childError(e)}`);
  }
  const notebooks = runs.map((r) => r.entry);
  const manifest: Manifest = {
    flushlab: JSON.parse(fs.readFileSync(path.join(o.root, "package.json"), "utf8")).version,
    createdAt: new Date().toISOString(),
    ok: errors.length === 0 && notebooks.every((n) => n.ok),
    git: gitInfo(o.root),
    tools: toolVersions(o.toolchain, o.root),
    parameters: o.params ?? {},
    server: { startMs: o.serverStartMs ?? 0 },
    totalMs: Date.now() - t0,
    notebooks,
    errors,
  };
  fs.writeFileSync(path.join(o.outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  fs.writeFileSync(path.join(o.outDir, "index.html"), indexPage(manifest));
  return manifest;
}
