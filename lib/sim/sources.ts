// Where each modelled function is written, by identity: the index of every modelled subsystem and fix
// registers the modules its op tables are built from. Kernel names repeat across eras and architectures
// (tlb_flush is powerpc's and x86's, zap_pte_range is v3.14's and 1cf35d47's), so a name alone never says
// which source a variant installs; the function object does.

import * as path from "path";

const fileOf = new WeakMap<object, string>();

/**
 * Record that every function exported by each module of `modules` is written in `dir/<key>.ts`
 * (call as `defineSources(__dirname, { tlb_batch: batch, hash })`; under dist/ the path is mapped back to lib/).
 */
export function defineSources(dir: string, modules: Record<string, object>): void {
  for (const [name, ns] of Object.entries(modules)) {
    const file = path.join(dir, `${name}.ts`);
    for (const v of Object.values(ns)) if (typeof v === "function" && !fileOf.has(v)) fileOf.set(v, file);
  }
}

/** The absolute path of the file `fn` was registered from (a `.ts` path, possibly under dist/), or null. */
export function sourceFileOf(fn: object): string | null {
  return fileOf.get(fn) ?? null;
}

const partsOf = new WeakMap<object, readonly object[]>();

/** Record that `fn` is written as `parts` (a wrapper that picks one of them at run time, like an arch hook). */
export function defineParts(fn: object, parts: readonly object[]): void {
  partsOf.set(fn, parts);
}

/** The functions `fn` was recorded as written from, or null. */
export function sourcePartsOf(fn: object): readonly object[] | null {
  return partsOf.get(fn) ?? null;
}
