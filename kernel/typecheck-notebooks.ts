// `npm run typecheck`'s notebook part: every notebook's code cells, in order, compiled as one TypeScript file
// against the built library (dist/), with tslab's own TypeScript and options — what a user's tslab would see.
// A cell that only a later kernel could run (an exercise left blank, say) must still type-check.
import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "./paths";
import { notebookCheckOptions, tslabTypescript } from "./tslab-options";

interface Cell {
  cell_type: string;
  source: string | string[];
}

const root = projectRoot();
const ts = tslabTypescript(root);

function cellsOf(file: string): string {
  const nb = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: Cell[] };
  const code = nb.cells
    .filter((c) => c.cell_type === "code")
    .map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source));
  // Each cell in its own block would hide its declarations from later cells; tslab keeps them, so join them.
  return code.map((src, i) => `// ---- cell ${i + 1}\n${src}`).join("\n") + "\nexport {};\n";
}

function main(): number {
  const dir = path.resolve(root, process.argv[2] ?? "notebooks");
  const work = path.join(root, ".jupyter", "typecheck", path.basename(dir));
  fs.mkdirSync(work, { recursive: true });
  if (!fs.existsSync(path.join(root, "dist", "lib", "index.d.ts"))) {
    console.error("typecheck-notebooks: no dist/: run npm run build");
    return 2;
  }
  if (!fs.existsSync(path.join(root, "node_modules", "flushlab"))) {
    console.error("typecheck-notebooks: node_modules/flushlab is missing: run npm install (its prepare step links it)");
    return 2;
  }
  const files: string[] = [];
  for (const f of fs
    .readdirSync(dir)
    .filter((x) => x.endsWith(".ipynb"))
    .sort()) {
    const out = path.join(work, f.replace(/\.ipynb$/, ".ts"));
    fs.writeFileSync(out, cellsOf(path.join(dir, f)));
    files.push(out);
  }
  // tslab's options (its converter), strict; the shipped .d.ts are checked by test/kernel/typecheck.test.ts.
  const program = ts.createProgram(files, notebookCheckOptions(ts));
  const diags = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => !d.file || files.includes(path.resolve(d.file.fileName)));
  for (const d of diags) {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    let cell = "";
    if (d.file && where) {
      const before = d.file.text.split("\n").slice(0, where.line + 1);
      const marker = [...before].reverse().find((l) => l.startsWith("// ---- cell "));
      cell = marker ? ` (${marker.slice(8)})` : "";
    }
    const name = d.file
      ? path.relative(root, path.join(dir, path.basename(d.file.fileName).replace(/\.ts$/, ".ipynb")))
      : "";
    console.error(`${name}${cell}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  }
  console.log(`typecheck-notebooks: ${files.length} notebook(s), ${diags.length} error(s)`);
  return diags.length === 0 ? 0 : 1;
}

process.exit(main());
