// Fix 000 (lazy-mmu-batch): the race is discovered before the fix, the fix holds, serial schedules are clean.

import { describe, it, expect } from "vitest";
import { explore, replay, Session } from "../../lib/explore/index";
import { lazyMmuBatch, lazyMmuBefore } from "../../lib/fixes/lazy-mmu-batch/scenario";
import { ppc64_tlb_batch } from "../../lib/powerpc/tlb_batch";
import type { Gen } from "../../lib/sim/machine";
import { event } from "../../lib/sim/event";
import type { PK } from "../../lib/powerpc/kernel";

const HARM = ["hpte-multi-hit", "stale-translation", "use-after-free"];
const E_LEAVE_NOFLUSH = event("arch_leave_lazy_mmu_mode", "batch->active = 0 (no flush!)");

describe("lazy-mmu-batch", () => {
  it("before: DFS finds a named harm, minimised to ≥1 preemption with steps from 2 CPUs, and it replays", () => {
    const r = explore(lazyMmuBatch, { variant: "before" });
    const v = r.violation!;
    expect(v).not.toBeNull();
    expect(HARM).toContain(v.invariant);
    expect(v.preemptions).toBeGreaterThanOrEqual(1);
    expect(new Set(v.trace.map((t) => t.cpu)).size).toBeGreaterThanOrEqual(2);
    expect(v.functions).toEqual(expect.arrayContaining(["zap_pte_range", "hpte_update", "__flush_tlb_pending"]));
    const rp = replay(lazyMmuBatch, { schedule: v.schedule });
    expect(rp.violation?.invariant).toBe(v.invariant);
    expect(rp.violation?.message).toBe(v.message);
  });

  it("after: the default bound is exhausted with no violation", () => {
    const r = explore(lazyMmuBatch, { variant: "after" });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
    expect(r.executions).toBeGreaterThan(10);
  });

  it("after: DPOR exhausts the unbounded space too", () => {
    const r = explore(lazyMmuBatch, { variant: "after", preemptions: Infinity, timeLimitMs: 30_000 });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("every serial schedule is clean, in both variants", () => {
    for (const variant of ["before", "after"] as const) {
      const r = explore(lazyMmuBatch, { variant, preemptions: 0 });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
    }
  });

  it("before: found by PCT from 5 different seeds", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const r = explore(lazyMmuBatch, { variant: "before", strategy: "pct", seed, maxExecutions: 2000 });
      expect(HARM, `seed ${seed}`).toContain(r.violation?.invariant);
    }
  });

  it("with two pages and a batch of one entry, the batch-full path runs and after stays clean", () => {
    const r = explore(lazyMmuBatch, { variant: "after", params: { pages: 2, batchNr: 1 }, timeLimitMs: 30_000 });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("the variants differ exactly in the functions a741e679 changed", () => {
    const b = new Session(lazyMmuBatch, { variant: "before" }).k.installed;
    const a = new Session(lazyMmuBatch, { variant: "after" }).k.installed;
    const changed = Object.keys(a)
      .filter((n) => a[n] !== b[n])
      .sort();
    expect(changed).toEqual(Object.keys(lazyMmuBefore).sort());
  });

  it("a leave that forgets to flush is caught in after (the notebook's exercise)", () => {
    function* arch_leave_lazy_mmu_mode(k: PK): Gen {
      const pc = ppc64_tlb_batch(k.m);
      const batch = pc.this_cpu(k);
      k.W(pc.id(k.cpu()), E_LEAVE_NOFLUSH);
      yield;
      batch.active = 0;
    }
    const r = explore(lazyMmuBatch, { variant: "after", overrides: { arch_leave_lazy_mmu_mode } });
    expect(HARM).toContain(r.violation?.invariant);
  });
});

describe("lazy-mmu-preempt (later history, 2020–2022)", () => {
  it("2020: a lazy section on kernel mappings runs preemptible and the per-CPU batch check fires", async () => {
    const { lazyMmuPreempt } = await import("../../lib/fixes/lazy-mmu-batch/preempt");
    const r = explore(lazyMmuPreempt, { variant: "2020" });
    expect(r.violation?.invariant).toBe("smp_processor_id-preemptible");
    expect(r.violation!.trace[r.violation!.at].fn).toBe("arch_enter_lazy_mmu_mode");
  });

  it("2020 on a user mm (inside the PTE lock) and 2022 on kernel mappings are clean and exhaustive", async () => {
    const { lazyMmuPreempt } = await import("../../lib/fixes/lazy-mmu-batch/preempt");
    for (const [variant, params] of [
      ["2020", { kernel: false }],
      ["2022", { kernel: true }],
    ] as const) {
      const r = explore(lazyMmuPreempt, { variant, params });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
    }
  });
});

describe("lazy-mmu-workload (timed)", () => {
  it("after the fix the hash flush moves inside the PTE lock: longer hold, same flush count", async () => {
    const { lazyMmuCost } = await import("../../lib/fixes/lazy-mmu-batch/workload");
    const b = lazyMmuCost("before", { pages: 100, cpus: 4 });
    const a = lazyMmuCost("after", { pages: 100, cpus: 4 });
    expect(a.hashFlushes).toBe(100);
    expect(b.hashFlushes).toBe(100);
    expect(a.tlbie).toBe(100); // mm ran on 4 CPUs: global invalidations
    expect(a.ptlHoldMeanNs).toBeGreaterThan(5 * b.ptlHoldMeanNs);
  });

  it("aging a single-CPU mm: before flushes locally, after does an immediate global tlbie per page", async () => {
    const { lazyMmuCost } = await import("../../lib/fixes/lazy-mmu-batch/workload");
    const b = lazyMmuCost("before", { pages: 64, cpus: 1, op: "aging" });
    const a = lazyMmuCost("after", { pages: 64, cpus: 1, op: "aging" });
    expect(b.tlbiel).toBe(64);
    expect(b.tlbie).toBe(0);
    expect(a.tlbie).toBe(64);
    expect(a.latencyNs).toBeGreaterThan(b.latencyNs);
  });

  it("batches never exceed one PTE page after the fix, nor PPC64_TLB_BATCH_NR before it", async () => {
    const { lazyMmuCost } = await import("../../lib/fixes/lazy-mmu-batch/workload");
    const a = lazyMmuCost("after", { pages: 2048, cpus: 2 });
    expect(a.batchFlushes).toBeGreaterThanOrEqual(2048 / 192);
    expect(a.meanBatch).toBeLessThanOrEqual(192);
    expect(() => lazyMmuCost("after", { pages: 0 })).toThrow(/pages must be/);
  });
});
