// The workbook job on a running server: execute every notebook of a folder (or one notebook file), then write
// executed notebooks (signed), their HTML, out/index.html and out/manifest.json. The source notebooks are only
// read; in --out only files the runner wrote are ever replaced or removed (kernel/out-dir.ts).
import * as fs from "fs";
import * as path from "path";
import type { ServerConnection } from "@jupyterlab/services";
import { childError, exportNotebooks, staticAssets } from "./export";
import { indexPage } from "./index-page";
import { gitInfo, notebookEntry, toolVersions, type Manifest, type NotebookEntry } from "./manifest";
import { writeNotebook, type Params } from "./notebook";
import { OutDir, OutDirError, OWNED_FILE } from "./out-dir";
import type { Toolchain } from "./paths";
import { Reporter } from "./reporter";
import { runNotebook, type NotebookRun } from "./run-notebook";
import { runStatus } from "./run-status";

export interface WorkbookOptions {
  root: string;
  toolchain: Toolchain;
  settings: ServerConnection.ISettings;
  /** A folder of notebooks, or one .ipynb file. */
  notebooksDir: string;
  outDir: string;
  params?: Params;
  cellTimeoutMs?: number;
  serverStartMs?: number;
  reporter?: Reporter;
}

/** The notebooks to run: the file itself, or a folder's, sorted by name (the numbering is the reading order). */
export function listNotebooks(source: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new OutDirError(`--notebooks ${source}: no such file or folder`);
  }
  if (st.isFile()) {
    if (!source.endsWith(".ipynb")) throw new OutDirError(`--notebooks ${source}: not a .ipynb file`);
    return [path.resolve(source)];
  }
  return fs
    .readdirSync(source)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("."))
    .sort()
    .map((f) => path.resolve(source, f));
}

/** Everything a run may write into out/, relative to it (checked against foreign files before anything runs). */
export function plannedFiles(root: string, files: string[]): string[] {
  const names = files.map((f) => path.basename(f));
  return [...names, ...names.map(htmlName), "index.html", "manifest.json", ...staticAssets(root).map((a) => a.rel)];
}

const htmlName = (ipynb: string) => ipynb.replace(/\.ipynb$/, ".html");

/** One line for a refused --out: which files are not ours. */
export function conflictMessage(outDir: string, conflicts: string[]): string {
  const list = conflicts.slice(0, 3).join(", ") + (conflicts.length > 3 ? ` and ${conflicts.length - 3} more` : "");
  return `--out ${outDir}: ${list} already there and not written by the workbook runner (no ${OWNED_FILE} or manifest lists them); not replacing them: move them or choose another --out`;
}

export async function runWorkbook(o: WorkbookOptions): Promise<Manifest> {
  const t0 = Date.now();
  const rep = o.reporter ?? new Reporter();
  const files = listNotebooks(o.notebooksDir);
  const out = new OutDir(o.outDir);
  const conflicts = out.conflicts(plannedFiles(o.root, files));
  if (conflicts.length) throw new OutDirError(conflictMessage(o.outDir, conflicts));
  const errors: string[] = [];
  if (files.length === 0) errors.push(`no notebooks in ${o.notebooksDir}`);
  const runs: Array<{ entry: NotebookEntry; run: NotebookRun; file: string | null }> = [];
  for (const [i, file] of files.entries()) {
    rep.notebookStart(file, i + 1, files.length);
    const r = await runNotebook({
      settings: o.settings,
      file,
      rootDir: o.root,
      params: o.params,
      cellTimeoutMs: o.cellTimeoutMs,
      onEvent: (e) => rep.event(e),
    });
    for (const w of r.warnings) rep.line(`      warning: ${w}`);
    let written: string | null = null;
    if (r.notebook) {
      r.notebook.metadata.flushlab_run = runStatus(r);
      written = out.claim(path.basename(file));
      writeNotebook(written, r.notebook);
    }
    rep.notebookEnd(r, written ? path.relative(o.root, written) : "(nothing written)");
    if (r.error) errors.push(`${path.basename(file)}: ${r.error}`);
    runs.push({ entry: notebookEntry(r, written ? path.basename(written) : null, null), run: r, file: written });
  }
  const exportable = runs.filter((r) => r.file !== null);
  if (exportable.length) {
    for (const a of staticAssets(o.root)) fs.writeFileSync(out.claim(a.rel), a.from());
    try {
      const items = exportable.map((r) => ({
        ipynb: r.file!,
        html: out.claim(htmlName(path.basename(r.file!))),
        title: r.entry.title ?? r.entry.notebook,
      }));
      const results = exportNotebooks(o.toolchain, items);
      for (const [k, r] of exportable.entries()) {
        const failure = results.get(items[k].ipynb);
        if (failure) errors.push(`${r.entry.notebook}: export to HTML failed: ${failure}`);
        else r.entry.html = path.basename(items[k].html);
      }
    } catch (e) {
      errors.push(`nbconvert failed: ${childError(e)}`);
    }
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
    files: [],
  };
  const manifestFile = out.claim("manifest.json");
  const indexFile = out.claim("index.html");
  manifest.files = out.files();
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + "\n");
  fs.writeFileSync(indexFile, indexPage(manifest));
  for (const f of out.removeStale()) rep.line(`workbook: removed ${f} (written by an earlier run, not by this one)`);
  return manifest;
}
