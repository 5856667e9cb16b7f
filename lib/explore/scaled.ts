// explore()'s search when it is asked for more than a verdict: on several cores (`jobs`), with coverage or
// terminal states, or as one shard of a cluster job (`exploreShard`). Runs parts (shard.ts) serially or on
// worker threads (parallel.ts) and hands explore() an ordinary SearchOutcome to minimise.

import type { KernelFn } from "../sim/kernel";
import { ModelError } from "../sim/machine";
import { AnyScenario, Session } from "./scenario";
import { Registry, resolveScenario } from "./registry";
import type { SearchOptions, SearchOutcome } from "./strategy";
import type { StrategyName } from "./strategies/index";
import { SAMPLE_EXECUTIONS } from "./strategies/sample";
import { pctBound } from "./strategies/pct";
import { PartOptions, PartProgress, PartResult, ShardSpec, runPart } from "./shard";
import { autoJobs, searchParallel } from "./parallel";
import { Coverage, coverageOf } from "./coverage";
import { shardFile, ShardResultFile } from "./shard_result";

export interface ParallelInfo {
  /** Workers the search ran on (1: serially). */
  jobs: number;
  /** Why it ran serially when more were asked for, or null. */
  serialReason: string | null;
  /** DFS: the split depth and the prefixes there, handed out to the workers. */
  splitDepth: number | null;
  prefixes: number;
  perWorker: { executions: number; searched: number; elapsedMs: number; cpuMs: number | null }[];
}

export interface ScaledOptions {
  jobs?: number | "auto";
  coverage?: boolean;
  terminalStates?: boolean;
  overrides?: object;
  onPart?: (p: PartProgress) => void;
}

export interface ScaledOutcome {
  outcome: SearchOutcome;
  coverage: Coverage | null;
  parallel: ParallelInfo;
  /** Distinct terminal states reached (terminal.ts), when asked for. */
  terminalStates: number | null;
  part: PartResult;
}

/** `jobs` as a worker count: "auto" is the cores this process may use. */
export function jobsOf(jobs: number | "auto" | undefined): number {
  if (jobs === undefined) return 1;
  if (jobs === "auto") return autoJobs();
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new ModelError(`jobs must be a whole number ≥ 1 or "auto", got ${String(jobs)}`);
  return jobs;
}

function partOptions(strategy: StrategyName, so: SearchOptions, x: ScaledOptions): PartOptions {
  const { onProgress: _p, stateCacheMb: _s, ...settings } = so;
  return {
    strategy,
    ...settings,
    stopOnViolation: true,
    terminal: x.terminalStates === true,
    coverage: x.coverage === true,
  };
}

/** The search explore() runs when jobs, coverage or terminal states are asked for. */
export function searchScaled(
  session: Session,
  strategy: StrategyName,
  so: SearchOptions,
  x: ScaledOptions,
): ScaledOutcome {
  const o = partOptions(strategy, so, x);
  const jobs = jobsOf(x.jobs);
  const onProgress = (p: PartProgress) => {
    x.onPart?.(p);
    so.onProgress(p.executions, p.estimate?.fraction);
  };
  const par =
    jobs > 1
      ? searchParallel(session, o, { jobs, overrides: x.overrides as Record<string, KernelFn>, onProgress })
      : { result: runPart(session, { ...o, onProgress }), jobs: 1, serialReason: null, perWorker: [] };
  const r = par.result;
  const first = r.violations[0] ?? null;
  const maxExecutions = so.maxExecutions ?? (strategy === "dfs" ? null : SAMPLE_EXECUTIONS);
  return {
    outcome: {
      found: first,
      executions: r.executions,
      exhaustive: r.exhaustive,
      stats: {
        sleepBlocked: r.sleepBlocked,
        prunedByBound: r.prunedByBound,
        longestExecution: r.longestExecution,
        ...(strategy === "pct" && r.contexts !== undefined
          ? { contexts: r.contexts, guarantee: pctBound(r.contexts, r.longestExecution, so.depth) }
          : {}),
      },
      bounds: {
        preemptions: strategy === "dfs" ? so.preemptions : null,
        depth: strategy === "pct" ? so.depth : null,
        maxExecutions: maxExecutions === Infinity ? null : maxExecutions,
        seed: strategy === "dfs" ? null : so.seed,
      },
    },
    coverage: x.coverage ? coverageOf(session, r.coverage) : null,
    parallel: {
      jobs: par.jobs,
      serialReason: jobs > 1 ? par.serialReason : null,
      splitDepth: r.splitDepth,
      prefixes: r.prefixes,
      perWorker: par.perWorker,
    },
    terminalStates: x.terminalStates ? r.terminalStates.size : null,
    part: r,
  };
}

export interface ShardOptions {
  variant?: string;
  params?: Record<string, unknown>;
  overrides?: object;
  strategy?: StrategyName;
  preemptions?: number;
  reduce?: boolean;
  depth?: number;
  maxSteps?: number;
  maxExecutions?: number;
  timeLimitMs?: number;
  seed?: number;
  /** Search everything the shard holds instead of stopping at its first violation. */
  all?: boolean;
  splitDepth?: number;
  registry?: Registry;
  onProgress?: (p: PartProgress) => void;
  interrupted?: () => boolean;
}

/** Run shard `shard.index` of `shard.count` of a search and return the file it writes (shard_result.ts). */
export function exploreShard(
  scenario: AnyScenario | string,
  shard: ShardSpec,
  opts: ShardOptions = {},
): ShardResultFile {
  if (
    !Number.isInteger(shard.count) ||
    shard.count < 1 ||
    !Number.isInteger(shard.index) ||
    shard.index < 0 ||
    shard.index >= shard.count
  )
    throw new ModelError(`shard must be i/n with 0 ≤ i < n, got ${shard.index}/${shard.count}`);
  const def = resolveScenario(scenario, opts.registry);
  const session = new Session(def, opts as never);
  const strategy = opts.strategy ?? "dfs";
  const o: PartOptions = {
    strategy,
    preemptions: opts.preemptions ?? session.bounds.preemptions,
    reduce: opts.reduce ?? true,
    depth: opts.depth ?? session.bounds.depth,
    maxSteps: opts.maxSteps ?? session.bounds.maxSteps,
    maxExecutions: opts.maxExecutions,
    deadline: performance.now() + (opts.timeLimitMs ?? Infinity),
    seed: opts.seed ?? 1,
    stopOnViolation: opts.all !== true,
    shard,
    splitDepth: opts.splitDepth,
    terminal: true,
    coverage: true,
    onProgress: opts.onProgress,
    interrupted: opts.interrupted,
  };
  const r = runPart(session, o);
  return shardFile(session, o, shard, r);
}
