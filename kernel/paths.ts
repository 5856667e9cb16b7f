// Where the project's Jupyter state lives, and the toolchain that kernel/setup.sh chose and recorded.
import * as fs from "fs";
import * as path from "path";

/** The Jupyter installation and project-local Jupyter dirs, as written by kernel/setup.sh. */
export interface Toolchain {
  root: string;
  /** The `jupyter` script that passed setup's checks. */
  jupyter: string;
  /** Its Python; every Jupyter tool is started as `python -m <module>` (one process, one PID). */
  python: string;
  /** Browser UI available to that Python. */
  ui: "lab" | "nbclassic" | "notebook";
  /** Chromium for the browser tests, or "" if none. */
  chromium: string;
  /** JUPYTER_PATH, JUPYTER_DATA_DIR, JUPYTER_RUNTIME_DIR, JUPYTER_CONFIG_DIR, IPYTHONDIR: all under .jupyter/. */
  env: Record<string, string>;
  versions: Record<string, string>;
}

/** The project root: the nearest ancestor holding flushlab's package.json (works from kernel/ and dist/kernel/). */
export function projectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "flushlab") return dir;
    if (path.dirname(dir) === dir) throw new Error(`flushlab's package.json not found above ${from}`);
  }
}

/** Reads .jupyter/toolchain.json; throws with the fix if setup has not run. */
export function loadToolchain(root: string = projectRoot()): Toolchain {
  const file = path.join(root, ".jupyter", "toolchain.json");
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run setup\` first`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as Toolchain;
}

/** Environment for every Jupyter process: project-local dirs, and this Node first on PATH for tslab's shebang. */
export function jupyterEnv(tc: Toolchain, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const nodeDir = path.dirname(process.execPath);
  return { ...base, ...tc.env, PATH: `${nodeDir}${path.delimiter}${base.PATH ?? ""}` };
}
