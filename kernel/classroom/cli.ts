// `flushlab classroom …`: release, collect, autograde (and regrade), override, feedback return, as commander
// subcommands of the flushlab CLI (lib/cli/main.ts registers them). Parsing and checks happen while commander parses;
// the work is a job handed to `launch`, because grading is async (it drives Jupyter) and the CLI's parse is not.
import { Argument, Command, Option } from "commander";
import * as fs from "fs";
import * as path from "path";
import { collect as repeatable, once, UsageError, wholeNumber } from "../../lib/cli/args";
import { loadToolchain, projectRoot } from "../paths";
import { collect, returnFeedback } from "./collect";
import { feedbackHtml, type FeedbackCell } from "./feedback";
import { loadGradebook, saveGradebook, summaryTable } from "./gradebook";
import { releaseFiles } from "./release";

type Out = (s: string) => void;

/** A parsed classroom command's work: its exit code (0 done; it throws on failure). */
export type ClassroomJob = () => number | Promise<number>;

/** Where a parsed classroom command's job goes: main() runs it (runClassroomJob); run() alone refuses it. */
export type Launch = (job: ClassroomJob) => void;

const TEMPLATE_NOTE = "TEMPLATE: a path with {student}, e.g. /home/{student}/workbook";

/** A positive number of seconds (fractions allowed). */
function seconds(flag: string): (v: string) => number {
  return (v) => {
    if (!/^\d+(\.\d+)?$/.test(v) || !(Number(v) > 0))
      throw new UsageError(`--${flag} must be a positive number of seconds, got "${v}"`);
    return Number(v);
  };
}

/** An ISO-8601 time such as 2026-12-01T12:00Z (a bare date is midnight UTC). */
function isoTime(v: string): Date {
  const d = new Date(v);
  if (!/^\d{4}-\d\d-\d\d/.test(v) || Number.isNaN(d.getTime()))
    throw new UsageError(`--due must be an ISO time such as 2026-12-01T12:00Z, got "${v}"`);
  return d;
}

/** --students a,b,c: at least one name, no empty ones. */
function studentList(v: string): string[] {
  const names = v.split(",").map((s) => s.trim());
  if (names.some((s) => s === "")) throw new UsageError(`--students takes names separated by commas, got "${v}"`);
  return names;
}

function points(v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`points must be a number ≥ 0, got "${v}"`);
  return Number(v);
}

/** The source notebooks, as absolute paths: each must exist. */
function sourcesOf(files: readonly string[]): string[] {
  if (files.length === 0) throw new UsageError("which source notebooks? (--source FILE, repeatable)");
  for (const f of files) if (!fs.existsSync(f)) throw new UsageError(`no such notebook: ${f}`);
  return files.map((f) => path.resolve(f));
}

const source = () =>
  new Option("--source <notebook>", "an instructor's source notebook (repeatable)").argParser(repeatable);
const student = (what: string) => new Option("--student <name>", `${what} (repeatable)`).argParser(repeatable);

/** Adds the classroom subcommands to `cmd` (created by the flushlab program, whose settings it inherits). */
export function classroomCommands(cmd: Command, out: Out, err: Out, launch: Launch): Command {
  cmd
    .description("the classroom kit (nbgrader's format): release, collect, autograde, override, return")
    .addHelpText("after", `\n${TEMPLATE_NOTE}`);

  cmd
    .command("release")
    .description("write the student version of each source notebook (solutions and hidden tests out)")
    .argument("<notebooks...>", "the instructor's source notebooks")
    .addOption(new Option("--out <dir>", "where the released notebooks go").argParser(once("out", String)))
    .action((notebooks: string[], o: { out?: string }) => {
      if (o.out === undefined) throw new UsageError("release needs --out DIR");
      sourcesOf(notebooks);
      launch(() => {
        for (const r of releaseFiles(notebooks, o.out!))
          out(`release: ${r.source} → ${r.out} (${r.gradeCells} grade cells, ${r.points} points)`);
        return 0;
      });
    });

  cmd
    .command("collect")
    .description("copy each student's notebooks (and timestamp) into a submissions folder")
    .argument("[notebooks...]", "source notebooks (as --source)")
    .addOption(new Option("--from <dir|template>", "where the students' copies are").argParser(once("from", String)))
    .addOption(
      new Option("--students <a,b>", "the students (default: every folder in --from)").argParser(
        once("students", studentList),
      ),
    )
    .addOption(source())
    .addOption(new Option("--out <dir>", "the submissions folder").argParser(once("out", String)))
    .addOption(new Option("--due <iso-time>", "a submission stamped after it is LATE").argParser(once("due", isoTime)))
    .addHelpText("after", `\n${TEMPLATE_NOTE}`)
    .action(
      (
        positional: string[],
        o: { from?: string; students?: string[]; source?: string[]; out?: string; due?: Date },
      ) => {
        if (o.from === undefined || o.out === undefined) throw new UsageError("collect needs --from and --out");
        const notebooks = sourcesOf([...(o.source ?? []), ...positional]).map((f) => path.basename(f));
        launch(() => {
          const got = collect({ from: o.from!, students: o.students, notebooks, dest: o.out!, due: o.due });
          for (const c of got)
            out(
              `collect: ${c.student}: ${c.files.length ? c.files.join(", ") : "nothing"}${c.timestamp ? ` (${c.timestamp}${c.late ? ", LATE" : ""})` : ""}`,
            );
          return 0;
        });
      },
    );

  cmd
    .command("autograde")
    .description("grade every submission on a private Jupyter server (regrade: --student, --cell)")
    .argument("<submissions>", "the submissions folder (one folder per student)")
    .addOption(source())
    .addOption(new Option("--out <dir>", "where the gradebook and feedback go").argParser(once("out", String)))
    .addOption(student("grade only this student"))
    .addOption(new Option("--cell <id>", "grade only this grade cell (repeatable)").argParser(repeatable))
    .addOption(
      new Option("--parallel <n>", "submissions graded at once (default: the CPUs)").argParser(
        once("parallel", wholeNumber("parallel", 1)),
      ),
    )
    .addOption(
      new Option("--cell-timeout <seconds>", "a cell running longer fails (default: 60)").argParser(
        once("cell-timeout", seconds("cell-timeout")),
      ),
    )
    .option("--no-sandbox", "as root: grade as root, not as unprivileged users (trusted code only)")
    .action(
      (
        submissions: string,
        o: {
          source?: string[];
          out?: string;
          student?: string[];
          cell?: string[];
          parallel?: number;
          cellTimeout?: number;
          sandbox: boolean;
        },
      ) => {
        if (o.out === undefined) throw new UsageError("autograde needs --out DIR");
        const sources = sourcesOf(o.source ?? []);
        const outDir = o.out;
        launch(async () => {
          // Loaded here: the grader pulls in the Jupyter client, which no other flushlab command needs at start.
          const { autograde } = await import("./autograde");
          const root = projectRoot();
          const gb = await autograde({
            root,
            toolchain: loadToolchain(root),
            sources,
            submissionsDir: path.resolve(submissions),
            outDir: path.resolve(outDir),
            students: o.student,
            cells: o.cell,
            parallel: o.parallel,
            cellTimeoutMs: o.cellTimeout === undefined ? undefined : o.cellTimeout * 1000,
            sandbox: o.sandbox ? undefined : false,
            log: (s) => err(s + "\n"),
          });
          out(summaryTable(gb));
          out(
            `gradebook: ${path.join(outDir, "gradebook.csv")}, feedback: ${path.join(outDir, "feedback")}/<student>/`,
          );
          return 0;
        });
      },
    );

  cmd
    .command("override")
    .description("set a grade cell's points by hand, with a comment (kept through regrades)")
    .argument("<out-dir>", "autograde's --out")
    .argument("<student>")
    .argument("<notebook>", "e.g. squares.ipynb")
    .argument("<cell>", "the grade cell's id")
    .addArgument(new Argument("<points>", "between 0 and the cell's points").argParser(points))
    .addOption(new Option("--comment <text>", "why (shown in the feedback)").argParser(once("comment", String)))
    .action((outDir: string, who: string, notebook: string, cell: string, pts: number, o: { comment?: string }) => {
      if (o.comment === undefined) throw new UsageError("override needs --comment TEXT");
      launch(() => {
        const gb = loadGradebook(outDir);
        if (!gb) throw new UsageError(`no gradebook in ${outDir}`);
        const row = gb.rows.find(
          (r) => r.student === who && r.notebook === notebook && r.cell === cell && r.max_points !== null,
        );
        if (!row) throw new UsageError(`no grade cell ${cell} of ${notebook} for ${who}`);
        if (pts > row.max_points!) throw new UsageError(`points must be between 0 and ${row.max_points}`);
        gb.overrides.push({
          student: who,
          notebook,
          cell,
          points: pts,
          comment: o.comment!,
          at: new Date().toISOString(),
        });
        saveGradebook(outDir, gb);
        rebuildFeedback(outDir, who, notebook, gb);
        out(`override: ${who} ${notebook} ${cell} = ${pts} (${o.comment})`);
        return 0;
      });
    });

  cmd
    .command("return")
    .description("copy each student's feedback beside their notebooks (<copy>/feedback/)")
    .argument("<out-dir>", "autograde's --out")
    .addOption(new Option("--to <dir|template>", "the students' copies").argParser(once("to", String)))
    .addOption(student("return only this student's"))
    .addHelpText("after", `\n${TEMPLATE_NOTE}`)
    .action((outDir: string, o: { to?: string; student?: string[] }) => {
      if (o.to === undefined) throw new UsageError("return needs --to DIR|TEMPLATE");
      launch(() => {
        for (const d of returnFeedback(outDir, o.to!, o.student)) out(`return: ${d}`);
        return 0;
      });
    });
  return cmd;
}

/** Runs a parsed classroom command's job: 0 done, 2 bad input (a UsageError), 1 anything else, message on `err`. */
export async function runClassroomJob(job: ClassroomJob, err: Out): Promise<number> {
  try {
    return await job();
  } catch (e) {
    err(`flushlab classroom: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
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
