// Turning executed notebooks into deliverables, each on its own (one bad notebook never costs the others):
// nbformat validation + signing (so the UI trusts their plots) and HTML through nbconvert with the project's
// template (kernel/nbconvert/flushlab), which only converts here and never executes. The pages load MathJax and
// plotly.js from _static/ next to them (one copy per out/, from npm), so out/ alone renders offline.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { plotlyLibraryFile } from "./display/plotly";
import { jupyterEnv, type Toolchain } from "./paths";

/** Files every page needs, relative to out/, and where they come from. */
export function staticAssets(root: string): Array<{ rel: string; from: () => string | Buffer }> {
  const mathjax = path.dirname(require.resolve("mathjax/package.json", { paths: [root] }));
  const copy = (f: string) => () => fs.readFileSync(path.join(mathjax, "es5", f));
  return [
    { rel: "_static/mathjax/tex-svg-full.js", from: copy("tex-svg-full.js") },
    { rel: "_static/mathjax/ui/safe.js", from: copy("ui/safe.js") },
    { rel: "_static/plotly.js", from: plotlyLibraryFile },
  ];
}

const EXPORT_PY = `
import json, re, sys, nbformat
from nbformat.sign import NotebookNotary
from nbconvert import HTMLExporter
job = json.load(sys.stdin)
notary = NotebookNotary()  # secret and signature db in JUPYTER_DATA_DIR (project-local), like the UI server's
exporter = HTMLExporter(template_name="flushlab", extra_template_basedirs=[job["templates"]])
# The plotly.js bundle inlined in a notebook's first plot: the page loads the shared copy instead.
bundle = re.compile(r'<script type="text/javascript">\\(function\\(module, exports, define\\)\\{\\n.*?\\n\\}\\)\\.call\\(window\\);', re.S)
shared = '<script src="' + job["plotly"] + '"></script>\\n<script type="text/javascript">'
for item in job["items"]:
    try:
        nb = nbformat.read(item["ipynb"], as_version=4)
        nbformat.validate(nb)
        notary.sign(nb)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                html = out.get("data", {}).get("text/html")
                if isinstance(html, str) and "(function(module, exports, define){" in html:
                    out["data"]["text/html"] = bundle.sub(lambda m: shared, html, count=1)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": item["title"]}})
        with open(item["html"], "w", encoding="utf-8") as f:
            f.write(body)
        print(json.dumps({"ipynb": item["ipynb"], "ok": True}), flush=True)
    except Exception as e:
        print(json.dumps({"ipynb": item["ipynb"], "ok": False, "error": (type(e).__name__ + ": " + str(e)).strip().split("\\n")[0][:300]}), flush=True)
`;

const SIGN_PY = `
import sys, nbformat
from nbformat.sign import NotebookNotary
notary = NotebookNotary()
for p in sys.argv[1:]:
    nb = nbformat.read(p, as_version=4)
    nbformat.validate(nb)
    notary.sign(nb)
`;

/** Validates and signs notebooks with the project-local notary (what the UI server checks); throws on an invalid one. */
export function signNotebooks(tc: Toolchain, files: string[]): void {
  if (files.length === 0) return;
  execFileSync(tc.python, ["-c", SIGN_PY, ...files], { env: jupyterEnv(tc), stdio: ["ignore", "pipe", "pipe"] });
}

export interface ExportItem {
  ipynb: string;
  html: string;
  title: string;
}

/** Validates, signs and converts each notebook; returns per notebook null (done) or the one-line reason it failed. */
export function exportNotebooks(
  tc: Toolchain,
  items: ExportItem[],
  plotlySrc = "_static/plotly.js",
): Map<string, string | null> {
  const result = new Map<string, string | null>();
  if (items.length === 0) return result;
  const job = { templates: path.join(tc.root, "kernel", "nbconvert"), plotly: plotlySrc, items };
  const stdout = execFileSync(tc.python, ["-c", EXPORT_PY], {
    env: jupyterEnv(tc),
    input: JSON.stringify(job),
    stdio: ["pipe", "pipe", "pipe"],
    maxBuffer: 16 << 20,
  }).toString();
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const r = JSON.parse(line) as { ipynb: string; ok: boolean; error?: string };
    result.set(r.ipynb, r.ok ? null : (r.error ?? "failed"));
  }
  for (const it of items) if (!result.has(it.ipynb)) result.set(it.ipynb, "the exporter stopped before this notebook");
  return result;
}

/** The useful part of a failed child process's stderr. */
export function childError(e: unknown): string {
  const err = e as { stderr?: Buffer; message?: string };
  const text = err.stderr?.toString().trim() ?? "";
  return text ? text.split("\n").slice(-8).join("\n") : (err.message ?? String(e));
}
