// `classroom autograde`: every submission (a folder per student) run on a real jupyter-server with tslab, as an
// unprivileged user in a private working copy, the source's locked and hidden-test cells restored; points per
// grade cell; the gradebook and a feedback page per student. Submissions are only ever read.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ServerConnection } from "@jupyterlab/services";
import * as lib from "../../lib/index";
import { readNotebook, sourceOf, type Notebook } from "../notebook";
import type { Toolchain } from "../paths";
import { RECORD_MIME } from "../display/record-mime";
import { runNotebook, type CellReport, type NotebookRun } from "../run-notebook";
import type { Output } from "../session";
import { answerCellsOf, assemble, type Assembled } from "./assemble";
import { feedbackPage } from "./feedback";
import { SUBMIT_PREFIX, gradeId, isGrade, isSolution, nbMeta, verifyOf } from "./format";
import { loadGradebook, saveGradebook, type Gradebook, type Row } from "./gradebook";
import { releaseNotebook } from "./release";
import {
  acquireSlot,
  copySubmission,
  killUserProcesses,
  makePrivateDir,
  releaseSlot,
  startSandboxServer,
  type Identity,
} from "./sandbox";

/** A kernel that dies (exit, kill, an unstoppable loop) is restarted and the notebook re-run with that cell skipped, this often. */
export const MAX_RESTARTS = 3;

export interface AutogradeOptions {
  root: string;
  toolchain: Toolchain;
  /** The instructor's notebooks (solutions and hidden tests); a submission holds files of the same names. */
  sources: string[];
  submissionsDir: string;
  outDir: string;
  /** Only these students (regrade); the others' rows are kept from the existing gradebook. */
  students?: string[];
  /** Only these grade cells' rows are replaced (regrade of one cell); the notebook still runs whole. */
  cells?: string[];
  parallel?: number;
  cellTimeoutMs?: number;
  /** Run kernels as unprivileged users (needs root). Default: true when root. */
  sandbox?: boolean;
  log?: (line: string) => void;
}

interface Source {
  name: string;
  notebook: Notebook;
  release: Notebook;
  max: number;
  answers: Map<string, string[]>;
}

export interface GradedNotebook {
  name: string;
  assembled?: Assembled;
  run?: NotebookRun;
  /** Per assembled-cell index: the report that counts (the last run's, or the run in which the cell killed its kernel). */
  reports: Map<number, CellReport>;
  rows: Row[];
}

export interface StudentResult {
  student: string;
  notebooks: GradedNotebook[];
  seconds: number;
  timestamp: string;
}

/** Student folders: directories of the submissions folder, sorted; dot-folders ignored. */
export function listStudents(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith("."))
    .map((d) => d.name)
    .sort();
}

function loadSources(files: string[]): Source[] {
  return files.map((file) => {
    const notebook = readNotebook(file);
    const release = releaseNotebook(notebook, path.basename(file));
    const max = notebook.cells.filter(isGrade).reduce((s, c) => s + Number(nbMeta(c)!.points), 0);
    return { name: path.basename(file), notebook, release, max, answers: answerCellsOf(notebook) };
  });
}

/** The folder's timestamp.txt (nbgrader's collect writes one), else the newest .ipynb's mtime. */
export function submissionTime(dir: string): string {
  const ts = path.join(dir, "timestamp.txt");
  if (fs.existsSync(ts)) return fs.readFileSync(ts, "utf8").trim();
  let newest = 0;
  for (const f of fs.readdirSync(dir))
    if (f.endsWith(".ipynb")) newest = Math.max(newest, fs.statSync(path.join(dir, f)).mtimeMs);
  return newest ? new Date(newest).toISOString() : "";
}

export async function autograde(o: AutogradeOptions): Promise<Gradebook> {
  const log = o.log ?? (() => undefined);
  const sandbox = o.sandbox ?? process.getuid?.() === 0;
  if (sandbox && process.getuid?.() !== 0)
    throw new Error(
      "the sandbox needs root (to run kernels as unprivileged users); pass --no-sandbox only for trusted code",
    );
  const sources = loadSources(o.sources);
  fs.mkdirSync(o.outDir, { recursive: true, mode: 0o700 });
  protectPaths([...o.sources, o.submissionsDir, o.outDir], log);
  const all = listStudents(o.submissionsDir);
  const students = o.students ? all.filter((s) => o.students!.includes(s)) : all;
  for (const s of o.students ?? [])
    if (!all.includes(s)) throw new Error(`no folder for student "${s}" in ${o.submissionsDir}`);
  const parallel = Math.max(1, Math.min(o.parallel ?? os.cpus().length, students.length || 1));
  // The grader's private scratch: root-only listing; each submission gets a 0700 folder owned by its slot's user.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "flushlab-grade-"));
  fs.chmodSync(scratch, 0o711);
  const taken = new Set<number>();
  const results: StudentResult[] = [];
  const t0 = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < students.length) {
      const student = students[next++];
      const r = await gradeStudent(o, sources, student, scratch, sandbox, taken);
      results.push(r);
      const pts = r.notebooks.flatMap((n) => n.rows).reduce((s, x) => s + (x.points ?? 0), 0);
      log(
        `autograde: [${results.length}/${students.length}] ${student}: ${pts}/${sources.reduce((s, x) => s + x.max, 0)} points in ${r.seconds.toFixed(1)} s`,
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  results.sort((a, b) => a.student.localeCompare(b.student));
  const old = loadGradebook(o.outDir);
  const gb: Gradebook = old ?? { createdAt: "", notebooks: [], rows: [], overrides: [], students: {} };
  gb.createdAt = new Date().toISOString();
  gb.notebooks = sources.map((s) => ({ name: s.name, max_points: s.max }));
  const fresh = results.flatMap((r) => r.notebooks.flatMap((n) => n.rows));
  const replaced = (row: Row) => students.includes(row.student) && (!o.cells || o.cells.includes(row.cell));
  const keptRows = gb.rows.filter((row) => !replaced(row));
  const newRows = fresh.filter((row) => !o.cells || o.cells.includes(row.cell));
  gb.rows = sortRows([...keptRows, ...newRows], sources);
  for (const r of results) gb.students[r.student] = { timestamp: r.timestamp, seconds: r.seconds };
  saveGradebook(o.outDir, gb);
  for (const r of results) writeFeedback(o.outDir, r, gb);
  log(
    `autograde: ${students.length} submission(s), ${parallel} in parallel, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return gb;
}

function sortRows(rows: Row[], sources: Source[]): Row[] {
  const nbOrder = new Map(sources.map((s, i) => [s.name, i]));
  const cellOrder = new Map(
    sources.flatMap((s) => s.notebook.cells.map((c, i) => [`${s.name}/${gradeId(c) ?? ""}`, i] as const)),
  );
  const key = (r: Row) =>
    [
      r.student,
      nbOrder.get(r.notebook) ?? 99,
      r.cell === "" ? -1 : (cellOrder.get(`${r.notebook}/${r.cell}`) ?? 999),
    ] as const;
  return rows.sort((a, b) => {
    const x = key(a),
      y = key(b);
    return x[0].localeCompare(y[0]) || x[1] - y[1] || x[2] - y[2] || a.status.localeCompare(b.status);
  });
}

/**
 * Hidden tests, other students' submissions and the gradebook must not be readable by the grading users: the
 * source files and the submissions and output folders lose all access for "others" (they are root's).
 */
function protectPaths(paths: string[], log: (s: string) => void): void {
  for (const p of paths) {
    if (!fs.existsSync(p)) continue;
    const st = fs.statSync(p);
    if ((st.mode & 0o007) === 0) continue;
    fs.chmodSync(p, st.mode & ~0o007);
    log(`autograde: made ${p} private (chmod o-rwx): the grading users must not read it`);
  }
}

async function gradeStudent(
  o: AutogradeOptions,
  sources: Source[],
  student: string,
  scratch: string,
  sandbox: boolean,
  taken: Set<number>,
): Promise<StudentResult> {
  const t0 = Date.now();
  const dir = path.join(o.submissionsDir, student);
  const timestamp = submissionTime(dir);
  const graded: GradedNotebook[] = [];
  const runnable: Array<{ src: Source; g: GradedNotebook }> = [];
  const files = fs.readdirSync(dir);
  for (const src of sources) {
    const g: GradedNotebook = { name: src.name, reports: new Map(), rows: [] };
    graded.push(g);
    const file = path.join(dir, src.name);
    if (!fs.existsSync(file)) {
      const status = files.length === 0 ? "empty submission" : "missing notebook";
      g.rows = zeroRows(
        student,
        src,
        status,
        files.length === 0 ? "the submission folder is empty" : `no ${src.name} in the submission`,
      );
      continue;
    }
    let sub: Notebook;
    try {
      sub = JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
      if (sub.nbformat !== 4 || !Array.isArray(sub.cells)) throw new Error("not an nbformat 4 notebook");
      for (const c of sub.cells)
        if (!c || typeof c !== "object" || !("source" in c) || typeof c.metadata !== "object")
          throw new Error("a cell without source or metadata");
    } catch (e) {
      g.rows = zeroRows(
        student,
        src,
        "malformed",
        `${src.name} could not be read: ${(e as Error).message.split("\n")[0]}`,
      );
      continue;
    }
    g.assembled = assemble(src.notebook, src.release, sub);
    runnable.push({ src, g });
  }
  if (runnable.length) await runInSandbox(o, runnable, student, scratch, sandbox, taken);
  for (const { src, g } of runnable) g.rows = score(student, src, g);
  return { student, notebooks: graded, seconds: (Date.now() - t0) / 1000, timestamp };
}

function zeroRows(student: string, src: Source, status: Row["status"], message: string): Row[] {
  return [
    { student, notebook: src.name, cell: "", points: null, max_points: null, status, message, verified: "" },
    ...src.notebook.cells.filter(isGrade).map((c): Row => ({
      student,
      notebook: src.name,
      cell: gradeId(c)!,
      points: 0,
      max_points: Number(nbMeta(c)!.points),
      status,
      message,
      verified: "",
    })),
  ];
}

async function runInSandbox(
  o: AutogradeOptions,
  work: Array<{ src: Source; g: GradedNotebook }>,
  student: string,
  scratch: string,
  sandbox: boolean,
  taken: Set<number>,
): Promise<void> {
  const slot = sandbox ? acquireSlot(o.root, taken) : undefined;
  const id: Identity = slot ?? { uid: process.getuid!(), gid: process.getgid!() };
  const dir = path.join(scratch, `${String(slot?.index ?? 0)}-${student.replace(/[^\w.-]/g, "_")}`);
  const logFile = path.join(scratch, `${path.basename(dir)}.log`);
  try {
    const { work: wc } = makePrivateDir(dir, id, o.root);
    copySubmission(path.join(o.submissionsDir, student), wc, id, (rel) => rel === "feedback" || rel.startsWith("."));
    const server = await startSandboxServer(o.toolchain, dir, slot, logFile);
    try {
      for (const { g } of work) await runWithRestarts(o, g, server.settings, wc, server.pid, slot?.uid);
    } finally {
      await server.stop(2000);
    }
  } catch (e) {
    for (const { g } of work)
      if (!g.run)
        g.run = {
          file: "",
          notebook: g.assembled!.notebook,
          ok: false,
          warnings: [],
          kernelName: "tslab",
          error: `grading failed: ${(e as Error).message.split("\n")[0]}`,
          cells: [],
          injectedAt: -1,
          kernelStartMs: 0,
          runMs: 0,
          records: {},
        };
  } finally {
    // Whatever the student's code left behind (a daemon, a sleeping child) dies with the slot.
    if (slot) killUserProcesses(slot.uid);
    fs.rmSync(dir, { recursive: true, force: true });
    if (slot) releaseSlot(slot, taken);
  }
}

/** Descendants of a process (the server's kernels and whatever they started), from /proc. */
function descendants(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(fs.readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1].split(" ")[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const k of kids.get(p) ?? []) {
      out.push(k);
      walk(k);
    }
  };
  walk(pid);
  return out;
}

async function runWithRestarts(
  o: AutogradeOptions,
  g: GradedNotebook,
  settings: ServerConnection.ISettings,
  wc: string,
  serverPid: number,
  uid: number | undefined,
): Promise<void> {
  const timeoutMs = o.cellTimeoutMs ?? 60_000;
  const skipped = new Map<number, CellReport>();
  const nb = g.assembled!.notebook;
  for (let attempt = 0; ; attempt++) {
    const copy = structuredClone(nb);
    for (const [i, rep] of skipped)
      copy.cells[i].source =
        `// skipped by the grader: this cell ${rep.status === "timeout" ? "timed out" : "killed its kernel"} in an earlier run\n`;
    // A loop that ignores SIGINT holds the kernel past the interrupt: kill the kernel, the runner sees it die.
    let last = Date.now();
    let killedAt = -1;
    let current = -1;
    const watchdog = setInterval(() => {
      if (Date.now() - last < timeoutMs + 2000) return;
      for (const pid of descendants(serverPid))
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      if (uid !== undefined) killUserProcesses(uid, [serverPid]);
      killedAt = current;
      last = Date.now() + 3_600_000;
    }, 500);
    let run: NotebookRun;
    try {
      run = await runNotebook({
        settings,
        file: path.join(wc, g.name),
        rootDir: wc,
        notebook: copy,
        cellTimeoutMs: timeoutMs,
        onEvent: (e) => {
          if (e.kind === "kernel" || e.kind === "cell") last = Date.now();
          if (e.kind === "cell") current = nextCode(copy, e.report.index);
          if (e.kind === "kernel") current = nextCode(copy, -1);
        },
      });
    } finally {
      clearInterval(watchdog);
    }
    g.run = run;
    for (const rep of run.cells) {
      if (skipped.has(rep.index)) continue;
      if (rep.status === "dead" && (rep.index === killedAt || rep.ms >= timeoutMs)) {
        rep.status = "timeout";
        rep.message = `timed out after ${timeoutMs} ms and did not stop when interrupted (a loop that ignores SIGINT): the kernel ${rep.index === killedAt ? "was killed" : "died"}`;
      }
      g.reports.set(rep.index, rep);
    }
    const dead = run.cells.find(
      (c) => c.status === "dead" || (c.status === "timeout" && run.error !== undefined && c === run.cells.at(-1)),
    );
    if (!run.error || !dead) break;
    skipped.set(dead.index, dead);
    if (attempt + 1 >= MAX_RESTARTS) {
      for (let i = dead.index + 1; i < copy.cells.length; i++) {
        if (copy.cells[i].cell_type === "code" && !g.reports.has(i))
          g.reports.set(i, {
            index: i,
            status: "dead",
            executionCount: null,
            ms: 0,
            message: `not run: the kernel died ${MAX_RESTARTS} times`,
          });
      }
      break;
    }
    // Cells after the one that died get a fresh kernel: the notebook is re-run from the top, that cell skipped.
    for (const i of [...g.reports.keys()]) if (i > dead.index) g.reports.delete(i);
  }
  for (const [i, rep] of skipped) g.reports.set(i, rep);
}

function nextCode(nb: Notebook, after: number): number {
  for (let i = after + 1; i < nb.cells.length; i++)
    if (nb.cells[i].cell_type === "code" && sourceOf(nb.cells[i]).trim() !== "") return i;
  return -1;
}

/** The value a cell submitted with `record("submit:<id>", value)`, if one arrived. */
function submitted(outputs: Output[] | undefined, id: string): { found: boolean; value?: unknown } {
  for (const o of outputs ?? []) {
    if (o.output_type !== "display_data") continue;
    const rec = o.data[RECORD_MIME] as Record<string, unknown> | undefined;
    if (rec && typeof rec === "object" && Object.prototype.hasOwnProperty.call(rec, SUBMIT_PREFIX + id))
      return { found: true, value: rec[SUBMIT_PREFIX + id] };
  }
  return { found: false };
}

/** Resolves a checker by its path in the library the grader itself loaded (not the student's kernel's copy). */
function checkerOf(p: string): (a: unknown) => { status: string; message: string } {
  let v: unknown = lib;
  for (const k of p.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  if (typeof v !== "function") throw new Error(`verify.checker "${p}" is not a function of flushlab`);
  return v as (a: unknown) => { status: string; message: string };
}

function runChecker(p: string, value: unknown): { status: string; message: string } {
  try {
    return checkerOf(p)(structuredClone(value ?? undefined));
  } catch (e) {
    return { status: "incorrect", message: `the grader could not check the answer: ${(e as Error).message}` };
  }
}

const lastLine = (outputs: Output[] | undefined) => {
  const text = (outputs ?? [])
    .filter((o) => o.output_type === "stream" && o.name === "stdout")
    .map((o) => (o as { text: string }).text)
    .join("");
  return text.trim().split("\n").at(-1)?.slice(0, 300) ?? "";
};

function score(student: string, src: Source, g: GradedNotebook): Row[] {
  const a = g.assembled!;
  const rows: Row[] = [];
  const base = { student, notebook: src.name };
  if (g.run?.error && g.run.cells.length === 0)
    rows.push({
      ...base,
      cell: "",
      points: null,
      max_points: null,
      status: "not run",
      message: g.run.error,
      verified: "",
    });
  for (const n of a.notes)
    rows.push({
      ...base,
      cell: n.cell,
      points: null,
      max_points: null,
      status: n.status,
      message: n.message,
      verified: "",
    });
  a.cells.forEach((gc, index) => {
    const c = gc.cell;
    const rep0 = g.reports.get(index);
    // A failing answer cell or cell of the student's own scores nothing itself, but says why the tests after it fail.
    if (!isGrade(c) && c.cell_type === "code" && rep0 && rep0.status !== "ok") {
      const status = rep0.status === "timeout" ? "timeout" : rep0.status === "dead" ? "kernel died" : "failed";
      const rerun =
        status !== "failed" && g.reports.size > 0
          ? "; the notebook was re-run on a fresh kernel without this cell"
          : "";
      rows.push({
        ...base,
        cell: gc.id ?? "",
        points: null,
        max_points: null,
        status,
        message: `${gc.id ? "" : `cell ${index + 1}: `}${rep0.message ?? status}${rerun}`,
        verified: "",
      });
    }
    if (!gc.id || !isGrade(c)) return;
    const max = Number(nbMeta(c)!.points);
    const row = (
      points: number | null,
      status: Row["status"],
      message: string,
      verified: Row["verified"] = "",
    ): Row => ({ ...base, cell: gc.id!, points, max_points: max, status, message, verified });
    if (isSolution(c) || c.cell_type !== "code") {
      rows.push(
        row(
          null,
          "manual",
          a.attempted.get(gc.id) === false ? "not attempted (needs manual grading)" : "needs manual grading",
        ),
      );
      return;
    }
    const answers = src.answers.get(gc.id) ?? [];
    const attempted = answers.length === 0 || answers.some((id) => a.attempted.get(id));
    const rep = g.reports.get(index);
    const outputs = g.run?.notebook?.cells[index]?.outputs;
    if (!attempted) {
      rows.push(row(0, "not attempted", "not attempted: the answer cell is the release's, unchanged"));
      return;
    }
    if (!rep) {
      rows.push(row(0, "not run", g.run?.error ?? "the cell was not run"));
      return;
    }
    if (rep.status !== "ok") {
      const status = rep.status === "timeout" ? "timeout" : rep.status === "dead" ? "kernel died" : "failed";
      let msg = rep.message ?? "failed";
      // A hidden test submits before it throws: the grader's own checker then says what is wrong.
      const v = verifyOf(c);
      const sub = v?.checker ? submitted(outputs, gc.id) : { found: false };
      if (v?.checker && sub.found) msg = runChecker(v.checker, sub.value).message;
      rows.push(row(0, /not attempted/.test(msg) && status === "failed" ? "not attempted" : status, msg, "kernel"));
      return;
    }
    const v = verifyOf(c);
    if (!v) {
      rows.push(row(max, "passed", lastLine(outputs) || "ran without error", "kernel"));
      return;
    }
    const sub = submitted(outputs, gc.id);
    if (!sub.found) {
      rows.push(
        row(
          0,
          "failed",
          "the cell ran, but the value its hidden test submits never arrived (was record() replaced?)",
          "grader",
        ),
      );
      return;
    }
    if (v.checker) {
      const r = runChecker(v.checker, sub.value);
      const st = r.status === "correct" ? "passed" : r.status === "not attempted" ? "not attempted" : "failed";
      const note =
        st !== "passed" ? " (the kernel said the cell passed; the grader's own run of the checker disagrees)" : "";
      rows.push(row(st === "passed" ? max : 0, st, r.message + note, "grader"));
      return;
    }
    const ok = JSON.stringify(sub.value) === JSON.stringify(v.equals);
    rows.push(
      row(
        ok ? max : 0,
        ok ? "passed" : "failed",
        ok
          ? lastLine(outputs) || "right"
          : "the value your code computes for the hidden test is wrong (the grader checked it outside your kernel)",
        "grader",
      ),
    );
  });
  return rows;
}

function writeFeedback(outDir: string, r: StudentResult, gb: Gradebook): void {
  const dir = path.join(outDir, "feedback", r.student);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const json = path.join(outDir, "graded", r.student);
  fs.mkdirSync(json, { recursive: true, mode: 0o700 });
  for (const n of r.notebooks) {
    const base = n.name.replace(/\.ipynb$/, "");
    fs.writeFileSync(path.join(dir, `${base}.html`), feedbackPage(r.student, n, gb), { mode: 0o600 });
    // What feedback needs to be rebuilt after an override, without re-running anything.
    const cells =
      n.assembled?.cells.map((gc, i) => ({
        id: gc.id ?? null,
        cell_type: gc.cell.cell_type,
        shown: gc.shown,
        outputs: n.run?.notebook?.cells[i]?.outputs ?? [],
      })) ?? [];
    fs.writeFileSync(
      path.join(json, `${base}.json`),
      JSON.stringify({ student: r.student, name: n.name, cells }) + "\n",
      { mode: 0o600 },
    );
  }
}
