// The output folder's rule: the runner only replaces or removes files it wrote itself. Which files those are
// is kept in OWNED_FILE inside --out, claimed before each write; a folder written by an older runner is read
// from its manifest.json. An --out that is, holds or lies inside a source folder or workbook/ is refused.
import * as fs from "fs";
import * as path from "path";

export const OWNED_FILE = ".workbook-files.json";

export class OutDirError extends Error {}

const within = (child: string, parent: string) => {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
};

/** Throws OutDirError if `outDir` is, contains or is inside any protected folder (sources, the student's copy). */
export function checkOutDir(outDir: string, protectedDirs: Array<{ dir: string; what: string }>): void {
  const out = realish(outDir);
  for (const { dir, what } of protectedDirs) {
    const p = realish(dir);
    if (within(out, p) || within(p, out))
      throw new OutDirError(
        `--out ${outDir} would mix the write-ups with ${what} (${dir}); choose a folder outside it, e.g. out/`,
      );
  }
}

/** The path with symlinks resolved as far as it exists, so `out -> notebooks` is caught too. */
function realish(p: string): string {
  const abs = path.resolve(p);
  let head = abs;
  const tail: string[] = [];
  while (!fs.existsSync(head) && path.dirname(head) !== head) {
    tail.unshift(path.basename(head));
    head = path.dirname(head);
  }
  return path.join(fs.realpathSync(head), ...tail);
}

/** A record naming `../x` or `/x` must not make the runner delete outside its folder. */
const inside = (rel: string) =>
  rel !== "" && !path.isAbsolute(rel) && path.normalize(rel) === rel && !rel.startsWith("..");

/** The files of `outDir` the runner wrote in earlier runs (paths relative to it). */
export function ownedFiles(outDir: string): Set<string> {
  const record = path.join(outDir, OWNED_FILE);
  if (fs.existsSync(record)) {
    const list = JSON.parse(fs.readFileSync(record, "utf8"));
    if (!Array.isArray(list))
      throw new OutDirError(`${record} is not a list of files; it was not written by the workbook runner`);
    return new Set(list.map(String).filter(inside));
  }
  // Runners before OWNED_FILE existed listed everything they wrote in manifest.json.
  const manifest = path.join(outDir, "manifest.json");
  if (!fs.existsSync(manifest)) return new Set();
  try {
    const m = JSON.parse(fs.readFileSync(manifest, "utf8"));
    if (typeof m.flushlab !== "string" || !Array.isArray(m.notebooks)) return new Set();
    const files = ["manifest.json", "index.html"];
    for (const n of m.notebooks)
      files.push(...[n.ipynb, n.html].filter((f) => typeof f === "string" && !f.includes("/") && inside(f)));
    return new Set(files);
  } catch {
    return new Set();
  }
}

/** Tracks what this run writes into `outDir`; refuses up front to replace anything it did not write. */
export class OutDir {
  private readonly owned: Set<string>;
  private readonly written = new Set<string>();

  constructor(readonly dir: string) {
    this.owned = fs.existsSync(dir) ? ownedFiles(dir) : new Set();
  }

  /** The targets that exist but are not the runner's (empty = safe to go on). */
  conflicts(targets: string[]): string[] {
    return targets.filter((t) => !this.owned.has(t) && fs.existsSync(path.join(this.dir, t)));
  }

  /** Absolute path for `rel`, recorded as the runner's before anything is written there. */
  claim(rel: string): string {
    if (!this.owned.has(rel) && fs.existsSync(path.join(this.dir, rel)))
      throw new OutDirError(
        `${path.join(this.dir, rel)} exists and was not written by the workbook runner; not replacing it`,
      );
    this.written.add(rel);
    if (!this.owned.has(rel)) {
      this.owned.add(rel);
      this.save();
    }
    const abs = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    return abs;
  }

  /** Files this run wrote, sorted. */
  files(): string[] {
    return [...this.written].sort();
  }

  /** Removes what earlier runs wrote and this one did not (a notebook since deleted); nothing else. */
  removeStale(): string[] {
    const stale = [...this.owned].filter((f) => !this.written.has(f));
    for (const f of stale) {
      fs.rmSync(path.join(this.dir, f), { force: true });
      this.owned.delete(f);
    }
    this.save();
    return stale;
  }

  private save(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    fs.writeFileSync(path.join(this.dir, OWNED_FILE), JSON.stringify([...this.owned].sort(), null, 1) + "\n");
  }
}
