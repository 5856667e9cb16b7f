// Declared scenario parameters: each value is checked against its declaration before any machine is built,
// so a bad value is refused with one clear line instead of producing a false violation (issue 14, items 8–9).

import { describe, it, expect } from "vitest";
import { int, bool, oneOf, resolveParams, defaultParams } from "../../lib/explore/params";
import { explore, runTimed, outcomes, Session } from "../../lib/explore/index";
import { ModelError } from "../../lib/sim/machine";
import { cli } from "./cli_run";
import { lostUpdate, lostUpdateParams } from "../../lib/examples/index";
import { lazyMmuBatch, lazyMmuWorkload } from "../../lib/fixes/lazy-mmu-batch/index";
import { splitTlbFlush } from "../../lib/fixes/split-tlb-flush/index";
import { scenarios } from "../../lib/explore/registry";

describe("parameter declarations", () => {
  const schema = { n: int(1, 10, 2), on: bool(true), arch: oneOf(["x86", "hash"], "x86") };

  it("give the defaults and accept values in range", () => {
    expect(defaultParams(schema)).toEqual({ n: 2, on: true, arch: "x86" });
    expect(resolveParams("s", schema, { n: 10, on: false, arch: "hash" })).toEqual({ n: 10, on: false, arch: "hash" });
  });

  it("refuse a fraction, a string, a negative, a value out of range, the wrong type", () => {
    for (const given of [
      { n: 1.5 },
      { n: "abc" },
      { n: -3 },
      { n: 11 },
      { n: 0 },
      { on: 1 },
      { on: "true" },
      { arch: "arm" },
      { arch: 1 },
    ]) {
      expect(() => resolveParams("s", schema, given), JSON.stringify(given)).toThrow(ModelError);
    }
    expect(() => resolveParams("s", schema, { n: 1.5 })).toThrow(
      /parameter n must be an integer from 1 to 10, got 1\.5/,
    );
  });

  it("accept only the schema's own names: toString and __proto__ are not parameters", () => {
    expect(() => resolveParams("s", schema, { toString: 1 })).toThrow(/no parameter "toString"/);
    expect(() => resolveParams("s", schema, JSON.parse('{"__proto__": 1}'))).toThrow(/no parameter "__proto__"/);
    expect(() => resolveParams("s", schema, { constructor: 1 })).toThrow(/no parameter "constructor"/);
    expect(() => resolveParams("s", schema, { nn: 1 })).toThrow(/parameters: n, on, arch/);
  });

  it("refuse a default outside its own range", () => {
    expect(() => int(1, 4, 5)).toThrow(ModelError);
    expect(() => oneOf(["a"], "b" as "a")).toThrow(ModelError);
  });

  it("every project scenario declares each parameter with a check (no plain values)", () => {
    for (const s of scenarios())
      for (const [name, spec] of Object.entries(s.params ?? {}) as [string, { check?: unknown }][])
        expect(typeof spec.check, `${s.id}.${name}`).toBe("function");
    expect(Object.keys(lostUpdate.params ?? {})).toEqual(["cpus", "iterations"]);
    expect(lostUpdateParams.iterations.describe()).toMatch(/^int 1\.\./);
  });
});

describe("bad parameters never reach a search", () => {
  it("explore, outcomes, runTimed and Session refuse them with a ModelError", () => {
    for (const iterations of [1.5, -3, 0]) {
      expect(() => explore(lostUpdate, { variant: "spinlock", params: { iterations } })).toThrow(ModelError);
    }
    expect(() => outcomes("lost-update", { params: { iterations: 1.5 } })).toThrow(ModelError);
    expect(() => runTimed("lazy-mmu-workload", { params: { op: "unmap" } })).toThrow(
      /op must be one of "munmap", "aging"/,
    );
    expect(() => new Session(lazyMmuBatch, { params: { pages: 65 } })).toThrow(/pages must be an integer from 1 to 64/);
    expect(() => new Session(lazyMmuBatch, { params: { cpus: 1 } })).toThrow(/cpus must be an integer from 2 to 15/);
    expect(() => new Session(lazyMmuWorkload, { params: { cpus: 9 } })).toThrow(ModelError);
  });

  it("the CLI exits 2 with one line for --param iterations=1.5, abc, -3, toString, __proto__", () => {
    for (const p of [
      "iterations=1.5",
      "iterations=abc",
      "iterations=-3",
      "toString=1",
      "__proto__=1",
      "constructor=1",
    ]) {
      const r = cli("explore", "lost-update", "--variant", "spinlock", "--param", p);
      expect(r.code, p).toBe(2);
      expect(r.out, p).toBe("");
      expect(r.err.trimEnd().split("\n"), p).toHaveLength(1);
      expect(r.err, p).toMatch(/^flushlab: scenario lost-update/);
    }
    expect(cli("explore", "split-tlb-flush", "--param", "arch=arm").code).toBe(2);
    expect(cli("timed", "lazy-mmu-workload", "--param", "pages=0").code).toBe(2);
  });

  it("the CLI refuses a --param given twice", () => {
    const r = cli("explore", "lost-update", "--param", "cpus=2", "--param", "cpus=3");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--param cpus given twice/);
  });

  it("a valid value still searches: the racy counter with 3 CPUs loses an update", () => {
    const r = explore(lostUpdate, { variant: "racy", params: { cpus: 3 } });
    expect(r.violation?.invariant).toBe("lost-update");
    expect(
      explore(splitTlbFlush, { variant: "after", params: { arch: "hash" }, maxExecutions: 5 }).violation,
    ).toBeNull();
  });

  it("list shows each parameter's type and range", () => {
    const r = cli("list", "--json");
    const lu = JSON.parse(r.out).find((x: { id: string }) => x.id === "lost-update");
    expect(lu.params.iterations).toMatchObject({ type: "int", min: 1, default: 1 });
    expect(cli("list").out).toMatch(/params: cpus: int 1\.\.15 \(default 2\)/);
  });
});
