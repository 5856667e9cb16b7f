// The nbformat v4 notebook as plain data: read, write, clear outputs, inject parameters (papermill-style).
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { Output } from "./session";

export interface Cell {
  id?: string;
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata: { tags?: string[]; [k: string]: unknown };
  outputs?: Output[];
  execution_count?: number | null;
  attachments?: unknown;
}

export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** The kernelspec the workbook's notebooks run on. */
export const TSLAB_METADATA = {
  kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" },
  language_info: {
    name: "typescript",
    file_extension: ".ts",
    mimetype: "text/typescript",
    codemirror_mode: { name: "javascript", typescript: true },
  },
};

/** Reads and checks a notebook; the error names the file and the reason in one line. */
export function readNotebook(file: string): Notebook {
  const name = path.basename(file);
  let nb: Notebook;
  try {
    nb = JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
  } catch (e) {
    throw new Error(`${name} is not valid JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!nb || typeof nb !== "object" || Array.isArray(nb))
    throw new Error(`${name} is not a notebook (no JSON object at the top)`);
  if (nb.nbformat !== 4)
    throw new Error(`${name} is not an nbformat 4 notebook (nbformat ${JSON.stringify(nb.nbformat)})`);
  if (!Array.isArray(nb.cells)) throw new Error(`${name} has no list of cells`);
  nb.metadata ??= {};
  for (const [i, c] of nb.cells.entries()) {
    const ok =
      c &&
      typeof c === "object" &&
      ["code", "markdown", "raw"].includes(c.cell_type) &&
      (typeof c.source === "string" || (Array.isArray(c.source) && c.source.every((l) => typeof l === "string")));
    if (!ok)
      throw new Error(`${name}: cell ${i + 1} is malformed (needs cell_type code, markdown or raw, and a text source)`);
    c.metadata ??= {};
  }
  return nb;
}

/** Writes the way Jupyter does (1-space indent, trailing newline), so diffs stay small. */
export function writeNotebook(file: string, nb: Notebook): void {
  fs.writeFileSync(file, JSON.stringify(nb, null, 1) + "\n");
}

export function sourceOf(cell: Cell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** nbformat stores text as a list of lines, each keeping its "\n". */
export function toLines(text: string): string[] {
  return text.split(/(?<=\n)/).filter((l) => l.length > 0);
}

/** A copy with every code cell's outputs and execution count cleared: what the runner starts from. */
export function cleared(nb: Notebook): Notebook {
  const copy = structuredClone(nb);
  for (const c of copy.cells) {
    if (c.cell_type !== "code") continue;
    c.outputs = [];
    c.execution_count = null;
  }
  return copy;
}

export function codeCell(source: string, tags: string[], nb: Notebook): Cell {
  const cell: Cell = {
    cell_type: "code",
    execution_count: null,
    metadata: { tags },
    outputs: [],
    source: toLines(source),
  };
  // nbformat 4.5 requires cell ids.
  if (nb.nbformat_minor >= 5) cell.id = randomUUID().slice(0, 8);
  return cell;
}

/** `name=value` pairs from the command line. Values are JSON if they parse (numbers, booleans, arrays), else strings. */
export type Params = Record<string, unknown>;

export function parseParam(arg: string): [string, unknown] {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new Error(`--param wants name=value, got "${arg}"`);
  const name = arg.slice(0, eq).trim();
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`--param name "${name}" is not a TypeScript identifier`);
  const raw = arg.slice(eq + 1);
  try {
    return [name, JSON.parse(raw)];
  } catch {
    return [name, raw];
  }
}

export interface Injection {
  notebook: Notebook;
  /** Index of the injected cell, or -1 when the notebook has no cell tagged `parameters`. */
  at: number;
}

/**
 * Inserts a cell tagged `injected-parameters` right after the cell tagged `parameters`; tslab lets a later cell
 * redeclare `let` bindings, so `let seed = 7;` overrides the default without touching the author's cell.
 */
export function injectParameters(nb: Notebook, params: Params): Injection {
  const names = Object.keys(params);
  if (names.length === 0) return { notebook: nb, at: -1 };
  const i = nb.cells.findIndex((c) => c.cell_type === "code" && (c.metadata.tags ?? []).includes("parameters"));
  if (i < 0) return { notebook: nb, at: -1 };
  const code =
    "// Parameters injected by `npm run workbook -- --param`\n" +
    names.map((n) => `let ${n} = ${JSON.stringify(params[n])};`).join("\n") +
    "\n";
  const copy = structuredClone(nb);
  copy.cells.splice(i + 1, 0, codeCell(code, ["injected-parameters"], copy));
  return { notebook: copy, at: i + 1 };
}

/** The names a parameters cell declares (`let seed = 1;`, `const a = 1, b = 2;`), for warning about unknown --param names. */
export function declaredParameters(source: string): Set<string> {
  const names = new Set<string>();
  const code = source.replace(/\/\/.*$/gm, "");
  for (const m of code.matchAll(/\b(?:let|const|var)\s+([^;]+)/g)) {
    for (const part of m[1].split(",")) {
      const id = /^\s*([A-Za-z_$][\w$]*)/.exec(part);
      if (id) names.add(id[1]);
    }
  }
  return names;
}

/** The notebook's title (its first "# " heading) and a one-line summary (the paragraph after it), for the index. */
export function describeNotebook(nb: Notebook): { title: string | null; summary: string | null } {
  const md = nb.cells.find((c) => c.cell_type === "markdown");
  if (!md) return { title: null, summary: null };
  const lines = sourceOf(md).split("\n");
  const h = lines.findIndex((l) => /^#\s+/.test(l));
  const title = h >= 0 ? lines[h].replace(/^#\s+/, "").trim() : null;
  const after = lines
    .slice(h + 1)
    .join("\n")
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .find((p) => p && !p.startsWith("#"));
  const summary = after ? after.replace(/\s+/g, " ").replace(/^[*_]+|[*_]+$/g, "") : null;
  return { title, summary };
}
