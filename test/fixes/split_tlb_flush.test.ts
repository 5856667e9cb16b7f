// Fix 002 (split-tlb-flush): the lost write is discovered where the kernel had it (x86: v3.14 in both scenarios,
// 1cf35d47 for the last mapping; hash: the last mapping before v6.2), the fixes hold where they should, serial
// schedules are clean, and the variants differ exactly in the functions the commits changed.

import { describe, it, expect } from "vitest";
import { explore, replay, Session } from "../../lib/explore/index";
import {
  splitTlbFlush,
  splitTlbFlushLastMap,
  splitTlbFlushBefore,
  splitTlbFlushLater,
} from "../../lib/fixes/split-tlb-flush/scenario";
import { splitTlbFlushCost } from "../../lib/fixes/split-tlb-flush/workload";
import type { ScenarioDef } from "../../lib/explore/index";

type Case = [ScenarioDef<any, any>, "x86" | "hash", "before" | "after" | "later", boolean];
// [scenario, arch, variant, lost write expected]
const CASES: Case[] = [
  [splitTlbFlush, "x86", "before", true],
  [splitTlbFlush, "x86", "after", false],
  [splitTlbFlush, "x86", "later", false],
  [splitTlbFlushLastMap, "x86", "before", true],
  [splitTlbFlushLastMap, "x86", "after", true],
  [splitTlbFlushLastMap, "x86", "later", false],
  // hash: the lazy-MMU batch flushes in arch_leave_lazy_mmu_mode, under the PTL, in every variant, but after
  // page_remove_rmap until v6.2.
  [splitTlbFlush, "hash", "before", false],
  [splitTlbFlush, "hash", "after", false],
  [splitTlbFlush, "hash", "later", false],
  [splitTlbFlushLastMap, "hash", "before", true],
  [splitTlbFlushLastMap, "hash", "after", true],
  [splitTlbFlushLastMap, "hash", "later", false],
];

describe("split-tlb-flush", () => {
  for (const [s, arch, variant, lost] of CASES) {
    const name = `${s.id} ${variant} on ${arch}`;
    if (lost) {
      it(
        `${name}: DFS finds the lost write, minimised to ≥1 preemption with steps from ≥2 CPUs, and it replays`,
        { timeout: 60_000 },
        () => {
          const r = explore(s, { variant, params: { arch } });
          const v = r.violation!;
          expect(v, name).not.toBeNull();
          expect(v.invariant).toBe("lost-write");
          expect(v.preemptions).toBeGreaterThanOrEqual(1);
          expect(new Set(v.trace.map((t) => t.cpu)).size).toBeGreaterThanOrEqual(2);
          expect(v.functions).toEqual(
            expect.arrayContaining([
              "zap_pte_range",
              "set_page_dirty",
              "page_mkclean",
              "clear_page_dirty_for_io",
              "writepage",
            ]),
          );
          const rp = replay(s, { schedule: v.schedule, params: { arch } });
          expect(rp.violation?.invariant).toBe(v.invariant);
          expect(rp.violation?.message).toBe(v.message);
        },
      );
    } else {
      it(`${name}: the default bound is exhausted with no violation`, { timeout: 60_000 }, () => {
        const r = explore(s, { variant, params: { arch } });
        expect(r.violation, name).toBeNull();
        expect(r.exhaustive).toBe(true);
        expect(r.executions).toBeGreaterThan(100);
      });
    }
  }

  it("every serial schedule is clean, in every scenario, variant and arch", () => {
    for (const [s, arch, variant] of CASES) {
      const r = explore(s, { variant, params: { arch }, preemptions: 0 });
      expect(r.violation, `${s.id} ${variant} ${arch}`).toBeNull();
      expect(r.exhaustive).toBe(true);
    }
  });

  // About 16 s (150k executions). On x86 the shootdown became an IPI (issue 9): the unbounded x86 space no
  // longer exhausts in minutes (> 668k executions in 300 s; 437k at 3 preemptions, 36 s), so it waits for the
  // state caching of the scale issue; x86 is covered at the default bound above.
  it("1cf35d47 holds on hash without a preemption bound (DPOR exhausts the space)", { timeout: 120_000 }, () => {
    const r = explore(splitTlbFlush, {
      variant: "after",
      params: { arch: "hash" },
      preemptions: Infinity,
      timeLimitMs: 110_000,
    });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("PCT finds the lost writes from 5 different seeds", () => {
    for (const [s, arch, variant] of [
      [splitTlbFlush, "x86", "before"],
      [splitTlbFlushLastMap, "x86", "after"],
      [splitTlbFlushLastMap, "hash", "after"],
    ] as const) {
      for (let seed = 1; seed <= 5; seed++) {
        const r = explore(s, { variant, params: { arch }, strategy: "pct", seed, maxExecutions: 3000 });
        expect(r.violation?.invariant, `${s.id} ${variant} ${arch} seed ${seed}`).toBe("lost-write");
      }
    }
  });

  it("the variants differ exactly in the functions 1cf35d47 and v6.2 changed", () => {
    const installed = (variant: keyof typeof splitTlbFlush.variants) =>
      new Session(splitTlbFlush, { variant }).k.installed;
    const b = installed("before");
    const a = installed("after");
    const l = installed("later");
    const diff = (x: Record<string, unknown>, y: Record<string, unknown>) =>
      Object.keys(x)
        .filter((n) => x[n] !== y[n])
        .sort();
    expect(diff(a, b)).toEqual(Object.keys(splitTlbFlushBefore).sort());
    expect(diff(a, l)).toEqual(Object.keys(splitTlbFlushLater).sort());
    expect(diff(a, b)).toEqual(["tlb_flush_mmu", "zap_pte_range"]);
  });

  it("an unknown arch is refused", () => {
    // @ts-expect-error "arm" is not among the declared values (a compile error too)
    expect(() => explore(splitTlbFlush, { variant: "after", params: { arch: "arm" } })).toThrow(/arch/);
  });
});

describe("split-tlb-flush workload (timed)", () => {
  const tables = 4;
  const pages = 512 * tables;

  it("x86: after and later force one flush per PTE table of dirty shared pages; before flushes once", () => {
    expect(splitTlbFlushCost("before", { pages, cpus: 4 }).shootdowns).toBe(1);
    for (const variant of ["after", "later"] as const) {
      const c = splitTlbFlushCost(variant, { pages, cpus: 4 });
      expect(c.shootdowns, variant).toBe(tables);
      expect(c.pteTables).toBe(tables);
    }
  });

  it("x86: clean shared and anonymous pages force nothing, in every variant", () => {
    for (const kind of ["clean-shared", "anon"] as const) {
      for (const variant of ["before", "after", "later"] as const) {
        expect(splitTlbFlushCost(variant, { pages, cpus: 4, kind }).flushes, `${kind} ${variant}`).toBe(1);
      }
    }
  });

  it("x86: the forced flush is an IPI under the PTE lock (longer hold); alone on its CPU it is a local flush", () => {
    const before = splitTlbFlushCost("before", { pages, cpus: 4 });
    const after = splitTlbFlushCost("after", { pages, cpus: 4 });
    expect(after.ptlHoldMeanNs).toBeGreaterThan(before.ptlHoldMeanNs + 2000);
    expect(after.latencyNs).toBeGreaterThan(before.latencyNs);
    const alone = splitTlbFlushCost("after", { pages, cpus: 1 });
    expect(alone.shootdowns).toBe(0);
    expect(alone.localFlushes).toBe(tables);
  });

  it("hash: the lazy-MMU batch already flushed under the PTE lock, so the fix costs nothing there", () => {
    const runs = (["before", "after", "later"] as const).map((v) =>
      splitTlbFlushCost(v, { pages, cpus: 4, arch: "hash" }),
    );
    for (const r of runs) {
      expect(r.tlbie).toBe(pages);
      expect(r.flushes).toBe(runs[0].flushes);
      expect(r.ptlHoldMeanNs).toBe(runs[0].ptlHoldMeanNs);
    }
  });
});
