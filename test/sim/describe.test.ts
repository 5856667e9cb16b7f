// describeMachine: the state a student sees beside the timeline at a replayed step.

import { describe, it, expect } from "vitest";
import { explore, replay } from "../../lib/explore/index";
import { describeMachine } from "../../lib/sim/index";
import "../../lib/fixes/index";
import "../../lib/examples/index";

describe("describeMachine", () => {
  it("shows who holds the lock, who waits for it, and each context's next step", () => {
    // The racy counter's counterexample, replayed to just after CPU 0's load.
    const v = explore("lost-update", { variant: "racy" }).violation!;
    const at = replay("lost-update", { schedule: v.schedule, stopAt: 1 });
    const rows = describeMachine(at.machine);
    expect(rows.map((x) => x.context)).toEqual(["inc0", "irq0", "inc1", "irq1"]);
    expect(rows[1].state).toBe("idle");
    expect(rows[1].irqs).toBe("-");
    expect(rows[0].next).toMatch(/counter_inc: store counter \+ 1 \[W counter\]/);
  });

  it("a context blocked on a held spinlock is shown waiting, the holder with one lock", async () => {
    const { defineScenario } = await import("../../lib/explore/scenario");
    const { simOps, spin_lock_init } = await import("../../lib/sim/index");
    const s = defineScenario({
      id: "test-describe-lock",
      title: "lock",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 2 },
      setup(k, m) {
        const l = spin_lock_init(m, "L");
        m.spawn(0, "holder", holdLock(k, l));
        m.spawn(1, "waiter", holdLock(k, l));
      },
    });
    expect(explore(s, { preemptions: Infinity }).violation).toBeNull();
    // A one-decision schedule (the holder takes the lock), replayed and stopped there.
    const { encodeSchedule } = await import("../../lib/explore/schedule");
    const { Session } = await import("../../lib/explore/scenario");
    const fp = new Session(s).fingerprint;
    const at = replay(s, {
      schedule: encodeSchedule({ scenario: s.id, variant: "base", fingerprint: fp }, [{ choice: false, value: 0 }]),
      stopAt: 1,
    });
    const rows = describeMachine(at.machine);
    expect(rows[0]).toMatchObject({ context: "holder", state: "running", locks: 1, preempt_count: 1 });
    expect(rows[2]).toMatchObject({ context: "waiter", state: "waiting", locks: 0 });
    expect(rows[2].next).toMatch(/spin_lock: acquire \[W L\]/);
  });
});

function* holdLock(k: any, l: any): Generator<void, void, unknown> {
  yield* k.spin_lock(l);
  yield* k.spin_unlock(l);
}
