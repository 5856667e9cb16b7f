// The CLI's scale options: `explore … --shard i/n` (one part of a search, as a JSON result file), `--jobs N`
// (worker threads), `--coverage`, and `flushlab merge FILES…` (one verdict from the parts). Exit codes as
// explore's: 0 clean and exhausted, 1 violation, 2 bad input, 3 no verdict (a shard missing or not exhausted).

import * as fs from "fs";
import { UsageError } from "./args";
import { exploreShard, ShardOptions } from "../explore/scaled";
import { parseShardFile, mergeShards, MergeError, SHARD_FORMAT, ShardResultFile } from "../explore/shard_result";
import { coverageOf, coverageText } from "../explore/coverage";
import { Session } from "../explore/scenario";
import { getScenario } from "../explore/registry";
import { estimateText, type Estimate } from "../explore/estimate";
import type { ShardSpec } from "../explore/shard";

type Out = (s: string) => void;

/** `--shard i/n`: 0 ≤ i < n (a Kubernetes completion index or a Slurm array task id, 0-based). */
export function parseShard(v: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--shard takes i/n (e.g. 0/4), got "${v}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 1_000_000) throw new UsageError(`--shard i/n: n must be from 1 to 1000000, got ${count}`);
  if (index >= count)
    throw new UsageError(`--shard i/n: i counts from 0, so it must be below n (${count}), got ${index}`);
  return { index, count };
}

/** `--jobs N|auto`. */
export function parseJobs(v: string): number | "auto" {
  if (v === "auto") return "auto";
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 256)
    throw new UsageError(`--jobs takes a whole number from 1 to 256, or auto, got "${v}"`);
  return Number(v);
}

/** A progress line's estimate part, or "". */
export function estimatePart(e: Estimate | null | undefined): string {
  return e ? `, ${estimateText(e)}` : "";
}

/** Refuse to overwrite a file this tool did not write (anything but a shard result). */
function checkOut(file: string): void {
  if (!fs.existsSync(file)) return;
  let ok = false;
  try {
    ok = (JSON.parse(fs.readFileSync(file, "utf8")) as { format?: string }).format === SHARD_FORMAT;
  } catch {
    ok = false;
  }
  if (!ok) throw new UsageError(`--out ${file} exists and is not a flushlab shard result: not overwriting it`);
}

export interface ShardFlags extends ShardOptions {
  out?: string;
  json?: boolean;
  coverage?: boolean;
}

/** `explore <id> --shard i/n`: run the part, write (or print) its result file, summarise it on stderr. */
export function shardCmd(id: string, shard: ShardSpec, f: ShardFlags, io: { out: Out; err: Out }): number {
  if (f.out) checkOut(f.out);
  const r = exploreShard(id, shard, f);
  const text = JSON.stringify(r);
  if (f.out) fs.writeFileSync(f.out, text + "\n");
  else io.out(text);
  const say = f.out ? io.out : (s: string) => io.err(s + "\n");
  const v = r.violations[0];
  say(
    `${r.scenario} / ${r.variant}: shard ${shard.index}/${shard.count}` +
      (r.shard.splitDepth !== null
        ? ` (split depth ${r.shard.splitDepth}, ${r.shard.searched} prefix(es) searched${r.exhaustive ? ` of ${r.shard.prefixes}` : ""})`
        : "") +
      `: ${r.executions} execution(s), ${r.terminalStates.length} terminal state(s), ` +
      (v ? `VIOLATION ${v.invariant}` : r.exhaustive ? "part exhausted, clean" : "part NOT exhausted") +
      (f.out ? ` → ${f.out}` : ""),
  );
  if (f.coverage) for (const l of coverageText(coverageOf(sessionOf(r), r.coverage))) say(l);
  if (f.interrupted?.()) return 130; // the partial part is written, marked not exhaustive
  return v ? 1 : r.exhaustive ? 0 : 3;
}

function sessionOf(r: ShardResultFile): Session {
  return new Session(getScenario(r.scenario), { variant: r.variant, params: r.params });
}

/** `flushlab merge FILES…`. */
export function mergeCmd(
  files: string[],
  f: { json?: boolean; coverage?: boolean },
  io: { out: Out; err: Out },
): number {
  if (files.length === 0) throw new UsageError("merge needs the shard result files (results/*.json)");
  const parsed = files.map((name) => {
    let text: string;
    try {
      text = fs.readFileSync(name, "utf8");
    } catch (e) {
      throw new UsageError(`${name}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      return { name, result: parseShardFile(name, text) };
    } catch (e) {
      if (e instanceof MergeError) throw new UsageError(e.message);
      throw e;
    }
  });
  let m;
  try {
    m = mergeShards(parsed);
  } catch (e) {
    if (e instanceof MergeError) throw new UsageError(e.message);
    throw e;
  }
  const code = m.violation ? 1 : m.exhaustive ? 0 : 3;
  if (f.json) {
    io.out(JSON.stringify({ ...m, exitCode: code }));
    return code;
  }
  io.out(
    `${m.scenario} / ${m.variant}: ${m.strategy}, ${m.present.length} of ${m.count} shard(s), ${m.executions} execution(s)`,
  );
  if (m.missing.length) io.out(`missing shard(s): ${m.missing.join(", ")} (run them with --shard i/${m.count})`);
  for (const d of m.duplicates)
    io.out(`duplicate shard ${d.index}: ${d.files.join(", ")} ignored (the first file given is used)`);
  io.out(`${m.terminalStates} distinct terminal state(s) (set hash ${m.terminalStatesHash})`);
  if (m.violation) {
    const v = m.violation;
    io.out(`\nVIOLATION ${v.invariant}: ${v.message}`);
    io.out(
      `first by the search's order: shard ${v.shard} (${v.file}), ${v.steps} steps, ${v.preemptions} preemption(s), not minimised`,
    );
    const counts = Object.entries(m.violationCounts).map(([k, n]) => `${k} ×${n}`);
    if (counts.length) io.out(`violating executions: ${counts.join(", ")}`);
    io.out(`schedule: ${v.schedule}`);
    io.out(
      `replay:   flushlab replay ${m.scenario} --variant ${m.variant}${paramArgs(m.params)} --schedule ${v.schedule}`,
    );
  } else if (m.exhaustive) io.out("every shard exhausted: no violation in the whole (bounded) space");
  else io.out("no violation so far, NO verdict: a shard is missing or did not finish its part");
  if (f.coverage) {
    try {
      for (const l of coverageText(coverageOf(sessionOf(parsed[0].result), m.coverage))) io.out(l);
    } catch (e) {
      io.out(`coverage: not shown (${(e as Error).message.split("\n")[0]})`);
    }
  }
  return code;
}

function paramArgs(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => ` --param ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("");
}
