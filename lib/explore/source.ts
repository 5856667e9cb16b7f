// The model's own source, for notebooks and write-ups: a modelled function as written in lib/ (with its doc
// comment), and a fix as a diff of the model — the functions two variants install differently, line by line.

import type { KernelFn } from "../sim/kernel";
import { FunctionSource, declarationOf, extract, libFiles } from "./model_text";
import { ScenarioDef, Session } from "./scenario";

export type { FunctionSource } from "./model_text";

/**
 * The source of a modelled function. Given the function, the file it was registered from (by identity, so
 * powerpc's tlb_flush is never shown for x86's); given a name, the one lib/ function of that name (an error
 * if several files define it: pass the function). A function defined outside lib/ (a notebook cell, an
 * exercise answer) is shown as its own text.
 */
export function functionSource(fn: KernelFn | string): FunctionSource {
  if (typeof fn === "string") {
    const hits = libFiles()
      .map((f) => extract(f, fn))
      .filter((x): x is FunctionSource => x !== null);
    if (hits.length === 1) return hits[0];
    if (hits.length === 0) throw new Error(`no modelled function named "${fn}" in lib/`);
    throw new Error(
      `"${fn}" is defined in ${hits.map((h) => h.file).join(", ")}: pass the function itself to say which`,
    );
  }
  return declarationOf(fn) ?? { name: fn.name, file: "", line: 0, text: fn.toString() };
}

/** A line diff of two texts, unified style (+ added, - removed, two spaces unchanged). */
export function unifiedDiff(a: string, b: string, labelA = "before", labelB = "after"): string {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
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
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any scenario: variants are named by string here
export function variantDiff(def: ScenarioDef<any, any>, a: string, b: string): FunctionChange[] {
  const ia = new Session(def, { variant: a }).k.installed;
  const ib = new Session(def, { variant: b }).k.installed;
  const out: FunctionChange[] = [];
  for (const name of Object.keys(ia).sort()) {
    if (ia[name] === ib[name]) continue;
    const sa = functionSource(ia[name]);
    const sb = functionSource(ib[name]);
    out.push({
      name,
      a: sa,
      b: sb,
      diff: unifiedDiff(
        sa.text,
        sb.text,
        `${a}: ${sa.file}:${sa.line} ${sa.name}`,
        `${b}: ${sb.file}:${sb.line} ${sb.name}`,
      ),
    });
  }
  return out;
}
