// Scenario registries and search strategies: a registry a test makes for itself, the default one the CLI and
// ids use, and the one strategy list the CLI, the bench and explore() select from.

import { describe, it, expect } from "vitest";
import {
  createRegistry,
  defaultRegistry,
  defineScenario,
  explore,
  runExecution,
  Session,
  STRATEGIES,
  STRATEGY_NAMES,
  RandomPicker,
} from "../../lib/explore/index";
import type { Strategy } from "../../lib/explore/index";
import { simOps, event } from "../../lib/sim/index";
import type { Gen } from "../../lib/sim/machine";
import { ModelError } from "../../lib/sim/machine";
import { lostUpdate } from "../../lib/examples/index";
import * as fixes from "../../lib/fixes/index";
import { run } from "../../lib/cli/main";

const E = event("test", "write x");
const tiny = defineScenario({
  id: "test-registry-tiny",
  title: "two writers",
  ops: simOps,
  variants: { base: {} },
  machine: { cpus: 2 },
  setup(k, m) {
    const x = { id: m.newObj("x") };
    for (let c = 0; c < 2; c++) {
      m.spawn(
        c,
        `w${c}`,
        (function* (): Gen {
          k.W(x, E);
          yield;
        })(),
      );
    }
  },
});

describe("registries", () => {
  it("defining a scenario does not register it; adding it to a registry does", () => {
    expect(defaultRegistry.has(tiny.id)).toBe(false);
    expect(() => explore(tiny.id)).toThrow(ModelError);
    const reg = createRegistry(tiny);
    expect(reg.list().map((s) => s.id)).toEqual([tiny.id]);
    expect(explore(tiny.id, { registry: reg }).exhaustive).toBe(true);
    expect(() => reg.get("lost-update")).toThrow(/unknown scenario "lost-update" \(known: test-registry-tiny\)/);
  });

  it("re-adding an id replaces it (a notebook cell run twice)", () => {
    const reg = createRegistry(tiny);
    const again = { ...tiny, title: "again" };
    reg.add(again);
    expect(reg.list()).toHaveLength(1);
    expect(reg.get(tiny.id).title).toBe("again");
  });

  it("the default registry holds the examples and every fix's scenarios, and ids resolve through it", () => {
    const ids = defaultRegistry.list().map((s) => s.id);
    expect(ids).toContain("lost-update");
    for (const s of fixes.scenarios) expect(ids).toContain(s.id);
    expect(explore("lazy-mmu-batch", { variant: "before" }).violation?.invariant).toBe("hpte-multi-hit");
    expect(defaultRegistry.get("lost-update")).toBe(lostUpdate);
  });
});

describe("strategies", () => {
  it("the CLI offers exactly the registry's strategies, and refuses another naming them", () => {
    expect(STRATEGY_NAMES).toEqual(Object.keys(STRATEGIES));
    const out: string[] = [];
    const err: string[] = [];
    expect(
      run(
        ["help"],
        (s) => out.push(s),
        (s) => err.push(s),
      ),
    ).toBe(0);
    for (const n of STRATEGY_NAMES) expect(out.join("\n")).toContain(STRATEGIES[n].summary);
    expect(
      run(
        ["explore", "lost-update", "--strategy", "bfs"],
        (s) => out.push(s),
        (s) => err.push(s),
      ),
    ).toBe(2);
    expect(err.join("")).toContain(`one of ${STRATEGY_NAMES.join(", ")}`);
    expect(() => explore(lostUpdate, { strategy: "bfs" as "dfs" })).toThrow(/unknown strategy "bfs"/);
  });

  it("each registry strategy finds the lost update", () => {
    for (const strategy of STRATEGY_NAMES)
      expect(explore(lostUpdate, { variant: "racy", strategy }).violation?.invariant, strategy).toBe("lost-update");
  });

  it("the step loop calls a strategy's hooks in order: begin, pick and after each step, end", () => {
    const calls: string[] = [];
    const s: Strategy = {
      beginExecution: () => calls.push("begin"),
      pick: (_m, en) => (calls.push("pick"), 31 - Math.clz32(en & -en)),
      choose: () => 0,
      afterStep: (m) => calls.push(`after${m.steps}`),
      endExecution: (_m, end) => calls.push(`end:${end.steps}:${end.abandoned}`),
    };
    const out = runExecution(new Session(tiny), s, { maxSteps: 10 });
    expect(out.steps).toBe(2);
    expect(calls).toEqual(["begin", "pick", "after1", "pick", "after2", "end:2:false"]);
  });

  it("a strategy that returns -1 abandons the execution (not judged, no observation)", () => {
    const out = runExecution(new Session(tiny), { pick: () => -1, choose: () => 0 }, { maxSteps: 10 });
    expect(out.abandoned).toBe(true);
    expect(out.steps).toBe(0);
    expect(out.violation).toBeNull();
  });

  it("the random walk is a plain strategy: same seed, same decisions", () => {
    const sess = new Session(lostUpdate, { variant: "racy", params: { cpus: 3 } });
    const a = runExecution(sess, new RandomPicker(5), { maxSteps: 100 }).decisions;
    const b = runExecution(sess, new RandomPicker(5), { maxSteps: 100 }).decisions;
    expect(a).toEqual(b);
  });
});
