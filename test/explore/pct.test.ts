// PCT meets its printed guarantee on planted bugs of known depth.

import { describe, it, expect } from "vitest";
import { defineScenario, Session, runExecution, PctPicker, pctBound, explore } from "../../lib/explore/index";
import { simOps, event } from "../../lib/sim/index";
import type { Gen } from "../../lib/sim/machine";

const E = event("planted", "step");

/** Depth 1: thread B must read x before A writes it. Depth 2: B must read x between A's two writes. */
function planted(depth: 1 | 2, pad: number) {
  return defineScenario({
    id: `test-planted-d${depth}-${pad}`,
    title: "planted bug",
    ops: simOps,
    variants: { base: {} },
    machine: { cpus: 2 },
    bounds: { maxSteps: 200, depth },
    setup(k, m) {
      const x = { id: m.newObj("x"), v: 0 };
      const mine = m.newObj("private");
      m.spawn(
        0,
        "A",
        (function* (): Gen {
          for (let i = 0; i < pad; i++) {
            k.W(mine, E);
            yield;
          }
          k.W(x, E);
          yield;
          x.v = 1;
          for (let i = 0; i < pad; i++) {
            k.W(mine, E);
            yield;
          }
          k.W(x, E);
          yield;
          x.v = 2;
        })(),
      );
      m.spawn(
        1,
        "B",
        (function* (): Gen {
          for (let i = 0; i < pad; i++) {
            k.R(m.newObj("scratch"), E);
            yield;
          }
          k.R(x, E);
          yield;
          if (x.v === (depth === 1 ? 0 : 1)) k.violation("planted", `B saw x=${x.v}`);
        })(),
      );
    },
  });
}

describe("PCT", () => {
  for (const depth of [1, 2] as const) {
    it(`hits a planted depth-${depth} bug at least as often as 1/(n·k^(d−1)) over 10^4 seeds`, () => {
      const s = planted(depth, 4);
      const sess = new Session(s);
      const serial = runExecution(
        sess,
        { pick: (_m, en) => 31 - Math.clz32(en & -en), choose: () => 0 },
        { maxSteps: 200 },
      );
      const k = serial.steps;
      const n = 2;
      let hits = 0;
      const N = 10_000;
      for (let seed = 1; seed <= N; seed++) {
        const out = runExecution(sess, new PctPicker(seed, serial.machine.ctxs.length, k, depth), { maxSteps: 200 });
        if (out.violation) hits++;
      }
      const bound = pctBound(n, k, depth);
      // A lower bound on a probability, checked on 10^4 samples: allow three standard errors of sampling noise.
      expect(hits / N).toBeGreaterThanOrEqual(bound - 3 * Math.sqrt((bound * (1 - bound)) / N));
      expect(hits).toBeLessThan(N); // the bug is not hit by every schedule: the test can fail
    }, 60_000);
  }

  it("reports its guarantee with n, k and d", () => {
    const r = explore(planted(2, 4), { strategy: "pct", seed: 3, maxExecutions: 5000 });
    expect(r.stats.contexts).toBe(2);
    expect(r.stats.guarantee).toBeCloseTo(pctBound(2, r.stats.longestExecution, 2), 12);
    expect(r.violation?.invariant).toBe("planted");
  });
});
