// `flushlab bench --only <section>`: one section runs, its figures are saved in their own file and a whole run's
// latest.json is left alone. (The figures themselves are not asserted: no timed tests.)

import { describe, it, expect } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BENCH_SECTIONS, benchSections, runBench } from "../../lib/cli/bench";
import { run } from "../../lib/cli/main";

describe("flushlab bench --only", () => {
  it("runs one section and saves it beside latest.json, which it leaves alone", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-only-"));
    fs.writeFileSync(path.join(dir, "latest.json"), "{}\n");
    const lines: string[] = [];
    const r = runBench({ quick: true, only: ["timed"], dir, log: (s) => lines.push(s) });
    expect(r.sections).toEqual(["timed"]);
    expect(r.timedStepsPerSecond).toBeGreaterThan(0);
    expect(r.executionsPerSecond).toEqual({});
    expect(r.timeToFirstCounterexampleMs).toEqual({});
    expect(r.firstCounterexampleStrategies).toEqual([]);
    expect(fs.readFileSync(path.join(dir, "latest.json"), "utf8")).toBe("{}\n");
    const saved = JSON.parse(fs.readFileSync(path.join(dir, "timed.json"), "utf8"));
    // The older fields are all still there (the schema only grows).
    for (const k of [
      "executionsPerSecond",
      "stepsPerExecution",
      "nsPerStep",
      "dfsExecutionsPerSecond",
      "reductionFactor",
      "reductionDetail",
      "timeToFirstCounterexampleMs",
      "timeToFirstCounterexampleByStrategyMs",
      "timedStepsPerSecond",
      "machine",
      "date",
    ])
      expect(saved, k).toHaveProperty(k);
    expect(saved.sections).toEqual(["timed"]);
    expect(lines.join("\n")).not.toMatch(/search throughput|reduction factor|first minimised/);
  });

  it("a whole run leaves out the opt-in larger-bounds searches; --only runs what it names, in section order", () => {
    expect(benchSections()).toEqual([
      "throughput",
      "reduction",
      "first-counterexample",
      "timed",
      "parallel",
      "speed",
      "thp-walk-irq",
      "scale",
      "memory",
    ]);
    expect(benchSections(["larger-bounds", "throughput"])).toEqual(["throughput", "larger-bounds"]);
  });

  it("refuses an unknown section or one given twice, naming the sections", () => {
    const err: string[] = [];
    const code = run(
      ["bench", "--only", "throughputs"],
      () => {},
      (s) => err.push(s),
    );
    expect(code).toBe(2);
    expect(err.join("")).toBe(`flushlab: --only must be one of ${BENCH_SECTIONS.join(", ")}, got "throughputs"\n`);
    const twice: string[] = [];
    expect(
      run(
        ["bench", "--only", "timed", "--only", "timed"],
        () => {},
        (s) => twice.push(s),
      ),
    ).toBe(2);
    expect(twice.join("")).toMatch(/--only timed given twice/);
  });
});
