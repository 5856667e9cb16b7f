// Parallel search on worker threads (parallel.ts): the verdict and terminal states of the serial search, and a
// serial run, with its reason, when a worker could not rebuild the session. Workers run the build (dist/).

import { describe, it, expect, beforeAll } from "vitest";
import * as fs from "fs";
import * as path from "path";
import { Session } from "../../lib/explore/scenario";
import { getScenario } from "../../lib/explore/registry";
import { explore } from "../../lib/explore/explore";
import { runPart, PartOptions } from "../../lib/explore/shard";
import { searchParallel } from "../../lib/explore/parallel";
import { counter_inc_locked, lostUpdate } from "../../lib/examples/lost_update";
import { programScenario } from "./programs";
import type { Gen } from "../../lib/sim/machine";
import type { KernelBase } from "../../lib/sim/kernel";
import "../../lib/fixes/index";
import "../../lib/examples/index";

const WORKER = path.join(__dirname, "..", "..", "dist", "lib", "explore", "parallel_worker.js");

function opts(session: Session): PartOptions {
  return {
    strategy: "dfs",
    preemptions: session.bounds.preemptions,
    reduce: true,
    depth: session.bounds.depth,
    maxSteps: session.bounds.maxSteps,
    deadline: Infinity,
    seed: 1,
    stopOnViolation: false,
    terminal: true,
  };
}

// Worker start-up (each loads the model and its lib/ sources) takes seconds on a loaded machine: no time is asserted.
describe("parallel search (worker_threads)", { timeout: 120_000 }, () => {
  beforeAll(() => {
    if (!fs.existsSync(WORKER)) throw new Error(`${WORKER} is not built: run npm run build first`);
  });

  for (const variant of ["before", "after"]) {
    it(`lazy-mmu-batch/${variant} at 3 CPUs on 2 workers: the serial verdict, violations and terminal states`, () => {
      const session = new Session(getScenario("lazy-mmu-batch"), { variant, params: { cpus: 3 } });
      const o = opts(session);
      const serial = runPart(session, o);
      const par = searchParallel(session, o, { jobs: 2 });
      expect(par.serialReason).toBeNull();
      expect(par.jobs).toBe(2);
      expect(par.result.exhaustive).toBe(serial.exhaustive);
      expect(Object.keys(par.result.violationCounts).sort()).toEqual(Object.keys(serial.violationCounts).sort());
      expect([...par.result.terminalStates].sort()).toEqual([...serial.terminalStates].sort());
      // worker 0 starts on the whole tree; a worker that took part searched the roots it was handed
      expect(par.perWorker[0].searched).toBeGreaterThanOrEqual(1);
      for (const w of par.perWorker.slice(1)) expect(w.executions > 0).toBe(w.searched > 0);
    });
  }

  it("unbounded (sleep sets travel with a stolen branch): lazy-mmu-batch/after 2 x 2 on 2 and 3 workers, the serial terminal states", () => {
    const session = new Session(getScenario("lazy-mmu-batch"), { variant: "after", params: { cpus: 2, pages: 2 } });
    const o = { ...opts(session), preemptions: Infinity };
    const serial = runPart(session, o);
    expect(serial.exhaustive).toBe(true);
    for (const jobs of [2, 3]) {
      const par = searchParallel(session, o, { jobs });
      expect(par.serialReason).toBeNull();
      expect(par.result.exhaustive).toBe(true);
      expect(Object.keys(par.result.violationCounts)).toEqual([]);
      expect([...par.result.terminalStates].sort()).toEqual([...serial.terminalStates].sort());
    }
  });

  it("stopping at the first violation (rounds at bounds 0, 1, 2): lazy-mmu-batch/before at 3 CPUs, the serial invariant", () => {
    const session = new Session(getScenario("lazy-mmu-batch"), { variant: "before", params: { cpus: 3 } });
    const o = { ...opts(session), stopOnViolation: true };
    const serial = runPart(session, o);
    const par = searchParallel(session, o, { jobs: 2 });
    expect(par.result.exhaustive).toBe(false);
    expect(par.result.violations[0]?.info.invariant).toBe(serial.violations[0]?.info.invariant);
    // the first round that holds one is bound 1: no violation needs two preemptions before it
    expect(par.result.violations[0]?.preemptions).toBeLessThanOrEqual(1);
  });

  it("explore({ jobs: 2 }) finds the racy counter's lost update and minimises it as the serial search does", () => {
    const one = explore("lost-update", { variant: "racy" });
    const two = explore("lost-update", { variant: "racy", jobs: 2 });
    expect(two.parallel?.serialReason).toBeNull();
    expect(two.violation?.invariant).toBe(one.violation?.invariant);
    expect(two.violation?.preemptions).toBe(one.violation?.preemptions);
  });

  it("an override written outside lib/ (a notebook cell) runs serially and says why", () => {
    // a correct version, but the worker cannot load it
    const counter_inc = function* (
      k: KernelBase,
      x: Parameters<typeof counter_inc_locked>[1],
      l: Parameters<typeof counter_inc_locked>[2],
    ): Gen {
      yield* counter_inc_locked(k, x, l);
    };
    const r = explore(lostUpdate, { variant: "racy", jobs: 2, overrides: { counter_inc } });
    expect(r.parallel?.jobs).toBe(1);
    expect(r.parallel?.serialReason).toMatch(/override counter_inc is defined outside lib\//);
  });

  it("an override from lib/ is shipped to the workers (same fingerprint there)", () => {
    const r = explore(lostUpdate, { variant: "racy", jobs: 2, overrides: { counter_inc: counter_inc_locked } });
    expect(r.parallel?.serialReason).toBeNull();
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("a scenario outside the default registry (a test's, a notebook's) runs serially and says why", () => {
    const def = programScenario({ vars: 1, locks: 0, threads: [[{ t: "inc", v: 0 }], [{ t: "inc", v: 0 }]] });
    const r = explore(def, { jobs: 2 });
    expect(r.parallel?.jobs).toBe(1);
    expect(r.parallel?.serialReason).toMatch(/not the default registry's/);
    expect(r.exhaustive).toBe(true);
  });
});
