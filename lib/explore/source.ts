// The model's own source, for notebooks and write-ups: a modelled function as written in lib/ (with its doc
// comment), and a fix as a diff of the model — the functions two variants install differently, line by line.

import * as fs from "fs";
import * as path from "path";
import type { KernelFn } from "../sim/kernel";
import { ScenarioDef, Session } from "./scenario";

export interface FunctionSource {
  name: string;
  /** Path relative to the project root, e.g. `lib/powerpc/tlb_batch.ts`; "" for a function defined elsewhere. */
  file: string;
  line: number;
  text: string;
}

let libDir: string | null | undefined;
let files: { rel: string; text: string }[] | null = null;

function findLib(): string | null {
  if (libDir !== undefined) return libDir;
  for (const c of [path.resolve(__dirname, ".."), path.resolve(__dirname, "..", "..", "..", "lib")]) {
    if (fs.existsSync(path.join(c, "sim", "machine.ts"))) return (libDir = c);
  }
  return (libDir = null);
}

function sources(): { rel: string; text: string }[] {
  if (files) return files;
  files = [];
  const lib = findLib();
  if (!lib) return files;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) files!.push({ rel: path.relative(path.dirname(lib), p), text: fs.readFileSync(p, "utf8") });
    }
  };
  walk(lib);
  return files;
}

/** The source of a modelled function: from lib/ when it is the library's, else its compiled text. */
export function functionSource(fn: KernelFn | string): FunctionSource {
  const name = typeof fn === "string" ? fn : fn.name;
  const re = new RegExp(`^export function\\*? ${name.replace(/\$/g, "\\$")}\\(`, "m");
  for (const f of sources()) {
    const m = re.exec(f.text);
    if (!m) continue;
    const lines = f.text.split("\n");
    let start = f.text.slice(0, m.index).split("\n").length - 1;
    const declLine = start;
    // Take the doc comment directly above.
    if (start > 0 && lines[start - 1].trim().endsWith("*/")) {
      let j = start - 1;
      while (j > 0 && !lines[j].trim().startsWith("/**") && !lines[j].trim().startsWith("//")) j--;
      start = j;
    } else while (start > 0 && lines[start - 1].trim().startsWith("//")) start--;
    let end = declLine;
    while (end < lines.length && lines[end] !== "}") end++;
    return { name, file: f.rel, line: declLine + 1, text: lines.slice(start, end + 1).join("\n") };
  }
  if (typeof fn === "string") throw new Error(`no modelled function named "${fn}" in lib/`);
  return { name, file: "", line: 0, text: fn.toString() };
}

/** A line diff of two texts, unified style (+ added, - removed, two spaces unchanged). */
export function unifiedDiff(a: string, b: string, labelA = "before", labelB = "after"): string {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [`--- ${labelA}`, `+++ ${labelB}`];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      out.push(`  ${x[i]}`);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) out.push(`- ${x[i++]}`);
    else out.push(`+ ${y[j++]}`);
  }
  return out.join("\n");
}

export interface FunctionChange {
  /** The kernel function name both variants call (`k.<name>`). */
  name: string;
  a: FunctionSource;
  b: FunctionSource;
  diff: string;
}

/** The fix as a diff of the model: every function variant `a` and `b` install differently. */
export function variantDiff(def: ScenarioDef<any, any>, a: string, b: string): FunctionChange[] {
  const ia = new Session(def, { variant: a }).k.installed;
  const ib = new Session(def, { variant: b }).k.installed;
  const out: FunctionChange[] = [];
  for (const name of Object.keys(ia).sort()) {
    if (ia[name] === ib[name]) continue;
    const sa = functionSource(ia[name]);
    const sb = functionSource(ib[name]);
    out.push({ name, a: sa, b: sb, diff: unifiedDiff(sa.text, sb.text, `${a}: ${sa.file}:${sa.line} ${sa.name}`, `${b}: ${sb.file}:${sb.line} ${sb.name}`) });
  }
  return out;
}
