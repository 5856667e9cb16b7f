// A shard's result as a JSON file, and `flushlab merge`: the parts of one search combined into one verdict.
// Exhaustive only if all n shards are present and each was; the first violation by the search's stable order
// (prefix, then ordinal within it); parts of different models, parameters or searches refused by fingerprint.

import { fnv1a } from "../sim/kernel";
import { encodeSchedule } from "./schedule";
import type { Session } from "./scenario";
import type { PartOptions, PartResult, ShardSpec } from "./shard";

export const SHARD_FORMAT = "flushlab-shard/1";

export interface ShardViolation {
  /** Place in the search's stable order: (prefix or seed ordinal, ordinal within it). */
  key: [number, number];
  invariant: string;
  message: string;
  schedule: string;
  steps: number;
  preemptions: number;
}

export interface ShardResultFile {
  format: typeof SHARD_FORMAT;
  /** The model's fingerprint (the schedule strings' one: scenario, variant, params, machine, every function's TS). */
  fingerprint: string;
  /** Hash of the search settings every shard of one search shares (strategy, bounds, split, shard count). */
  search: string;
  scenario: string;
  variant: string;
  params: Record<string, unknown>;
  strategy: string;
  bounds: {
    /** "inf": no preemption bound. */
    preemptions: number | "inf";
    reduce: boolean;
    depth: number;
    maxSteps: number;
    maxExecutions: number | null;
    seed: number;
    stopOnViolation: boolean;
  };
  shard: {
    index: number;
    count: number;
    splitDepth: number | null;
    /** Under a bound: the depth where the not-yet-preempted path is split (shard.ts firstDepthFor). */
    firstDepth: number | null;
    prefixes: number;
    searched: number;
  };
  exhaustive: boolean;
  executions: number;
  elapsedMs: number;
  violations: ShardViolation[];
  violationCounts: Record<string, number>;
  /** Hashes of the terminal states reached (terminal.ts), sorted. */
  terminalStates: string[];
  /** Step-site hits by `fn\0what` (coverage.ts). */
  coverage: Record<string, number>;
  stats: { sleepBlocked: number; prunedByBound: number; longestExecution: number };
}

/** The settings every shard of one search must share, as a hash. */
function searchKey(f: Omit<ShardResultFile, "search">): string {
  const s = JSON.stringify([
    f.fingerprint,
    f.strategy,
    f.bounds,
    f.shard.count,
    f.shard.splitDepth,
    f.shard.firstDepth,
  ]);
  return fnv1a(s).toString(16).padStart(8, "0");
}

/** A part's result as the file a shard writes. */
export function shardFile(session: Session, o: PartOptions, shard: ShardSpec, r: PartResult): ShardResultFile {
  const header = { scenario: session.def.id, variant: session.variant, fingerprint: session.fingerprint };
  const f: Omit<ShardResultFile, "search"> = {
    format: SHARD_FORMAT,
    fingerprint: session.fingerprint,
    scenario: session.def.id,
    variant: session.variant,
    params: session.params as Record<string, unknown>,
    strategy: o.strategy,
    bounds: {
      preemptions: o.strategy === "dfs" ? (o.preemptions === Infinity ? "inf" : o.preemptions) : 0,
      reduce: o.reduce,
      depth: o.depth,
      maxSteps: o.maxSteps,
      maxExecutions: o.maxExecutions ?? null,
      seed: o.strategy === "dfs" ? 0 : o.seed,
      stopOnViolation: o.stopOnViolation !== false,
    },
    shard: {
      index: shard.index,
      count: shard.count,
      splitDepth: r.splitDepth,
      firstDepth: r.firstDepth,
      prefixes: r.prefixes,
      searched: r.searched,
    },
    exhaustive: r.exhaustive,
    executions: r.executions,
    elapsedMs: r.elapsedMs,
    violations: r.violations.map((v) => ({
      key: v.key,
      invariant: v.info.invariant,
      message: v.info.message,
      schedule: encodeSchedule(header, v.decisions),
      steps: v.steps,
      preemptions: v.preemptions,
    })),
    violationCounts: r.violationCounts,
    terminalStates: [...r.terminalStates].sort(),
    coverage: r.coverage,
    stats: { sleepBlocked: r.sleepBlocked, prunedByBound: r.prunedByBound, longestExecution: r.longestExecution },
  };
  return { ...f, search: searchKey(f) };
}

/** A merge input that is not a shard result of this search: the message names the file and the difference. */
export class MergeError extends Error {}

export interface Merged {
  scenario: string;
  variant: string;
  params: Record<string, unknown>;
  strategy: string;
  fingerprint: string;
  count: number;
  present: number[];
  missing: number[];
  /** Shard index → files beyond the first that carried it (ignored). */
  duplicates: { index: number; files: string[] }[];
  exhaustive: boolean;
  executions: number;
  violation: (ShardViolation & { shard: number; file: string }) | null;
  violationCounts: Record<string, number>;
  terminalStates: number;
  /** Hash of the sorted set of terminal states: equal sets, equal hashes. */
  terminalStatesHash: string;
  coverage: Record<string, number>;
}

/** Parse one file's text as a shard result (a MergeError naming `name` if it is not one). */
export function parseShardFile(name: string, text: string): ShardResultFile {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new MergeError(`${name}: not JSON (${(e as Error).message})`);
  }
  const f = j as Partial<ShardResultFile> | null;
  if (f === null || typeof f !== "object" || f.format !== SHARD_FORMAT)
    throw new MergeError(`${name}: not a flushlab shard result (no "format": "${SHARD_FORMAT}")`);
  for (const k of ["fingerprint", "search", "scenario", "variant", "strategy"] as const)
    if (typeof f[k] !== "string") throw new MergeError(`${name}: field "${k}" missing or not a string`);
  const s = f.shard;
  if (!s || !Number.isInteger(s.index) || !Number.isInteger(s.count) || s.index < 0 || s.index >= s.count)
    throw new MergeError(`${name}: field "shard" must hold index in [0, count)`);
  if (!Array.isArray(f.terminalStates) || !Array.isArray(f.violations) || typeof f.executions !== "number")
    throw new MergeError(`${name}: fields "terminalStates", "violations", "executions" missing`);
  return f as ShardResultFile;
}

const before = (a: [number, number], b: [number, number]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/** Merge shard results (name → parsed file); throws MergeError when they are not parts of one search. */
export function mergeShards(files: { name: string; result: ShardResultFile }[]): Merged {
  if (files.length === 0) throw new MergeError("no shard results given");
  const ref = files[0];
  for (const { name, result: f } of files.slice(1)) {
    const r = ref.result;
    const differs = (what: string, a: unknown, b: unknown) =>
      new MergeError(
        `${name}: ${what} ${JSON.stringify(b)}, but ${ref.name} has ${JSON.stringify(a)}: not parts of one search`,
      );
    if (f.scenario !== r.scenario) throw differs("scenario", r.scenario, f.scenario);
    if (f.variant !== r.variant) throw differs("variant", r.variant, f.variant);
    if (JSON.stringify(f.params) !== JSON.stringify(r.params)) throw differs("params", r.params, f.params);
    if (f.fingerprint !== r.fingerprint)
      throw new MergeError(
        `${name}: a different model (fingerprint ${f.fingerprint}, ${ref.name} has ${r.fingerprint}): a modelled function or the scenario changed between the runs`,
      );
    if (f.strategy !== r.strategy) throw differs("strategy", r.strategy, f.strategy);
    if (JSON.stringify(f.bounds) !== JSON.stringify(r.bounds)) throw differs("bounds", r.bounds, f.bounds);
    if (f.shard.count !== r.shard.count) throw differs("shard count", r.shard.count, f.shard.count);
    if (f.shard.splitDepth !== r.shard.splitDepth) throw differs("split depth", r.shard.splitDepth, f.shard.splitDepth);
    if (f.search !== r.search) throw differs("search settings (hash)", r.search, f.search);
  }
  const count = ref.result.shard.count;
  const byIndex = new Map<number, { name: string; result: ShardResultFile }>();
  const dup = new Map<number, string[]>();
  for (const x of files) {
    const i = x.result.shard.index;
    if (byIndex.has(i)) dup.set(i, [...(dup.get(i) ?? []), x.name]);
    else byIndex.set(i, x);
  }
  const present = [...byIndex.keys()].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!byIndex.has(i)) missing.push(i);
  const states = new Set<string>();
  const violationCounts: Record<string, number> = {};
  const coverage: Record<string, number> = {};
  let violation: Merged["violation"] = null;
  let executions = 0;
  let allExhaustive = true;
  for (const i of present) {
    const { name, result: f } = byIndex.get(i)!;
    executions += f.executions;
    if (!f.exhaustive) allExhaustive = false;
    for (const s of f.terminalStates) states.add(s);
    for (const [k, n] of Object.entries(f.violationCounts ?? {})) violationCounts[k] = (violationCounts[k] ?? 0) + n;
    for (const [k, n] of Object.entries(f.coverage ?? {})) coverage[k] = (coverage[k] ?? 0) + n;
    for (const v of f.violations)
      if (violation === null || before(v.key, violation.key)) violation = { ...v, shard: i, file: name };
  }
  const sorted = [...states].sort();
  return {
    scenario: ref.result.scenario,
    variant: ref.result.variant,
    params: ref.result.params,
    strategy: ref.result.strategy,
    fingerprint: ref.result.fingerprint,
    count,
    present,
    missing,
    duplicates: [...dup.entries()].map(([index, fs]) => ({ index, files: fs })),
    exhaustive: allExhaustive && missing.length === 0 && violation === null,
    executions,
    violation,
    violationCounts,
    terminalStates: sorted.length,
    terminalStatesHash: fnv1a(sorted.join(",")).toString(16).padStart(8, "0"),
    coverage,
  };
}
