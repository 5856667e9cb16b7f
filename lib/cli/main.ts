// The flushlab command line (commander): list scenarios, explore one, replay a schedule string, run a timed
// workload, write a race report (exit 1: it reports a violation), run the benchmarks.
// Exit codes: 0 clean and exhausted, 1 violation found, 2 bad input, 3 budget ran out without a verdict,
// 130 interrupted (Ctrl-C; the partial summary is printed).

import { Command, CommanderError, Option } from "commander";
import * as fs from "fs";
import * as path from "path";
import { explore, replay, ExploreResult } from "../explore/explore";
import { scenarios, getScenario } from "../explore/registry";
import { STRATEGIES, STRATEGY_NAMES, StrategyName } from "../explore/strategies/index";
import type { ExploreOptions, ExploreProgress } from "../explore/explore";
import { ScheduleError } from "../explore/schedule";
import { ModelError } from "../sim/machine";
import type { Violation } from "../sim/trace";
import { once, wholeNumber, collect, paramsFlag, UsageError } from "./args";
import { BENCH_SECTIONS, runBench, type BenchSection } from "./bench";
// The race report lives with the notebook display code it reuses (timeline, diff).
import { buildReport, reportHtml, reportText } from "../../kernel/report";
import { runInWorker, isCliWorker, cliWorker } from "./interrupt";
import { runTimed } from "../explore/timed";
import { shardCmd, mergeCmd, parseShard, parseJobs, estimatePart } from "./scale";
import { coverageText } from "../explore/coverage";
import type { ShardSpec } from "../explore/shard";
import { modesOf, type AnyScenario, type ScenarioMode } from "../explore/scenario";
import type { ParamSchema } from "../explore/params";
import { classroomCommands, runClassroomJob, type ClassroomJob, type Launch } from "../../kernel/classroom/cli";
import "../examples/index"; // adds the example scenarios to the default registry
import "../fixes/index"; // adds every fix's scenarios to the default registry

/** explore's time limit when --time-limit is not given (explore() defaults to the same). */
const DEFAULT_TIME_LIMIT_S = 60;

/** The package's version, from the package.json above this file (lib/cli or dist/lib/cli). */
export function version(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const f = path.join(d, "package.json");
    if (fs.existsSync(f)) {
      const pkg = JSON.parse(fs.readFileSync(f, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "flushlab") return pkg.version ?? "unknown";
    }
  }
  return "unknown";
}

type Out = (s: string) => void;

/** Why a search stopped: what `--json` says as `stopped`, and what the summary explains. */
type Stop = "violation" | "exhausted" | "max-executions" | "time-limit" | "interrupted" | "replayed";

function stopOf(r: ExploreResult, interrupted: boolean): Stop {
  if (r.strategy === "replay") return "replayed";
  if (r.violation) return "violation";
  if (interrupted) return "interrupted";
  if (r.exhaustive) return "exhausted";
  if (r.bounds.maxExecutions !== null && r.executions >= r.bounds.maxExecutions) return "max-executions";
  return "time-limit";
}

function exitCodeOf(r: ExploreResult, interrupted = false): number {
  if (interrupted) return 130;
  if (r.violation) return 1;
  if (r.strategy === "replay") return 0;
  return r.exhaustive ? 0 : 3;
}

function jsonOf(r: ExploreResult, params?: Record<string, unknown>, interrupted = false): object {
  const v = r.violation;
  return {
    scenario: r.scenario,
    variant: r.variant,
    params: params ?? {},
    strategy: r.strategy,
    bounds: r.bounds,
    executions: r.executions,
    exhaustive: r.exhaustive,
    stopped: stopOf(r, interrupted),
    elapsedMs: r.elapsedMs,
    violation: v
      ? {
          invariant: v.invariant,
          message: v.message,
          schedule: v.schedule,
          steps: v.steps,
          preemptions: v.preemptions,
          trace: v.trace,
          ...(v.invariant === "livelock" ? { hint: `raise the step bound with --max-steps N` } : {}),
        }
      : null,
    stats: r.stats,
  };
}

function timeline(v: Violation): string {
  const lines: string[] = [];
  const width = Math.max(...v.trace.map((t) => t.thread.length));
  for (const t of v.trace) {
    const mark = t.i === v.at ? ">>" : "  ";
    const obj = t.obj ? ` [${t.kind} ${t.obj}]` : "";
    const ch = t.choices ? ` choose=${t.choices.join(",")}` : "";
    lines.push(
      `${mark} ${String(t.i).padStart(4)}  cpu${t.cpu} ${t.ctx.padEnd(4)} ${t.thread.padEnd(width)}  ${t.fn}: ${t.what}${obj}${ch}`,
    );
  }
  return lines.join("\n");
}

function paramArgs(params: Record<string, unknown> | undefined): string {
  if (!params) return "";
  return Object.entries(params)
    .map(([k, v]) => ` --param ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("");
}

/** What a search that found nothing covered, in one line (DFS: the cuts; every strategy: the longest run). */
function coverage(r: ExploreResult): string {
  const s = r.stats;
  const parts = [`${r.executions} execution(s)`, `longest ${s.longestExecution} steps`];
  if (r.strategy === "dfs") {
    parts.push(`${s.sleepBlocked} cut as repeats of an explored ordering`);
    parts.push(`${s.prunedByBound} branch(es) cut by the preemption bound`);
  }
  return parts.join(", ");
}

function human(r: ExploreResult, out: Out, params?: Record<string, unknown>, interrupted = false): void {
  const b = r.bounds;
  const bounds = [
    b.preemptions === Infinity
      ? "no preemption bound"
      : b.preemptions !== null
        ? `preemption bound ${b.preemptions}`
        : "",
    b.depth !== null ? `depth ${b.depth}` : "",
    b.seed !== null ? `seed ${b.seed}` : "",
    `max ${b.maxSteps} steps`,
  ]
    .filter(Boolean)
    .join(", ");
  out(`${r.scenario} / ${r.variant}: ${r.strategy}, ${bounds}`);
  const stop = stopOf(r, interrupted);
  const space =
    r.strategy !== "dfs" || r.violation
      ? ""
      : r.exhaustive
        ? ", bounded space exhausted"
        : ", bounded space NOT exhausted";
  out(`${r.executions} execution(s) in ${(r.elapsedMs / 1000).toFixed(1)} s${space}`);
  if (r.stats.guarantee !== undefined) {
    out(
      `PCT guarantee: each execution finds a depth-${r.bounds.depth} bug with probability ≥ ${r.stats.guarantee.toExponential(1)} ` +
        `(1/(n·k^(d−1)), n=${r.stats.contexts} contexts, k=${r.stats.longestExecution} steps, d=${r.bounds.depth})`,
    );
  }
  if (r.stats.prunedByBound > 0) out(`(${r.stats.prunedByBound} branches were cut by the preemption bound)`);
  const sc = r.stats.stateCache;
  if (sc)
    out(
      `state cache: ${sc.states} states stored (${(sc.bytes / 2 ** 20).toFixed(1)} MB), ${sc.hits} executions cut at an explored state; chance a state was missed ${sc.mode === "bitstate" ? `≈ ${sc.missProbability.toExponential(1)} per state (bitstate)` : `≤ ${sc.missProbability.toExponential(1)}`}`,
    );
  const v = r.violation;
  if (!v) {
    if (stop === "interrupted")
      out(
        `interrupted: covered ${r.executions} execution(s) in ${(r.elapsedMs / 1000).toFixed(1)} s; no violation so far, no verdict`,
      );
    else if (stop === "time-limit")
      out(
        `time limit of ${(b.timeLimitMs ?? 0) / 1000} s ran out: covered ${coverage(r)}; no violation so far, no verdict (raise --time-limit S)`,
      );
    else if (stop === "max-executions")
      out(
        `execution budget of ${b.maxExecutions} ran out: covered ${coverage(r)}; no violation so far, no verdict (raise --max-executions N)`,
      );
    else out("no violation");
    return;
  }
  out(`\nVIOLATION ${v.invariant}: ${v.message}`);
  if (v.invariant === "livelock")
    out(`(a longer execution may yet finish: raise the step bound with --max-steps N, now ${b.maxSteps})`);
  out(`${v.steps} steps, ${v.preemptions} preemption(s); functions: ${v.functions.join(", ")}`);
  out(`\n${timeline(v)}\n`);
  out(`schedule: ${v.schedule}`);
  out(`replay:   flushlab replay ${r.scenario} --variant ${r.variant}${paramArgs(params)} --schedule ${v.schedule}`);
}

interface ParamRow {
  type: string;
  default: unknown;
  min?: number;
  max?: number;
  values?: readonly string[];
  doc?: string;
  describe: string;
}

/** A scenario's declared parameters, for `list`. */
function paramsOf(s: AnyScenario): Record<string, ParamRow> {
  const out: Record<string, ParamRow> = {};
  const schema: ParamSchema = s.params ?? {};
  for (const [name, spec] of Object.entries(schema)) {
    out[name] = {
      type: spec.type,
      default: spec.default,
      min: spec.min,
      max: spec.max,
      values: spec.values,
      doc: spec.doc,
      describe: spec.describe(),
    };
  }
  return out;
}

/** A virtual-time figure in ns, with its unit: ns below 10 µs, µs below 10 ms, else ms (`scale`: pick by it). */
export function formatNs(ns: number, scale = ns): string {
  if (Math.abs(scale) < 10_000) return `${Math.round(ns)} ns`;
  if (Math.abs(scale) < 10_000_000) return `${(ns / 1000).toFixed(1)} µs`;
  return `${(ns / 1e6).toFixed(1)} ms`;
}

/** A sample figure: virtual ns (in the unit that suits `scale`) unless the scenario declares another unit. */
function formatSample(v: number, unit: string | undefined, scale: number): string {
  if (unit === undefined) return formatNs(v, scale);
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
}

/** The search was interrupted (SIGINT) at a progress report: how far it had got. */
class Interrupted extends Error {
  constructor(readonly progress: ExploreProgress) {
    super("interrupted");
  }
}

/** The scenario exists and supports `mode`; else a one-line reason. */
function scenarioFor(id: string, mode: ScenarioMode): AnyScenario {
  const s = getScenario(id);
  if (!modesOf(s).includes(mode)) {
    const other = mode === "search" ? "timed" : "explore";
    const what = mode === "search" ? "a timed workload, not a schedule search" : "a schedule search, no timed workload";
    throw new UsageError(`${id} is ${what}: run \`flushlab ${other} ${id}\``);
  }
  return s;
}

interface Io {
  out: Out;
  err: Out;
  isTty: boolean;
  interrupted: () => boolean;
  launch: Launch;
}

interface ExploreFlags {
  variant?: string;
  param?: string[];
  strategy?: StrategyName;
  preemptions?: number;
  depth?: number;
  maxExecutions?: number;
  maxSteps?: number;
  timeLimit?: number;
  seed?: number;
  reduce: boolean;
  json?: boolean;
  shard?: ShardSpec;
  jobs?: number | "auto";
  coverage?: boolean;
  out?: string;
  all?: boolean;
  stateCache?: boolean;
  bitstate?: boolean;
  maxMemory?: number;
}

function exploreCmd(id: string, flags: ExploreFlags, io: Io): number {
  const o = { ...flags, strategy: flags.strategy ?? STRATEGY_NAMES[0] };
  const params = paramsFlag(o.param);
  scenarioFor(id, "search");
  if (o.seed !== undefined && o.strategy === "dfs")
    throw new UsageError(`--seed applies to pct and random: dfs is deterministic (add --strategy pct or random)`);
  if (o.out !== undefined && !o.shard) throw new UsageError("--out names a shard's result file: give --shard i/n too");
  if (o.all && !o.shard) throw new UsageError("--all applies to --shard (search a shard's whole part)");
  if (o.bitstate) o.stateCache = true; // the state cache, its table a bit array
  if (o.maxMemory !== undefined && !o.stateCache)
    throw new UsageError("--max-memory is the state cache's budget: give --state-cache (or --bitstate) too");
  // --state-cache's other refusals (a bound, pct or random, --no-reduce, --jobs) are explore()'s own errors.
  if (o.stateCache && o.shard)
    throw new UsageError(
      `${o.bitstate ? "--bitstate" : "--state-cache"} runs the whole search in one process: drop --shard`,
    );
  if (o.shard) {
    if (o.jobs !== undefined) throw new UsageError("--shard runs one part on one core: drop --jobs");
    const timeLimitMs = (o.timeLimit ?? DEFAULT_TIME_LIMIT_S) * 1000;
    return shardCmd(id, o.shard, { ...o, params, timeLimitMs, interrupted: io.interrupted }, io);
  }
  const showProgress = io.isTty && !o.json;
  let last: ExploreProgress = { strategy: o.strategy, executions: 0, elapsedMs: 0, found: false };
  const onProgress: ExploreOptions["onProgress"] = (p) => {
    last = p;
    if (io.interrupted()) throw new Interrupted(p);
    if (showProgress) {
      const rate = p.elapsedMs > 0 ? Math.round((p.executions * 1000) / p.elapsedMs) : 0;
      io.err(
        `\r${p.strategy}: ${p.executions} executions, ${(p.elapsedMs / 1000).toFixed(1)} s, ${rate} executions/s${p.found ? ", violation found: minimising" : estimatePart(p.estimate)}   `,
      );
    }
  };
  let r: ExploreResult;
  try {
    r = explore(id, {
      variant: o.variant,
      params,
      strategy: o.strategy,
      preemptions: o.preemptions,
      depth: o.depth,
      maxExecutions: o.maxExecutions,
      maxSteps: o.maxSteps,
      timeLimitMs: (o.timeLimit ?? DEFAULT_TIME_LIMIT_S) * 1000,
      seed: o.seed,
      reduce: o.reduce,
      onProgress,
      jobs: o.jobs,
      coverage: o.coverage,
      ...(o.stateCache ? { stateCache: { maxMemoryMb: o.maxMemory, mode: o.bitstate ? "bitstate" : "compact" } } : {}),
    });
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    // The search unwound at a progress report: what it had covered by then is all there is.
    r = {
      scenario: id,
      variant: o.variant ?? Object.keys(getScenario(id).variants)[0],
      strategy: o.strategy,
      bounds: {
        preemptions: o.preemptions ?? null,
        depth: o.depth ?? null,
        maxSteps: o.maxSteps ?? getScenario(id).bounds?.maxSteps ?? 5000,
        maxExecutions: o.maxExecutions ?? null,
        timeLimitMs: (o.timeLimit ?? DEFAULT_TIME_LIMIT_S) * 1000,
        seed: o.seed ?? null,
      },
      executions: last.executions,
      exhaustive: false,
      elapsedMs: Math.round(last.elapsedMs),
      violation: null,
      stats: { sleepBlocked: 0, prunedByBound: 0, longestExecution: 0 },
    };
  }
  if (showProgress) io.err("\r\x1b[K");
  const interrupted = io.interrupted();
  if (o.json) io.out(JSON.stringify({ ...jsonOf(r, params, interrupted), coverage: r.coverage, parallel: r.parallel }));
  else {
    human(r, io.out, params, interrupted);
    const par = r.parallel;
    if (par && o.jobs !== undefined)
      io.out(
        par.serialReason
          ? `ran serially: ${par.serialReason}`
          : `${par.jobs} worker threads` +
              (par.splitDepth !== null
                ? `, ${par.prefixes} prefixes at split depth ${par.splitDepth}`
                : par.prefixes > 0
                  ? `, ${par.prefixes} subtrees searched (work stealing)`
                  : "") +
              `; executions per worker: ${par.perWorker.map((w) => w.executions).join(", ")}`,
      );
    if (r.coverage) for (const l of coverageText(r.coverage)) io.out(l);
  }
  return exitCodeOf(r, interrupted);
}

function timedCmd(id: string, o: { variant?: string; param?: string[]; maxSteps?: number; json?: boolean }, io: Io) {
  const params = paramsFlag(o.param);
  const def = scenarioFor(id, "timed");
  const r = runTimed(id, { variant: o.variant, params, maxSteps: o.maxSteps });
  const units: Record<string, string> = {};
  const samples = Object.fromEntries(
    Object.entries(r.samples).map(([k, v]) => {
      units[k] = def.sampleUnits?.[k] ?? "ns";
      return [k, { n: v.n, mean: v.mean, p50: v.p50, p99: v.p99, max: v.max }];
    }),
  );
  if (o.json) {
    io.out(
      JSON.stringify({
        scenario: r.scenario,
        variant: r.variant,
        params: params ?? {},
        makespanNs: r.makespanNs,
        steps: r.steps,
        counters: r.counters,
        samples,
        units,
        waitNs: r.waitNs,
        violation: r.violation,
        wallMs: Math.round(r.wallMs),
        setupMs: Math.round(r.setupMs),
      }),
    );
  } else {
    io.out(
      `${r.scenario} / ${r.variant}${paramArgs(params)}: ${r.steps} steps, ${formatNs(r.makespanNs)} virtual time, ${Math.round(r.wallMs)} ms wall`,
    );
    if (Object.keys(r.counters).length) io.out(`counters (events):`);
    for (const [k, v] of Object.entries(r.counters).sort()) io.out(`  ${k.padEnd(32)} ${v}`);
    if (Object.keys(samples).length) io.out(`samples (virtual time unless marked):`);
    for (const [k, v] of Object.entries(samples).sort()) {
      const u = def.sampleUnits?.[k];
      const f = (x: number) => formatSample(x, u, v.max);
      io.out(`  ${k.padEnd(32)} n=${v.n} mean=${f(v.mean)} p50=${f(v.p50)} p99=${f(v.p99)} max=${f(v.max)}`);
    }
    const worst = Math.max(0, ...r.waitNs);
    io.out(`wait per CPU: ${r.waitNs.map((x) => formatNs(x, worst)).join(", ")}`);
    if (r.violation) io.out(`VIOLATION ${r.violation.invariant}: ${r.violation.message}`);
  }
  return r.violation ? 1 : 0;
}

/** commander's "error: unknown option '--x'" as one line without the prefix. */
function oneLine(msg: string): string {
  return msg
    .replace(/^error: /, "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .join(" ");
}

function program(io: Io, done: (code: number) => void): Command {
  const p = new Command("flushlab");
  p.description("Model TLB-flush code paths and search their schedules for races (docs: README.md)")
    .version(version(), "-V, --version", "print the version")
    .helpOption("-h, --help", "this help; `flushlab help <command>` or `flushlab <command> --help` for one command")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, "")),
      writeErr: (s) => io.err(s),
      outputError: () => {},
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      `\nstrategies:\n${STRATEGY_NAMES.map((n) => `  ${n.padEnd(8)} ${STRATEGIES[n].summary}`).join("\n")}\n\n` +
        `exit codes: 0 clean (and exhausted), 1 violation, 2 bad input, 3 budget ran out without a verdict, 130 interrupted\n` +
        `\`flushlab list\` shows each scenario's parameters, their types and ranges, and its modes (search, timed).`,
    );
  const variant = () =>
    new Option("--variant <name>", "the scenario's variant (default: its first)").argParser(once("variant", String));
  const param = () =>
    new Option("--param <name=value>", "a scenario parameter (repeatable; `flushlab list` shows them)").argParser(
      collect,
    );
  const json = () => new Option("--json", "print one JSON object on stdout (errors too)");
  const maxSteps = (what: string) =>
    new Option("--max-steps <n>", `steps after which an execution is a livelock (default: ${what})`).argParser(
      once("max-steps", wholeNumber("max-steps", 1)),
    );

  p.command("list")
    .description("the scenarios: fix, variants, modes, parameters")
    .addOption(json())
    .action((o: { json?: boolean }) => {
      const rows = scenarios()
        .filter((s) => !s.id.startsWith("test-"))
        .map((s) => ({
          id: s.id,
          fix: s.fix ?? null,
          title: s.title,
          variants: Object.keys(s.variants),
          modes: modesOf(s),
          bounds: s.bounds ?? {},
          params: paramsOf(s),
        }));
      if (o.json) io.out(JSON.stringify(rows, null, 2));
      else {
        for (const r of rows) {
          io.out(
            `${r.id.padEnd(28)} ${(r.fix ?? "-").padEnd(18)} ${r.modes.join("+").padEnd(13)} ${r.variants.join(", ").padEnd(28)} ${r.title}`,
          );
          const ps = Object.entries(r.params).map(([n, d]) => `${n}: ${d.describe}`);
          if (ps.length) io.out(`${"".padEnd(28)} params: ${ps.join("; ")}`);
        }
      }
      done(0);
    });

  p.command("explore")
    .description("search a scenario's schedules for a violation; minimise and print what is found")
    .argument("<scenario>", "scenario id (flushlab list)")
    .addOption(variant())
    .addOption(param())
    .addOption(
      new Option(
        "--strategy <name>",
        `search strategy: ${STRATEGY_NAMES.join(", ")} (default: ${STRATEGY_NAMES[0]})`,
      ).argParser(
        once("strategy", (v) => {
          if (!(STRATEGY_NAMES as readonly string[]).includes(v))
            throw new UsageError(`--strategy must be one of ${STRATEGY_NAMES.join(", ")}, got "${v}"`);
          return v;
        }),
      ),
    )
    .addOption(
      new Option("--preemptions <n>", "dfs: preemption bound, or inf (default: the scenario's)").argParser(
        once("preemptions", wholeNumber("preemptions", 0, true)),
      ),
    )
    .addOption(
      new Option("--depth <d>", "pct: bug depth (default: the scenario's)").argParser(
        once("depth", wholeNumber("depth", 1)),
      ),
    )
    .addOption(
      new Option("--max-executions <n>", "stop after n executions").argParser(
        once("max-executions", wholeNumber("max-executions", 1)),
      ),
    )
    .addOption(maxSteps("the scenario's, 5000 unless it says"))
    .addOption(
      new Option("--time-limit <s>", `stop after s seconds (default: ${DEFAULT_TIME_LIMIT_S})`).argParser(
        once("time-limit", wholeNumber("time-limit", 1)),
      ),
    )
    .addOption(
      new Option("--seed <n>", "pct, random: the seed, an integer 0 … 2^53−1 (default: 1)").argParser(
        once("seed", wholeNumber("seed", 0)),
      ),
    )
    .option("--no-reduce", "dfs: every interleaving, no partial-order reduction")
    .addOption(
      new Option(
        "--shard <i/n>",
        "run part i (0-based) of n of the search; prints its result JSON (flushlab merge)",
      ).argParser(once("shard", parseShard)),
    )
    .addOption(new Option("--out <file>", "--shard: write the result JSON here").argParser(once("out", String)))
    .option("--all", "--shard: search the whole part, past its first violation")
    .addOption(
      new Option("--jobs <n>", "worker threads, or auto for one per core (default 1)").argParser(
        once("jobs", parseJobs),
      ),
    )
    .option("--coverage", "print which step sites of the installed functions the search reached")
    .option("--state-cache", "dfs with --preemptions inf: never explore a state twice (stateful DPOR; slower today)")
    .option(
      "--bitstate",
      "the state cache as bits in a fixed array (Spin's supertrace): may miss a state, says how likely",
    )
    .addOption(
      new Option(
        "--max-memory <MB>",
        "--state-cache: the table's budget; past it states lose their summaries (default 1024); --bitstate: the array (default 64)",
      ).argParser(once("max-memory", wholeNumber("max-memory", 1))),
    )
    .addOption(json())
    .action((id: string, o: ExploreFlags) => done(exploreCmd(id, o, io)));

  p.command("merge")
    .description("combine `explore --shard i/n` results into one verdict")
    .argument("<files...>", "the shard result files (results/*.json)")
    .option("--coverage", "print the combined coverage")
    .addOption(json())
    .action((files: string[], o: { json?: boolean; coverage?: boolean }) => done(mergeCmd(files, o, io)));

  p.command("replay")
    .description("replay a schedule string on a fresh machine and print its trace")
    .argument("<scenario>", "scenario id")
    .addOption(variant())
    .addOption(param())
    .addOption(
      new Option("--schedule <s>", "the schedule string (fl1.…) a search printed")
        .makeOptionMandatory()
        .argParser(once("schedule", String)),
    )
    .addOption(maxSteps("the scenario's"))
    .addOption(json())
    .action(
      (id: string, o: { variant?: string; param?: string[]; schedule: string; maxSteps?: number; json?: boolean }) => {
        const params = paramsFlag(o.param);
        scenarioFor(id, "search");
        const r = replay(id, { variant: o.variant, schedule: o.schedule, params, maxSteps: o.maxSteps });
        if (o.json) io.out(JSON.stringify(jsonOf(r, params)));
        else human(r, io.out, params);
        done(exitCodeOf(r));
      },
    );

  p.command("timed")
    .description("run a timed workload in virtual time (costs from docs/cost-model.md): counters, latencies")
    .argument("<scenario>", "a scenario whose modes include timed (flushlab list)")
    .addOption(variant())
    .addOption(param())
    .addOption(maxSteps("50000000"))
    .addOption(json())
    .action((id: string, o: { variant?: string; param?: string[]; maxSteps?: number; json?: boolean }) =>
      done(timedCmd(id, o, io)),
    );

  p.command("report")
    .description("one race as a page to attach to a thread (HTML with a step inspector, or --format text)")
    .argument("<scenario>", "scenario id")
    .addOption(variant())
    .addOption(param())
    .addOption(
      new Option("--schedule <s>", "the schedule to report (default: the variant's minimised race)").argParser(
        once("schedule", String),
      ),
    )
    .addOption(
      new Option("--out <file>", "write the report here (default: stdout for text)").argParser(once("out", String)),
    )
    .addOption(
      new Option("--format <f>", "html or text (default: html)").argParser(
        once("format", (v) => {
          if (v !== "html" && v !== "text") throw new UsageError(`--format must be html or text, got "${v}"`);
          return v;
        }),
      ),
    )
    .action(
      (id: string, o: { variant?: string; param?: string[]; schedule?: string; out?: string; format?: string }) => {
        const params = paramsFlag(o.param);
        scenarioFor(id, "search");
        const format = o.format ?? "html";
        if (format === "html" && !o.out) throw new UsageError("report --format html needs --out FILE.html");
        const r = buildReport(id, { variant: o.variant, schedule: o.schedule, params });
        const text = format === "html" ? reportHtml(r) : reportText(r);
        if (o.out) {
          fs.writeFileSync(o.out, text);
          io.out(
            `wrote ${o.out}: ${r.scenario} / ${r.variant}, ${r.violation.invariant} in ${r.violation.steps} steps`,
          );
        } else io.out(text);
        done(1);
      },
    );

  p.command("bench")
    .description("the benchmarks: search throughput, reduction, time to a counterexample, timed speed")
    .addOption(json())
    .option("--quick", "a short run")
    .addOption(
      new Option(
        "--only <section>",
        `run one section (repeatable): ${BENCH_SECTIONS.join(", ")} (larger-bounds: only so)`,
      ).argParser((v: string, prev: BenchSection[] | undefined) => {
        if (!(BENCH_SECTIONS as readonly string[]).includes(v))
          throw new UsageError(`--only must be one of ${BENCH_SECTIONS.join(", ")}, got "${v}"`);
        if (prev?.includes(v as BenchSection)) throw new UsageError(`--only ${v} given twice`);
        return [...(prev ?? []), v as BenchSection];
      }),
    )
    .option("--all-strategies", "time to first counterexample for every strategy (default: dfs only)")
    .action((o: { json?: boolean; quick?: boolean; only?: BenchSection[]; allStrategies?: boolean }) => {
      const res = runBench({
        quick: o.quick === true,
        log: o.json ? () => {} : io.out,
        only: o.only,
        allStrategies: o.allStrategies === true,
      });
      if (o.json) io.out(JSON.stringify(res));
      done(0);
    });

  // The classroom kit's subcommands (kernel/classroom/cli.ts); grading is async, so each hands its job to io.launch.
  classroomCommands(p.command("classroom"), io.out, io.err, io.launch);
  return p;
}

/**
 * Run one command line. `interrupted` is polled during a search (the bin sets it on SIGINT): the search stops,
 * the partial summary is printed and the exit code is 130.
 */
export function run(
  argv: string[],
  out: Out,
  err: Out,
  isTty = false,
  interrupted: () => boolean = () => false,
  launch: Launch = () => {
    throw new UsageError("the classroom commands run from the installed bin: npx flushlab classroom help");
  },
): number {
  const io: Io = { out, err, isTty, interrupted, launch };
  const json = argv.includes("--json");
  let code = 0;
  try {
    if (argv.length === 0) {
      program(io, () => {}).outputHelp();
      return 2;
    }
    program(io, (c) => (code = c)).parse(argv, { from: "user" });
    return code;
  } catch (e) {
    let msg: string;
    if (e instanceof CommanderError) {
      // --help, help <command> and --version end here too, having printed.
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.code === "commander.version")
        return e.exitCode === 0 ? 0 : 2; // help shown for a missing subcommand (`flushlab classroom`) is bad input
      msg = oneLine(e.message);
    } else if (e instanceof UsageError || e instanceof ScheduleError || e instanceof ModelError) {
      msg = e.message.split("\n")[0];
    } else throw e;
    if (json) out(JSON.stringify({ error: msg, exitCode: 2 }));
    err(`flushlab: ${msg}\n`);
    return 2;
  }
}

export function main(argv: string[]): void {
  // Piped into `head`: a closed stdout is not an error worth a stack trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  // The classroom commands are async (grading drives Jupyter): parsed by run(), their job runs here.
  if (argv[0] === "classroom") {
    let job: ClassroomJob | undefined;
    const err = (s: string) => process.stderr.write(s);
    const code = run(
      argv,
      (s) => process.stdout.write(s + "\n"),
      err,
      false,
      undefined,
      (j) => (job = j),
    );
    if (job === undefined) process.exitCode = code;
    else void runClassroomJob(job, err).then((c) => (process.exitCode = c));
    return;
  }
  // A search is one synchronous loop: it runs in a worker so that this thread can take Ctrl-C and tell it.
  if (argv[0] === "explore" && !argv.includes("--help") && !argv.includes("-h")) {
    runInWorker(__filename, argv, process.stderr.isTTY === true);
    return;
  }
  const code = run(
    argv,
    (s) => process.stdout.write(s + "\n"),
    (s) => process.stderr.write(s),
    process.stderr.isTTY === true,
  );
  process.exitCode = code;
}

if (isCliWorker()) cliWorker(run);
else if (require.main === module) main(process.argv.slice(2));
