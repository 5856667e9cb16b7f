// Turning executed notebooks into deliverables: nbformat validation + signing (so the UI trusts their plots)
// and HTML through nbconvert, which only converts here and never executes.
import { execFileSync } from "child_process";
import * as path from "path";
import { jupyterEnv, type Toolchain } from "./paths";

const SIGN_PY = `
import sys, nbformat
from nbformat.sign import NotebookNotary
notary = NotebookNotary()  # secret and signature db in JUPYTER_DATA_DIR (project-local), like the UI server's
for p in sys.argv[1:]:
    nb = nbformat.read(p, as_version=4)
    nbformat.validate(nb)
    notary.sign(nb)
`;

/** Validates and signs executed notebooks with the project-local notary; throws on an invalid notebook. */
export function signNotebooks(tc: Toolchain, files: string[]): void {
  if (files.length === 0) return;
  execFileSync(tc.python, ["-c", SIGN_PY, ...files], { env: jupyterEnv(tc), stdio: ["ignore", "pipe", "pipe"] });
}

/** Converts executed notebooks to HTML in `outDir` (one Python start for all of them). */
export function exportHtml(tc: Toolchain, files: string[], outDir: string): void {
  if (files.length === 0) return;
  execFileSync(tc.python, ["-m", "nbconvert", "--to", "html", "--ExecutePreprocessor.enabled=False", `--output-dir=${outDir}`, ...files],
    { env: jupyterEnv(tc), stdio: ["ignore", "pipe", "pipe"], cwd: path.dirname(files[0]) });
}

/** The useful part of a failed child process's stderr. */
export function childError(e: unknown): string {
  const err = e as { stderr?: Buffer; message?: string };
  const text = err.stderr?.toString().trim() ?? "";
  return text ? text.split("\n").slice(-8).join("\n") : (err.message ?? String(e));
}
