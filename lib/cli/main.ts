// The flushlab command line: list scenarios, explore one, replay a schedule string, run the benchmarks.
// Exit codes: 0 clean and exhausted, 1 violation found, 2 bad input, 3 budget ran out without a verdict.

import { explore, replay, ExploreResult } from "../explore/explore";
import { scenarios, getScenario } from "../explore/registry";
import { STRATEGIES, STRATEGY_NAMES, isStrategyName } from "../explore/strategies/index";
import type { ExploreOptions } from "../explore/explore";
import { ScheduleError } from "../explore/schedule";
import { ModelError } from "../sim/machine";
import type { Violation } from "../sim/trace";
import { parseArgs, intFlag, strFlag, paramsFlag, UsageError } from "./args";
import { runBench } from "./bench";
import { runTimed } from "../explore/timed";
import type { AnyScenario } from "../explore/scenario";
import type { ParamSchema } from "../explore/params";
import "../examples/index"; // adds the example scenarios to the default registry
import "../fixes/index"; // adds every fix's scenarios to the default registry

const USAGE = `usage:
  flushlab list [--json]
  flushlab explore <scenario> [--variant V] [--param name=value]... [--strategy ${STRATEGY_NAMES.join("|")}]
                   [--preemptions N|inf] [--depth D] [--max-executions N] [--time-limit S] [--seed S]
                   [--no-reduce] [--json]
  flushlab replay <scenario> [--variant V] [--param name=value]... --schedule S [--json]
  flushlab timed <scenario> [--variant V] [--param name=value]... [--json]
  flushlab bench [--json] [--quick]
  flushlab classroom release|collect|autograde|override|return …   (flushlab classroom help)
strategies:
${STRATEGY_NAMES.map((n) => `  ${n.padEnd(8)} ${STRATEGIES[n].summary}`).join("\n")}

\`flushlab list\` shows each scenario's parameters, their types and ranges.`;

type Out = (s: string) => void;

function exitCodeOf(r: ExploreResult): number {
  if (r.violation) return 1;
  if (r.strategy === "replay") return 0;
  return r.exhaustive ? 0 : 3;
}

function jsonOf(r: ExploreResult, params?: Record<string, unknown>): object {
  const v = r.violation;
  return {
    scenario: r.scenario,
    variant: r.variant,
    params: params ?? {},
    strategy: r.strategy,
    bounds: r.bounds,
    executions: r.executions,
    exhaustive: r.exhaustive,
    elapsedMs: r.elapsedMs,
    violation: v
      ? {
          invariant: v.invariant,
          message: v.message,
          schedule: v.schedule,
          steps: v.steps,
          preemptions: v.preemptions,
          trace: v.trace,
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

function human(r: ExploreResult, out: Out, params?: Record<string, unknown>): void {
  const b = r.bounds;
  const bounds = [
    b.preemptions !== null ? `preemption bound ${b.preemptions}` : "",
    b.depth !== null ? `depth ${b.depth}` : "",
    b.seed !== null ? `seed ${b.seed}` : "",
    `max ${b.maxSteps} steps`,
  ]
    .filter(Boolean)
    .join(", ");
  out(`${r.scenario} / ${r.variant}: ${r.strategy}, ${bounds}`);
  out(
    `${r.executions} execution(s) in ${r.elapsedMs} ms${r.strategy === "dfs" ? (r.exhaustive ? ", bounded space exhausted" : ", space NOT exhausted") : ""}`,
  );
  if (r.stats.guarantee !== undefined) {
    out(
      `PCT guarantee per execution: 1/(n·k^(d−1)) with n=${r.stats.contexts}, k=${r.stats.longestExecution}, d=${r.bounds.depth}: ${r.stats.guarantee.toExponential(3)}`,
    );
  }
  if (r.stats.prunedByBound > 0) out(`(${r.stats.prunedByBound} branches were cut by the preemption bound)`);
  const v = r.violation;
  if (!v) {
    out("no violation");
    return;
  }
  out(`\nVIOLATION ${v.invariant}: ${v.message}`);
  out(`${v.steps} steps, ${v.preemptions} preemption(s); functions: ${v.functions.join(", ")}`);
  out(`\n${timeline(v)}\n`);
  out(`schedule: ${v.schedule}`);
  out(`replay:   flushlab replay ${r.scenario} --variant ${r.variant}${paramArgs(params)} --schedule ${v.schedule}`);
}

/** A scenario's declared parameters, for `list`. */
function paramsOf(s: AnyScenario): Record<
  string,
  {
    type: string;
    default: unknown;
    min?: number;
    max?: number;
    values?: readonly string[];
    doc?: string;
    describe: string;
  }
> {
  const out: Record<
    string,
    {
      type: string;
      default: unknown;
      min?: number;
      max?: number;
      values?: readonly string[];
      doc?: string;
      describe: string;
    }
  > = {};
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

function progressBar(err: Out, enabled: boolean): ExploreOptions["onProgress"] {
  if (!enabled) return undefined;
  return (p) =>
    err(
      `\r${p.strategy}: ${p.executions} executions, ${(p.elapsedMs / 1000).toFixed(1)} s${p.found ? ", violation found: minimising" : ""}   `,
    );
}

export function run(argv: string[], out: Out, err: Out, isTty = false): number {
  try {
    const cmd = argv[0];
    const rest = argv.slice(1);
    if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
      out(USAGE);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === "list") {
      const p = parseArgs(rest, [], ["json"]);
      if (p.positional.length) throw new UsageError(`list takes no arguments`);
      const rows = scenarios()
        .filter((s) => !s.id.startsWith("test-"))
        .map((s) => ({
          id: s.id,
          fix: s.fix ?? null,
          title: s.title,
          variants: Object.keys(s.variants),
          bounds: s.bounds ?? {},
          params: paramsOf(s),
        }));
      if (p.flags.has("json")) out(JSON.stringify(rows, null, 2));
      else {
        for (const r of rows) {
          out(`${r.id.padEnd(28)} ${(r.fix ?? "-").padEnd(18)} ${r.variants.join(", ").padEnd(28)} ${r.title}`);
          const ps = Object.entries(r.params).map(([n, d]) => `${n}: ${d.describe}`);
          if (ps.length) out(`${"".padEnd(28)} params: ${ps.join("; ")}`);
        }
      }
      return 0;
    }
    if (cmd === "explore") {
      const p = parseArgs(
        rest,
        ["variant", "strategy", "preemptions", "depth", "max-executions", "time-limit", "seed"],
        ["json", "no-reduce"],
        ["param"],
      );
      const params = paramsFlag(p);
      if (p.positional.length !== 1) throw new UsageError("explore needs exactly one scenario id");
      const strategy = strFlag(p, "strategy") ?? STRATEGY_NAMES[0];
      if (!isStrategyName(strategy))
        throw new UsageError(`--strategy must be one of ${STRATEGY_NAMES.join(", ")}, got "${strategy}"`);
      const tl = intFlag(p, "time-limit", 1);
      const json = p.flags.has("json");
      const r = explore(p.positional[0], {
        variant: strFlag(p, "variant"),
        params,
        strategy,
        preemptions: intFlag(p, "preemptions", 0, true),
        depth: intFlag(p, "depth", 1),
        maxExecutions: intFlag(p, "max-executions", 1),
        timeLimitMs: tl !== undefined ? tl * 1000 : undefined,
        seed: intFlag(p, "seed", 0),
        reduce: !p.flags.has("no-reduce"),
        onProgress: progressBar(err, isTty && !json),
      });
      if (isTty && !json) err("\r\x1b[K");
      if (json) out(JSON.stringify(jsonOf(r, params)));
      else human(r, out, params);
      return exitCodeOf(r);
    }
    if (cmd === "replay") {
      const p = parseArgs(rest, ["variant", "schedule"], ["json"], ["param"]);
      const params = paramsFlag(p);
      if (p.positional.length !== 1) throw new UsageError("replay needs exactly one scenario id");
      const schedule = strFlag(p, "schedule");
      if (!schedule) throw new UsageError("replay needs --schedule");
      getScenario(p.positional[0]);
      const r = replay(p.positional[0], { variant: strFlag(p, "variant"), schedule, params });
      if (p.flags.has("json")) out(JSON.stringify(jsonOf(r, params)));
      else human(r, out, params);
      return exitCodeOf(r);
    }
    if (cmd === "timed") {
      const p = parseArgs(rest, ["variant"], ["json"], ["param"]);
      if (p.positional.length !== 1) throw new UsageError("timed needs exactly one scenario id");
      const params = paramsFlag(p);
      const r = runTimed(p.positional[0], { variant: strFlag(p, "variant"), params });
      const samples = Object.fromEntries(
        Object.entries(r.samples).map(([k, v]) => [k, { n: v.n, mean: v.mean, p50: v.p50, p99: v.p99, max: v.max }]),
      );
      if (p.flags.has("json")) {
        out(
          JSON.stringify({
            scenario: r.scenario,
            variant: r.variant,
            params: params ?? {},
            makespanNs: r.makespanNs,
            steps: r.steps,
            counters: r.counters,
            samples,
            waitNs: r.waitNs,
            violation: r.violation,
            wallMs: Math.round(r.wallMs),
            setupMs: Math.round(r.setupMs),
          }),
        );
      } else {
        out(
          `${r.scenario} / ${r.variant}${paramArgs(params)}: ${r.steps} steps, ${(r.makespanNs / 1000).toFixed(1)} µs virtual, ${Math.round(r.wallMs)} ms wall`,
        );
        for (const [k, v] of Object.entries(r.counters).sort()) out(`  ${k.padEnd(24)} ${v}`);
        for (const [k, v] of Object.entries(samples).sort())
          out(`  ${k.padEnd(24)} n=${v.n} mean=${v.mean.toFixed(1)} p99=${v.p99} max=${v.max}`);
        if (r.violation) out(`VIOLATION ${r.violation.invariant}: ${r.violation.message}`);
      }
      return r.violation ? 1 : 0;
    }
    if (cmd === "bench") {
      const p = parseArgs(rest, [], ["json", "quick"]);
      const res = runBench({ quick: p.flags.has("quick"), log: p.flags.has("json") ? () => {} : out });
      if (p.flags.has("json")) out(JSON.stringify(res));
      return 0;
    }
    throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ScheduleError || e instanceof ModelError) {
      err(`flushlab: ${e.message.split("\n")[0]}\n`);
      return 2;
    }
    throw e;
  }
}

export function main(argv: string[]): void {
  // Piped into `head`: a closed stdout is not an error worth a stack trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  // The classroom commands are async (they drive Jupyter): their parser and logic live in kernel/classroom.
  if (argv[0] === "classroom") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { classroom } = require("../../kernel/classroom/cli") as typeof import("../../kernel/classroom/cli");
    void classroom(
      argv.slice(1),
      (s) => process.stdout.write(s + "\n"),
      (s) => process.stderr.write(s),
    ).then((c) => (process.exitCode = c));
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

if (require.main === module) main(process.argv.slice(2));
