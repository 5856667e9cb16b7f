// Collecting submissions into the layout autograde reads (<dest>/<student>/<notebook>.ipynb + timestamp.txt),
// from a folder of student folders or from per-user copies (the hub's homes), and returning feedback into each
// student's copy. Originals are only read when collecting; returning writes only a feedback/ folder beside them.
import * as fs from "fs";
import * as path from "path";

export interface Collected {
  student: string;
  files: string[];
  timestamp: string;
  late: boolean;
}

/** `{student}` in a template is replaced by the student's name (e.g. /home/{student}/workbook). */
export const expand = (template: string, student: string) => template.split("{student}").join(student);

/**
 * Copies each student's notebooks (only the names given) into dest/<student>/, writing timestamp.txt as
 * nbgrader does: the folder's own timestamp.txt if it has one, else the newest notebook's mtime.
 */
export function collect(opts: {
  from: string;
  students?: string[];
  notebooks: string[];
  dest: string;
  due?: Date;
}): Collected[] {
  const templated = opts.from.includes("{student}");
  if (templated && !opts.students?.length) throw new Error("--from with {student} needs --students");
  const students =
    opts.students ??
    fs
      .readdirSync(opts.from, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith("."))
      .map((d) => d.name)
      .sort();
  const out: Collected[] = [];
  for (const student of students) {
    if (!/^[\w.@-]+$/.test(student) || student.startsWith("."))
      throw new Error(`"${student}" is not a usable student name`);
    const dir = templated ? expand(opts.from, student) : path.join(opts.from, student);
    const dest = path.join(opts.dest, student);
    fs.mkdirSync(dest, { recursive: true });
    const files: string[] = [];
    let newest = 0;
    for (const nb of opts.notebooks) {
      const f = path.join(dir, nb);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(f);
      } catch {
        continue;
      }
      if (!st.isFile()) continue; // a symlink could point anywhere root can read
      fs.copyFileSync(f, path.join(dest, nb));
      files.push(nb);
      newest = Math.max(newest, st.mtimeMs);
    }
    const own = path.join(dir, "timestamp.txt");
    const timestamp =
      fs.existsSync(own) && fs.lstatSync(own).isFile()
        ? fs.readFileSync(own, "utf8").trim()
        : newest
          ? new Date(newest).toISOString()
          : "";
    if (timestamp) fs.writeFileSync(path.join(dest, "timestamp.txt"), timestamp + "\n");
    const when = Date.parse(timestamp.replace(/ ([A-Za-z_]+\/[A-Za-z_]+)$/, ""));
    out.push({
      student,
      files,
      timestamp,
      late: opts.due !== undefined && Number.isFinite(when) && when > opts.due.getTime(),
    });
  }
  return out;
}

/**
 * Copies each student's feedback pages from the grader's output into <their copy>/feedback/, owned like the
 * folder it lands in (so a hub user can open it). Returns the folders written.
 */
export function returnFeedback(outDir: string, to: string, students?: string[]): string[] {
  const fbRoot = path.join(outDir, "feedback");
  const names = students ?? fs.readdirSync(fbRoot).sort();
  const written: string[] = [];
  for (const student of names) {
    const src = path.join(fbRoot, student);
    if (!fs.existsSync(src)) continue;
    const copy = to.includes("{student}") ? expand(to, student) : path.join(to, student);
    if (!fs.existsSync(copy)) continue;
    const owner = fs.statSync(copy);
    const dest = path.join(copy, "feedback");
    if (fs.existsSync(dest) && fs.lstatSync(dest).isSymbolicLink())
      throw new Error(`${dest} is a symlink: not writing through it`);
    fs.mkdirSync(dest, { recursive: true });
    fs.chownSync(dest, owner.uid, owner.gid);
    for (const f of fs.readdirSync(src)) {
      const target = path.join(dest, f);
      if (fs.existsSync(target) && fs.lstatSync(target).isSymbolicLink()) fs.rmSync(target);
      fs.copyFileSync(path.join(src, f), target);
      fs.chownSync(target, owner.uid, owner.gid);
      fs.chmodSync(target, 0o644);
    }
    written.push(dest);
  }
  return written;
}
