// Runtime primitives: step bound, allocation failure as an explored choice, stale-frame detection, balance checks.

import { describe, it, expect } from "vitest";
import { explore, defineScenario, Session, dfs } from "../../lib/explore/index";
import {
  simOps,
  event,
  spin_lock_init,
  PageAllocator,
  GFP_ATOMIC,
  GFP_KERNEL,
  checkFrameAccess,
} from "../../lib/sim/index";
import type { Gen } from "../../lib/sim/machine";

const E = event("test", "step");

describe("runtime", () => {
  it("a thread that never returns is reported as a livelock at the step bound", () => {
    const s = defineScenario({
      id: "test-livelock",
      title: "spin forever",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 1 },
      bounds: { maxSteps: 50 },
      setup(k, m) {
        const x = m.newObj("x");
        m.spawn(
          0,
          "spinner",
          (function* (): Gen {
            for (;;) {
              k.W(x, E);
              yield;
            }
          })(),
        );
      },
    });
    const r = explore(s);
    expect(r.violation?.invariant).toBe("livelock");
    expect(r.violation!.message).toMatch(/50 steps/);
  });

  it("GFP_ATOMIC failure is a choice the explorer enumerates; GFP_KERNEL never fails", () => {
    const outcomes = new Set<string>();
    const s = defineScenario({
      id: "test-gfp",
      title: "allocation failure",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 1 },
      setup(k, m) {
        const pa = new PageAllocator(m, { frames: 4, mayFail: true });
        m.spawn(
          0,
          "alloc",
          (function* (): Gen {
            const a = yield* k.alloc_page(pa, GFP_ATOMIC, "test");
            const b = yield* k.alloc_page(pa, GFP_KERNEL, "test");
            outcomes.add(`${a ? "page" : "null"}/${b ? "page" : "null"}`);
            if (a) yield* k.free_page(pa, a);
            if (b) yield* k.free_page(pa, b);
          })(),
        );
      },
    });
    const r = explore(s, { preemptions: Infinity });
    expect(r.exhaustive).toBe(true);
    expect(r.executions).toBe(2);
    expect([...outcomes].sort()).toEqual(["null/page", "page/page"]);
  });

  it("an access through a frame freed and reused since is a use-after-free; a double free is caught", () => {
    const seen: string[] = [];
    const s = defineScenario({
      id: "test-uaf",
      title: "stale frame",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 1 },
      setup(k, m) {
        const pa = new PageAllocator(m, { frames: 2 });
        m.spawn(
          0,
          "t",
          (function* (): Gen {
            const f = (yield* k.alloc_page(pa, GFP_KERNEL, "first"))!;
            const gen = f.gen;
            yield* k.free_page(pa, f);
            const g = (yield* k.alloc_page(pa, GFP_KERNEL, "second"))!; // LIFO: the same frame comes back
            seen.push(g === f ? "reused" : "other");
            k.R(f, E);
            yield;
            checkFrameAccess(k, f, gen, "stale pointer");
          })(),
        );
      },
    });
    const r = explore(s);
    expect(seen[0]).toBe("reused");
    expect(r.violation?.invariant).toBe("use-after-free");
    expect(r.violation!.message).toMatch(/reused since/);

    const d = defineScenario({
      id: "test-double-free",
      title: "double free",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 1 },
      setup(k, m) {
        const pa = new PageAllocator(m, { frames: 2 });
        m.spawn(
          0,
          "t",
          (function* (): Gen {
            const f = (yield* k.alloc_page(pa, GFP_KERNEL, "x"))!;
            yield* k.free_page(pa, f);
            yield* k.free_page(pa, f);
          })(),
        );
      },
    });
    expect(explore(d).violation?.invariant).toBe("double-free");
  });

  it("returning to user space with a lock held, IRQs off or preemption disabled is reported", () => {
    const cases: [string, (k: any, l: any) => Gen][] = [
      [
        "lock-held-at-return",
        function* (k, l) {
          yield* k.spin_lock(l);
        },
      ],
      [
        "irqs-off-at-return",
        function* (k) {
          yield* k.local_irq_disable();
        },
      ],
      [
        "preempt-count-leak",
        function* (k) {
          yield* k.preempt_disable();
        },
      ],
    ];
    for (const [inv, body] of cases) {
      const s = defineScenario({
        id: `test-balance-${inv}`,
        title: inv,
        ops: simOps,
        variants: { base: {} },
        machine: { cpus: 1 },
        setup(k, m) {
          const l = spin_lock_init(m, "L");
          m.spawn(0, "t", body(k, l));
        },
      });
      expect(explore(s).violation?.invariant, inv).toBe(inv);
    }
  });

  it("synchronize_sched waits for readers that may hold the unpublished object, and the search proves it", () => {
    let violations = 0;
    let sawObject = 0;
    const mk = (unpublishFirst: boolean) =>
      defineScenario({
        id: `test-sync-sched-${unpublishFirst}`,
        title: "synchronize_sched",
        ops: simOps,
        variants: { base: {} },
        machine: { cpus: 2, rcu: true },
        setup(k, m) {
          const obj = { id: m.newObj("obj"), freed: false };
          const ptr = { id: m.newObj("gp"), v: obj as typeof obj | null };
          m.spawn(
            0,
            "reader",
            (function* (): Gen {
              yield* k.rcu_read_lock_sched();
              k.R(ptr, E);
              yield;
              const p = ptr.v;
              if (p) {
                sawObject++;
                k.R(p, E);
                yield;
                if (p.freed) {
                  violations++;
                  k.violation("freed-under-reader", "object freed inside the read section");
                }
              }
              yield* k.rcu_read_unlock_sched();
            })(),
          );
          m.spawn(
            1,
            "updater",
            (function* (): Gen {
              if (unpublishFirst) {
                k.W(ptr, E);
                yield;
                ptr.v = null; // rcu_assign_pointer(gp, NULL)
              }
              yield* k.synchronize_sched();
              k.W(obj, E);
              yield;
              obj.freed = true; // kfree
              if (!unpublishFirst) {
                k.W(ptr, E);
                yield;
                ptr.v = null;
              }
            })(),
          );
        },
      });
    const run = (s: ReturnType<typeof mk>) =>
      dfs(new Session(s), {
        reduce: true,
        preemptionBound: Infinity,
        maxSteps: 100,
        maxExecutions: Infinity,
        deadline: Infinity,
        stopOnViolation: false,
      });
    const good = run(mk(true));
    expect(good.exhaustive).toBe(true);
    expect(violations).toBe(0);
    expect(sawObject).toBeGreaterThan(0); // some readers did get the object before it was unpublished
    const bad = run(mk(false)); // freeing while still published: the search must find the reader that loses
    expect(bad.violation?.info.invariant).toBe("freed-under-reader");
  });
});
