// The model's own source, for notebooks and write-ups: a modelled function as written in lib/ (with its doc
// comment), and a fix as a diff of the model — the functions two variants install differently, as unified
// diffs with @@ hunks (jsdiff).

import { structuredPatch } from "diff";
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

/** One hunk of a unified diff: where it starts on each side (1-based) and its lines, each `" "`, `-` or `+` first. */
export interface DiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}

/**
 * The hunks of a line diff (jsdiff), with `context` unchanged lines around each change; `firstA`/`firstB` are the
 * line numbers of the texts' first lines in their files, so the `@@` headers point into the files themselves.
 */
export function diffHunks(a: string, b: string, context = 3, firstA = 1, firstB = 1): DiffHunk[] {
  const patch = structuredPatch("a", "b", withNewline(a), withNewline(b), "", "", { context });
  return patch.hunks.map((h) => ({
    oldStart: h.oldStart + firstA - 1,
    oldLines: h.oldLines,
    newStart: h.newStart + firstB - 1,
    newLines: h.newLines,
    lines: h.lines.filter((l) => !l.startsWith("\\")),
  }));
}

// Both texts end in a newline, so a last line that differs is not reported as "no newline at end of file".
const withNewline = (t: string) => (t.endsWith("\n") ? t : t + "\n");

/** A unified diff as `diff -u` prints it: `---`/`+++` labels, then `@@ -a,n +b,m @@` hunks with context. */
export function unifiedDiff(
  a: string,
  b: string,
  labelA = "before",
  labelB = "after",
  context = 3,
  firstA = 1,
  firstB = 1,
): string {
  const out = [`--- ${labelA}`, `+++ ${labelB}`];
  for (const h of diffHunks(a, b, context, firstA, firstB)) {
    out.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines);
  }
  return out.join("\n");
}

export interface FunctionChange {
  /** The kernel function name both variants call (`k.<name>`). */
  name: string;
  a: FunctionSource;
  b: FunctionSource;
  /** A unified diff whose `@@` line numbers are those of each function's file. */
  diff: string;
  hunks: DiffHunk[];
}

/** The file line of a function source's first text line (its doc comment's), from its declaration's line. */
function firstLineOf(f: FunctionSource): number {
  if (!f.line) return 1;
  const decl = f.text.split("\n").findIndex((l) => /^export function/.test(l));
  return f.line - Math.max(0, decl);
}

/** Two functions' sources as one change (what variantDiff lists, for any pair: an older era, a renamed function). */
export function compareFunctions(
  sa: FunctionSource,
  sb: FunctionSource,
  labelA = "before",
  labelB = "after",
  name = sa.name === sb.name ? sa.name : `${sa.name} → ${sb.name}`,
): FunctionChange {
  const at = (f: FunctionSource) => (f.file ? `${f.file}:${f.line} ` : "");
  return {
    name,
    a: sa,
    b: sb,
    diff: unifiedDiff(
      sa.text,
      sb.text,
      `${labelA}: ${at(sa)}${sa.name}`,
      `${labelB}: ${at(sb)}${sb.name}`,
      3,
      firstLineOf(sa),
      firstLineOf(sb),
    ),
    hunks: diffHunks(sa.text, sb.text, 3, firstLineOf(sa), firstLineOf(sb)),
  };
}

/** The fix as a diff of the model: every function variant `a` and `b` install differently. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any scenario: variants are named by string here
export function variantDiff(def: ScenarioDef<any, any>, a: string, b: string): FunctionChange[] {
  const ia = new Session(def, { variant: a }).k.installed;
  const ib = new Session(def, { variant: b }).k.installed;
  const out: FunctionChange[] = [];
  for (const name of Object.keys(ia).sort()) {
    if (ia[name] === ib[name]) continue;
    out.push(compareFunctions(functionSource(ia[name]), functionSource(ib[name]), a, b, name));
  }
  return out;
}
