// The CLI: JSON shapes, exit codes, one-line errors.

import { describe, it, expect } from "vitest";
import { execFileSync } from "child_process";
import * as path from "path";
import { run } from "../../lib/cli/main";
import { cli } from "./cli_run";

describe("flushlab CLI", () => {
  it("list --json names the scenarios with fix ids and variants", () => {
    const r = cli("list", "--json");
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out);
    const lu = rows.find((x: any) => x.id === "lost-update");
    expect(lu.variants).toEqual(["racy", "spinlock"]);
    expect(rows.every((x: any) => !x.id.startsWith("test-"))).toBe(true);
  });

  it("explore finds a violation: exit 1 and the specified JSON", () => {
    const r = cli("explore", "lost-update", "--variant", "racy", "--json");
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    for (const key of [
      "scenario",
      "variant",
      "strategy",
      "bounds",
      "executions",
      "exhaustive",
      "elapsedMs",
      "violation",
    ])
      expect(j).toHaveProperty(key);
    for (const key of ["invariant", "message", "schedule", "steps", "preemptions", "trace"])
      expect(j.violation).toHaveProperty(key);
    const rp = cli("replay", "lost-update", "--variant", "racy", "--schedule", j.violation.schedule, "--json");
    expect(rp.code).toBe(1);
    expect(JSON.parse(rp.out).violation.invariant).toBe(j.violation.invariant);
  });

  it("a clean, exhausted search exits 0; a budget that runs out exits 3", () => {
    const ok = cli("explore", "lost-update", "--variant", "spinlock", "--json");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).exhaustive).toBe(true);
    const budget = cli("explore", "lost-update", "--variant", "spinlock", "--max-executions", "1", "--json");
    expect(budget.code).toBe(3);
    expect(JSON.parse(budget.out).exhaustive).toBe(false);
  });

  it("bad input exits 2 with one line and no stack", () => {
    for (const argv of [
      ["explore", "no-such-scenario"],
      ["explore", "lost-update", "--variant", "nope"],
      ["explore", "lost-update", "--preemptions", "two"],
      ["explore", "lost-update", "--strategy", "bfs"],
      ["explore", "lost-update", "--frobnicate"],
      ["replay", "lost-update", "--schedule", "fl1.lost-update.racy.00000000.AAAA.deadbeef"],
      ["replay", "lost-update"],
      ["frob"],
      ["explore", "lazy-mmu-batch", "--param", "pages=abc"],
      ["explore", "split-tlb-flush", "--param", "arch=arm"],
      ["timed", "lazy-mmu-workload", "--param", "op=shred"],
    ]) {
      const r = cli(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err.trim().split("\n").length, argv.join(" ")).toBe(1);
      expect(r.err).toMatch(/^flushlab: /);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it("human output shows the timeline with the violating step marked and a replay command", () => {
    const r = cli("explore", "lost-update", "--variant", "racy");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/VIOLATION lost-update/);
    expect(r.out).toMatch(/^>> /m);
    expect(r.out).toMatch(/flushlab replay lost-update --variant racy --schedule fl1\./);
  });

  it("the installed bin runs", () => {
    const bin = path.join(__dirname, "..", "..", "bin", "flushlab.js");
    const out = execFileSync(process.execPath, [bin, "list"], { encoding: "utf8" });
    expect(out).toMatch(/lost-update/);
  });
});

describe("flushlab CLI parameters", () => {
  it("--param sets scenario parameters for explore and replay; a wrong one is a one-line error", () => {
    const r = cli("explore", "lost-update", "--variant", "racy", "--param", "cpus=3", "--json");
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.params).toEqual({ cpus: 3 });
    expect(new Set(j.violation.trace.map((t: any) => t.cpu)).size).toBeGreaterThanOrEqual(2);
    expect(cli("replay", "lost-update", "--param", "cpus=3", "--schedule", j.violation.schedule, "--json").code).toBe(
      1,
    );
    const mismatch = cli("replay", "lost-update", "--schedule", j.violation.schedule);
    expect(mismatch.code).toBe(2);
    expect(mismatch.err).toMatch(/different model/);
    expect(cli("explore", "lost-update", "--param", "nope=1").err).toMatch(/no parameter "nope"/);
    expect(cli("explore", "lost-update", "--param", "cpus").code).toBe(2);
  });
});

describe("flushlab timed", () => {
  it("runs a workload in virtual time and prints its counters as JSON", () => {
    const r = cli(
      "timed",
      "lazy-mmu-workload",
      "--variant",
      "after",
      "--param",
      "pages=600",
      "--param",
      "cpus=1",
      "--json",
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.counters.tlbiel).toBe(600);
    expect(j.counters["batch flushes"]).toBe(5);
    expect(j.samples.munmap.n).toBe(1);
    expect(cli("timed", "lazy-mmu-workload", "--param", "pages=0").code).toBe(2);
  });
});

describe("flushlab CLI: bounds, seeds, duplicates, modes (issue 14, items 10–14, 16)", () => {
  const oneLineError = (r: { code: number; err: string }, re: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(re);
  };

  it("--max-steps raises or lowers the step bound, and a livelock says how to raise it", () => {
    const r = cli("explore", "lost-update", "--variant", "spinlock", "--max-steps", "3");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/VIOLATION livelock/);
    expect(r.out).toMatch(/--max-steps N, now 3/);
    const j = JSON.parse(cli("explore", "lost-update", "--variant", "spinlock", "--max-steps", "3", "--json").out);
    expect(j.bounds.maxSteps).toBe(3);
    expect(j.violation.hint).toMatch(/--max-steps/);
    expect(cli("explore", "lost-update", "--variant", "spinlock", "--max-steps", "500").code).toBe(0);
    oneLineError(cli("explore", "lost-update", "--max-steps", "0"), /--max-steps must be at least 1/);
    const rp = cli("replay", "lost-update", "--variant", "racy", "--max-steps", "2", "--schedule", "x");
    expect(rp.code).toBe(2); // a bad schedule, but --max-steps itself is known to replay
    expect(rp.err).not.toMatch(/unknown option/);
  });

  it("--seed: beyond 2^53 − 1, a fraction, or with dfs is refused; with pct it is used", () => {
    oneLineError(
      cli("explore", "lost-update", "--strategy", "pct", "--seed", "99999999999999999999"),
      /--seed must be at most 2\^53/,
    );
    oneLineError(cli("explore", "lost-update", "--strategy", "pct", "--seed", "1.5"), /--seed must be a whole number/);
    oneLineError(cli("explore", "lost-update", "--seed", "7"), /dfs is deterministic/);
    const j = JSON.parse(
      cli("explore", "lost-update", "--strategy", "pct", "--seed", "9007199254740991", "--json").out,
    );
    expect(j.bounds.seed).toBe(9007199254740991);
  });

  it("an option given twice is refused, not last-wins", () => {
    for (const argv of [
      ["explore", "lost-update", "--variant", "racy", "--variant", "spinlock"],
      ["explore", "lost-update", "--max-executions", "1", "--max-executions=2"],
      ["explore", "lost-update", "--strategy", "pct", "--strategy", "random"],
      ["explore", "lost-update", "--time-limit", "1", "--time-limit", "2"],
      ["replay", "lost-update", "--schedule", "a", "--schedule", "b"],
      ["timed", "lost-update", "--variant", "racy", "--variant", "racy"],
    ])
      oneLineError(cli(...argv), /given twice/);
  });

  it("each scenario declares its modes: a search scenario is not timed, a workload is not explored", () => {
    oneLineError(cli("explore", "lazy-mmu-workload"), /timed workload, not a schedule search.*flushlab timed/);
    oneLineError(cli("replay", "lazy-mmu-workload", "--schedule", "x"), /timed workload/);
    oneLineError(cli("timed", "lazy-mmu-batch"), /schedule search, no timed workload.*flushlab explore/);
    const rows = JSON.parse(cli("list", "--json").out) as { id: string; modes: string[] }[];
    const modes = Object.fromEntries(rows.map((r) => [r.id, r.modes]));
    expect(modes["lost-update"]).toEqual(["search", "timed"]);
    expect(modes["lazy-mmu-batch"]).toEqual(["search"]);
    for (const r of rows) if (r.id.endsWith("-workload")) expect(r.modes, r.id).toEqual(["timed"]);
  });

  it("a budget that runs out says which, and what was covered; no verdict", () => {
    const ex = cli("explore", "split-tlb-flush", "--max-executions", "5");
    expect(ex.code).toBe(3);
    expect(ex.out).toMatch(/execution budget of 5 ran out: covered 5 execution\(s\), longest \d+ steps/);
    expect(ex.out).toMatch(/no verdict/);
    expect(ex.out).not.toMatch(/^no violation$/m);
    // A budget measured in seconds, not a timing assertion: the unbounded space takes far longer than 1 s.
    const tl = cli("explore", "split-tlb-flush", "--preemptions", "inf", "--time-limit", "1", "--json");
    expect(tl.code).toBe(3);
    expect(JSON.parse(tl.out).stopped).toBe("time-limit");
    const tlh = cli("explore", "split-tlb-flush", "--preemptions", "inf", "--time-limit", "1");
    expect(tlh.out).toMatch(/time limit of 1 s ran out: covered \d+ execution/);
  });

  it("--json errors are a JSON object on stdout as well as one line on stderr", () => {
    for (const argv of [
      ["explore", "no-such", "--json"],
      ["explore", "lost-update", "--frob", "--json"],
      ["timed", "lazy-mmu-batch", "--json"],
      ["explore", "lost-update", "--param", "cpus=abc", "--json"],
    ]) {
      const r = cli(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      const j = JSON.parse(r.out);
      expect(j.exitCode).toBe(2);
      expect(typeof j.error).toBe("string");
      expect(r.err).toMatch(/^flushlab: /);
    }
  });

  it("an interrupt polled at a progress report prints the partial summary and exits 130", () => {
    let polls = 0;
    const out: string[] = [];
    const code = run(
      ["explore", "split-tlb-flush", "--preemptions", "inf", "--json"],
      (s) => out.push(s),
      () => {},
      false,
      () => ++polls > 2,
    );
    expect(code).toBe(130);
    const j = JSON.parse(out.join(""));
    expect(j.stopped).toBe("interrupted");
    expect(j.exhaustive).toBe(false);
    expect(j.executions).toBeGreaterThan(0);
  });

  it("--version, --help per command, help <command>, the default time limit in the usage", () => {
    const v = cli("--version");
    expect(v.code).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = cli("explore", "--help");
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/--max-steps/);
    expect(h.out).toMatch(/--time-limit <s> +stop after s seconds \(default: 60\)/);
    expect(h.out).not.toMatch(/flushlab replay/);
    expect(cli("help", "explore").out).toBe(h.out);
    expect(cli("help", "timed").out).toMatch(/Usage: flushlab timed/);
    const top = cli("--help");
    expect(top.out).toMatch(/explore \[options\] <scenario>/);
    expect(top.out).toMatch(/pct +probabilistic/);
    expect(cli().code).toBe(2);
  });

  it("timed prints a unit with every figure", () => {
    const r = cli("timed", "lazy-mmu-workload", "--param", "pages=600", "--param", "cpus=1");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/virtual time/);
    const figures = r.out.split("\n").filter((l) => /mean=/.test(l));
    expect(figures.length).toBeGreaterThan(1);
    for (const l of figures)
      for (const f of l.matchAll(/(mean|p50|p99|max)=(\S+) (\S+)/g)) expect(f[3], l).toMatch(/^(ns|µs|ms|pages)$/);
    expect(r.out).toMatch(/batch size at flush .*max=\d+ pages/);
    // CPUs that wait tens of µs: every figure in one unit that suits the longest.
    const kvm = cli("timed", "kvm-local-global-workload");
    const wait = /^wait per CPU: (.*)$/m.exec(kvm.out)![1].split(", ");
    expect(wait.length).toBeGreaterThan(2);
    for (const w of wait) expect(w).toMatch(/^\d+\.\d µs$/);
    const j = JSON.parse(cli("timed", "rcu-table-free-workload", "--variant", "after", "--json").out);
    expect(j.units["bytes awaiting a grace period"]).toBe("B");
    expect(j.units.munmap).toBe("ns");
  });

  it("the progress line on a terminal shows executions/s", () => {
    const err: string[] = [];
    run(
      ["explore", "split-tlb-flush", "--max-executions", "600"],
      () => {},
      (s) => err.push(s),
      true,
    );
    expect(err.join("")).toMatch(/\rdfs: \d+ executions, \d+\.\d s, \d+ executions\/s/);
  });
});
