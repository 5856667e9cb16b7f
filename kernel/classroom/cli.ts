// `flushlab classroom …`: release, collect, autograde (and regrade), override, feedback return. The parsing is
// kept here so lib/cli/main.ts holds only the hook.
import * as fs from "fs";
import * as path from "path";
import { parseArgs, UsageError } from "../../lib/cli/args";
import { loadToolchain, projectRoot } from "../paths";
import { autograde } from "./autograde";
import { collect, returnFeedback } from "./collect";
import { feedbackHtml, type FeedbackCell } from "./feedback";
import { loadGradebook, saveGradebook, summaryTable } from "./gradebook";
import { releaseFiles } from "./release";

export const CLASSROOM_USAGE = `usage:
  flushlab classroom release <source notebooks…> --out DIR
  flushlab classroom collect --from DIR|TEMPLATE [--students a,b] --source <notebooks…> --out SUBMISSIONS [--due ISO-TIME]
  flushlab classroom autograde <submissions-dir> --source <notebooks…> --out DIR [--student S]... [--cell ID]...
                               [--parallel N] [--cell-timeout SECONDS] [--no-sandbox]
  flushlab classroom override <out-dir> <student> <notebook> <cell> <points> --comment TEXT
  flushlab classroom return <out-dir> --to DIR|TEMPLATE [--student S]...
  (TEMPLATE: a path with {student}, e.g. /home/{student}/workbook)`;

type Out = (s: string) => void;

function sourcesOf(p: ReturnType<typeof parseArgs>, positional: string[]): string[] {
  const src = [...(p.lists.get("source") ?? []), ...positional];
  if (src.length === 0) throw new UsageError("which source notebooks? (--source FILE, repeatable)");
  for (const f of src) if (!fs.existsSync(f)) throw new UsageError(`no such notebook: ${f}`);
  return src.map((f) => path.resolve(f));
}

export async function classroom(argv: string[], out: Out, err: Out): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === "release") {
      const p = parseArgs(rest, ["out"], []);
      const outDir = p.flags.get("out");
      if (typeof outDir !== "string") throw new UsageError("release needs --out DIR");
      if (p.positional.length === 0) throw new UsageError("release needs at least one notebook");
      for (const r of releaseFiles(p.positional, outDir))
        out(`release: ${r.source} → ${r.out} (${r.gradeCells} grade cells, ${r.points} points)`);
      return 0;
    }
    if (sub === "collect") {
      const p = parseArgs(rest, ["from", "students", "out", "due"], [], ["source"]);
      const from = p.flags.get("from"),
        dest = p.flags.get("out");
      if (typeof from !== "string" || typeof dest !== "string") throw new UsageError("collect needs --from and --out");
      const due = typeof p.flags.get("due") === "string" ? new Date(p.flags.get("due") as string) : undefined;
      const students =
        typeof p.flags.get("students") === "string"
          ? (p.flags.get("students") as string).split(",").filter(Boolean)
          : undefined;
      const got = collect({
        from,
        students,
        notebooks: sourcesOf(p, p.positional).map((f) => path.basename(f)),
        dest,
        due,
      });
      for (const c of got)
        out(
          `collect: ${c.student}: ${c.files.length ? c.files.join(", ") : "nothing"}${c.timestamp ? ` (${c.timestamp}${c.late ? ", LATE" : ""})` : ""}`,
        );
      return 0;
    }
    if (sub === "autograde") {
      const p = parseArgs(rest, ["out", "parallel", "cell-timeout"], ["no-sandbox"], ["source", "student", "cell"]);
      if (p.positional.length !== 1) throw new UsageError("autograde needs one submissions folder");
      const outDir = p.flags.get("out");
      if (typeof outDir !== "string") throw new UsageError("autograde needs --out DIR");
      const root = projectRoot();
      const timeout = p.flags.get("cell-timeout");
      const gb = await autograde({
        root,
        toolchain: loadToolchain(root),
        sources: sourcesOf(p, []),
        submissionsDir: path.resolve(p.positional[0]),
        outDir: path.resolve(outDir),
        students: p.lists.get("student"),
        cells: p.lists.get("cell"),
        parallel: p.flags.has("parallel") ? Number(p.flags.get("parallel")) : undefined,
        cellTimeoutMs: typeof timeout === "string" ? Number(timeout) * 1000 : undefined,
        sandbox: p.flags.has("no-sandbox") ? false : undefined,
        log: (s) => err(s + "\n"),
      });
      out(summaryTable(gb));
      out(`gradebook: ${path.join(outDir, "gradebook.csv")}, feedback: ${path.join(outDir, "feedback")}/<student>/`);
      return 0;
    }
    if (sub === "override") {
      const p = parseArgs(rest, ["comment"], []);
      const [outDir, student, notebook, cell, points] = p.positional;
      const comment = p.flags.get("comment");
      if (p.positional.length !== 5 || typeof comment !== "string")
        throw new UsageError("override <out-dir> <student> <notebook> <cell> <points> --comment TEXT");
      const gb = loadGradebook(outDir);
      if (!gb) throw new UsageError(`no gradebook in ${outDir}`);
      const row = gb.rows.find(
        (r) => r.student === student && r.notebook === notebook && r.cell === cell && r.max_points !== null,
      );
      if (!row) throw new UsageError(`no grade cell ${cell} of ${notebook} for ${student}`);
      const pts = Number(points);
      if (!(pts >= 0 && pts <= row.max_points!)) throw new UsageError(`points must be between 0 and ${row.max_points}`);
      gb.overrides.push({ student, notebook, cell, points: pts, comment, at: new Date().toISOString() });
      saveGradebook(outDir, gb);
      rebuildFeedback(outDir, student, notebook, gb);
      out(`override: ${student} ${notebook} ${cell} = ${pts} (${comment})`);
      return 0;
    }
    if (sub === "return") {
      const p = parseArgs(rest, ["to"], [], ["student"]);
      const to = p.flags.get("to");
      if (p.positional.length !== 1 || typeof to !== "string")
        throw new UsageError("return <out-dir> --to DIR|TEMPLATE");
      for (const d of returnFeedback(p.positional[0], to, p.lists.get("student"))) out(`return: ${d}`);
      return 0;
    }
    if (sub === undefined || sub === "help" || sub === "--help") {
      out(CLASSROOM_USAGE);
      return sub === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown classroom command "${sub}"\n${CLASSROOM_USAGE}`);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`flushlab classroom: ${e.message}\n`);
      return 2;
    }
    err(`flushlab classroom: ${(e as Error).message}\n`);
    return 1;
  }
}

function rebuildFeedback(
  outDir: string,
  student: string,
  notebook: string,
  gb: ReturnType<typeof loadGradebook> & object,
): void {
  const base = notebook.replace(/\.ipynb$/, "");
  const f = path.join(outDir, "graded", student, `${base}.json`);
  if (!fs.existsSync(f)) return;
  const saved = JSON.parse(fs.readFileSync(f, "utf8")) as { cells: FeedbackCell[] };
  fs.writeFileSync(
    path.join(outDir, "feedback", student, `${base}.html`),
    feedbackHtml(student, notebook, saved.cells, gb),
    { mode: 0o600 },
  );
}
