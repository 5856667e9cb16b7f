// Scale figures of `npm run bench` (issue 15): per scope, the bounded search, the unbounded stateless search and
// the unbounded stateful one (the DFS state cache): executions, states stored, time, peak RSS; and the RSS of a
// long unbounded stateless DFS at 10^4 vs 10^5 executions. Runs alone: `node dist/lib/cli/bench_scale.js`.

import { Session } from "../explore/scenario";
import { getScenario } from "../explore/registry";
import { dfs } from "../explore/strategies/index";
import "../fixes/index";

export interface ScopeFigure {
  scope: string;
  /** Preemption bound (null: unbounded). */
  preemptions: number | null;
  stateCache: boolean;
  exhaustive: boolean;
  /** Complete executions. */
  executions: number;
  /** Executions cut at a state the cache had explored. */
  cacheHits: number;
  /** States stored in the cache at the end. */
  states: number;
  /** Upper bound on the probability that a state was missed (two states shared a 64-bit fingerprint). */
  missProbability: number;
  violation: string | null;
  wallMs: number;
  /** Highest RSS sampled during the search, MB. */
  peakRssMb: number;
  timeLimitMs: number;
}

export interface RssFigure {
  scope: string;
  /** [executions, rss MB, heapUsed MB, arrayBuffers MB] samples. */
  samples: [number, number, number, number][];
  wallMs: number;
}

export interface ScaleResult {
  scopes: ScopeFigure[];
  /** Unbounded searches with the state cache, given time to finish (split-tlb-flush's three scopes). */
  toTheEnd: ScopeFigure[];
  rss: RssFigure;
}

const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;

/** The scopes of the issue: lazy-mmu-batch after at cpus × pages, split-tlb-flush's fixed sides at their default. */
const SCOPES: { id: string; variant: string; params: Record<string, number> }[] = [
  { id: "lazy-mmu-batch", variant: "after", params: { cpus: 2, pages: 1 } },
  { id: "lazy-mmu-batch", variant: "after", params: { cpus: 2, pages: 2 } },
  { id: "lazy-mmu-batch", variant: "after", params: { cpus: 3, pages: 1 } },
  { id: "lazy-mmu-batch", variant: "after", params: { cpus: 3, pages: 3 } },
  // split-tlb-flush has three CPUs (unmapper, user, writeback) and no CPU parameter: its default is the 3-CPU scope
  { id: "split-tlb-flush", variant: "after", params: {} },
  { id: "split-tlb-flush", variant: "later", params: {} },
  { id: "split-tlb-flush-last-map", variant: "later", params: {} },
];

/** One DFS of a scope, with RSS sampled as it goes. */
export function scopeSearch(
  id: string,
  variant: string,
  params: Record<string, number>,
  o: { preemptions: number; timeLimitMs: number; stateCache: boolean; maxMemoryMb?: number },
): ScopeFigure {
  const sess = new Session(getScenario(id), { variant, params });
  let peak = process.memoryUsage().rss;
  const w0 = performance.now();
  const r = dfs(sess, {
    reduce: true,
    preemptionBound: o.preemptions,
    maxSteps: sess.bounds.maxSteps,
    maxExecutions: Infinity,
    deadline: w0 + o.timeLimitMs,
    stopOnViolation: true,
    stateCache: o.stateCache ? { maxMemoryMb: o.maxMemoryMb ?? 1024 } : undefined,
    onProgress: () => {
      const rss = process.memoryUsage().rss;
      if (rss > peak) peak = rss;
    },
  });
  const rss = process.memoryUsage().rss;
  if (rss > peak) peak = rss;
  const p = Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return {
    scope: `${id}/${variant}${p ? ` ${p}` : ""}`,
    preemptions: o.preemptions === Infinity ? null : o.preemptions,
    stateCache: o.stateCache,
    exhaustive: r.exhaustive,
    executions: r.executions,
    cacheHits: r.cacheHits,
    states: r.cache?.states ?? 0,
    missProbability: r.cache?.missProbability ?? 0,
    violation: r.violation?.info.invariant ?? null,
    wallMs: Math.round(performance.now() - w0),
    peakRssMb: mb(peak),
    timeLimitMs: o.timeLimitMs,
  };
}

/** RSS of one unbounded stateless DFS (lazy-mmu-batch after 3 × 3) at 10^4, 10^5 … executions. */
export function rssGrowth(maxExecutions: number, budgetMs: number): RssFigure {
  const sess = new Session(getScenario("lazy-mmu-batch"), { variant: "after", params: { cpus: 3, pages: 3 } });
  const samples: RssFigure["samples"] = [];
  const sample = (n: number): void => {
    const u = process.memoryUsage();
    samples.push([n, mb(u.rss), mb(u.heapUsed), mb(u.arrayBuffers)]);
  };
  let next = 10_000;
  const t0 = performance.now();
  const r = dfs(sess, {
    reduce: true,
    preemptionBound: Infinity,
    maxSteps: sess.bounds.maxSteps,
    maxExecutions,
    deadline: t0 + budgetMs,
    stopOnViolation: false,
    onProgress: (n) => {
      if (n >= next) {
        sample(n);
        next *= 10;
      }
    },
  });
  if (samples.length === 0 || samples[samples.length - 1][0] !== r.executions) sample(r.executions);
  return {
    scope: "lazy-mmu-batch/after cpus=3,pages=3, unbounded, stateless",
    samples,
    wallMs: Math.round(performance.now() - t0),
  };
}

export function runScale(opts: { quick?: boolean; log: (s: string) => void }): ScaleResult {
  const log = opts.log;
  const limit = opts.quick ? 500 : 3_000;
  const res: ScaleResult = { scopes: [], toTheEnd: [], rss: { scope: "", samples: [], wallMs: 0 } };
  log(
    `\nscale: bounded (scenario default), unbounded stateless, unbounded with the state cache (${limit / 1000} s each):`,
  );
  for (const s of SCOPES) {
    const bound = new Session(getScenario(s.id), { variant: s.variant, params: s.params }).bounds.preemptions;
    for (const [preemptions, stateCache] of [
      [bound, false],
      [Infinity, false],
      [Infinity, true],
    ] as const) {
      const f = scopeSearch(s.id, s.variant, s.params, { preemptions, timeLimitMs: limit, stateCache });
      res.scopes.push(f);
      log(
        `  ${f.scope.padEnd(42)} ${(f.preemptions === null ? "unbounded" : `≤${f.preemptions} pre.`).padEnd(9)} ${f.stateCache ? "cache    " : "stateless"} ${f.exhaustive ? "exhaustive    " : f.violation ? `found ${f.violation}` : "NOT exhaustive"} ${String(f.executions).padStart(8)} exec ${String(f.cacheHits).padStart(6)} hits ${String(f.states).padStart(7)} states ${String(f.wallMs).padStart(6)} ms  peak RSS ${f.peakRssMb} MB`,
      );
    }
  }
  const endLimit = opts.quick ? 5_000 : 180_000;
  log(`\nscale: unbounded with the state cache, to the end (${endLimit / 1000} s each at most):`);
  for (const s of SCOPES.filter((x) => x.id.startsWith("split-tlb-flush"))) {
    const f = scopeSearch(s.id, s.variant, s.params, {
      preemptions: Infinity,
      timeLimitMs: endLimit,
      stateCache: true,
    });
    res.toTheEnd.push(f);
    log(
      `  ${f.scope.padEnd(42)} ${f.exhaustive ? "exhaustive    " : f.violation ? `found ${f.violation}` : "NOT exhaustive"} ${String(f.executions).padStart(8)} exec ${String(f.cacheHits).padStart(6)} hits ${String(f.states).padStart(7)} states ${String(f.wallMs).padStart(7)} ms  peak RSS ${f.peakRssMb} MB`,
    );
  }
  log(`\nRSS of one unbounded stateless DFS (lazy-mmu-batch after 3 × 3), by executions:`);
  res.rss = rssGrowth(opts.quick ? 10_000 : 100_000, opts.quick ? 3_000 : 30_000);
  for (const [n, rss, heap, ab] of res.rss.samples)
    log(`  ${String(n).padStart(8)} executions: rss ${rss} MB, heapUsed ${heap} MB, arrayBuffers ${ab} MB`);
  return res;
}

if (require.main === module) {
  const quick = process.argv.includes("--quick");
  const res = runScale({ quick, log: (s) => console.log(s) });
  if (process.argv.includes("--json")) console.log(JSON.stringify(res));
}
