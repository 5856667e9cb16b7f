// The CLI: JSON shapes, exit codes, one-line errors.

import { describe, it, expect } from "vitest";
import { execFileSync } from "child_process";
import * as path from "path";
import { run } from "../../lib/cli/main";

function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(
    argv,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join("\n"), err: err.join("") };
}

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
