// Synchronous IPIs (smp_call_function*, wait=1) are taken by a CPU with IRQs on before its task's next step;
// asynchronous ones (wait=0) may still wait while the task runs on. DPOR must treat the send as dependent on
// the target's next step (it disables it), or it misses the order where the target ran first.

import { describe, it, expect } from "vitest";
import { simOps, event } from "../../lib/sim/index";
import type { Gen, KernelBase } from "../../lib/sim/index";
import { defineScenario, outcomes } from "../../lib/explore/index";
import { bool } from "../../lib/explore/params";

const E = event("test", "step");
const log: string[] = [];

function* handler(k: KernelBase): Gen {
  k.local(E);
  yield;
  log.push("handler");
}

function* sender(k: KernelBase & { smp_call_function: (...a: any[]) => Gen }, wait: boolean): Gen {
  yield* k.smp_call_function("h", handler, null, wait);
}

function* target(k: KernelBase, n: number): Gen {
  for (let i = 0; i < n; i++) {
    k.local(E);
    yield;
    log.push(k.m.pendingIpis(1) > 0 ? `t${i}(IPI pending)` : `t${i}`);
  }
}

const s = defineScenario({
  id: "test-ipi-delivery",
  title: "an IPI to a CPU whose task runs two steps with IRQs on",
  ops: simOps,
  variants: { base: {} },
  machine: { cpus: 2 },
  params: { wait: bool(true) },
  setup(k, m, p) {
    log.length = 0;
    m.spawn(0, "sender", sender(k as never, p.wait));
    m.spawn(1, "target", target(k, 2));
    return { observe: () => log.join(" ") };
  },
});

describe("IPI delivery", () => {
  for (const reduce of [false, true]) {
    it(`wait=1: the handler runs before the task's next step after the send, never between (reduce=${reduce})`, () => {
      const o = outcomes(s, { reduce, params: { wait: true } });
      expect(Object.keys(o.counts).sort()).toEqual(["handler t0 t1", "t0 handler t1", "t0 t1 handler"]);
    });
  }

  it("wait=0: the target may run on with the IPI pending (latency, with nobody waiting)", () => {
    const o = outcomes(s, { params: { wait: false } });
    expect(Object.keys(o.counts)).toEqual(
      expect.arrayContaining(["t0(IPI pending) t1(IPI pending) handler", "t0 t1(IPI pending) handler"]),
    );
  });
});
