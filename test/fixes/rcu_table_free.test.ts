// Fix 001 (rcu-table-free): a table freed at once is read by a lockless walker (found, minimised, replayed);
// before and after hold for IRQ-off walkers with the batch page allocated and with it failing; the IPI fallback
// does not cover an rcu_read_lock_sched walker; the mm_users < 2 shortcut does not cover a use_mm kernel
// thread (until 2018); every serial schedule is clean; the variants differ as the commit does.

import { describe, it, expect } from "vitest";
import { explore, replay, Session } from "../../lib/explore/index";
import { run } from "../../lib/cli/main";
import { rcuTableFree, rcuTableFreeBefore } from "../../lib/fixes/rcu-table-free/scenario";
import type { RcuTableFreeParams } from "../../lib/fixes/rcu-table-free/scenario";
import * as before from "../../lib/fixes/rcu-table-free/before";
import * as after from "../../lib/fixes/rcu-table-free/after";
import type { RK } from "../../lib/fixes/rcu-table-free/era";
import type { MmuGather } from "../../lib/mm/mmu_gather";
import type { Gen } from "../../lib/sim/machine";

const IRQ_OFF_WALKERS = ["hash_page", "gup_fast"] as const;

function search(
  variant: keyof typeof rcuTableFree.variants,
  params: Partial<RcuTableFreeParams>,
  extra: Record<string, unknown> = {},
) {
  return explore(rcuTableFree, { variant, params, timeLimitMs: 60_000, ...extra });
}

describe("rcu-table-free: naive (tables freed at once)", () => {
  for (const walker of ["hash_page", "gup_fast", "rcu_sched"] as const) {
    it(`${walker}: a walker reads a freed table; minimised to ≥1 preemption with steps from 2 CPUs; it replays`, () => {
      const r = search("naive", { walker });
      const v = r.violation!;
      expect(v?.invariant).toBe("use-after-free");
      expect(v.message).toMatch(
        /^(find_linux_pte_or_hugepte|hash_page|gup_\w+|get_user_pages_fast|rcu_sched_walk) \(page-table walk\)/,
      );
      expect(v.preemptions).toBeGreaterThanOrEqual(1);
      expect(new Set(v.trace.map((t) => t.cpu)).size).toBeGreaterThanOrEqual(2);
      expect(v.trace.map((t) => t.fn)).toEqual(expect.arrayContaining(["free_pte_range", "__free_pages"]));
      const rp = replay(rcuTableFree, { schedule: v.schedule, params: { walker } });
      expect(rp.violation?.invariant).toBe(v.invariant);
      expect(rp.violation?.message).toBe(v.message);
    });
  }
});

describe("rcu-table-free: before and after hold for IRQ-off walkers of the mm's own threads", () => {
  for (const variant of ["before", "after"] as const) {
    for (const walker of IRQ_OFF_WALKERS) {
      for (const allocFail of [true, false]) {
        it(`${variant}, ${walker}, batch page allocation ${allocFail ? "failing or not (explored)" : "succeeding"}: exhausted, clean`, () => {
          const r = search(variant, { walker, allocFail });
          expect(r.violation).toBeNull();
          expect(r.exhaustive).toBe(true);
        });
      }
    }
    it(`${variant}, hash_page, a batch of one table (the batch-full path): exhausted, clean`, () => {
      const r = search(variant, { walker: "hash_page", batchMax: 1 });
      expect(r.violation).toBeNull();
      expect(r.exhaustive).toBe(true);
    });
  }

  it("after: DPOR exhausts the unbounded space too", () => {
    const r = search("after", { walker: "hash_page" }, { preemptions: Infinity });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("allocation failure is explored: the choice doubles the space", () => {
    const a = search("after", { walker: "hash_page", allocFail: true });
    const b = search("after", { walker: "hash_page", allocFail: false });
    expect(a.executions).toBeGreaterThan(b.executions);
  });
});

describe("rcu-table-free: the rcu_read_lock_sched walker", () => {
  it("is safe while tables go through a grace period (allocation never fails)", () => {
    for (const variant of ["before", "after"] as const) {
      const r = search(variant, { walker: "rcu_sched", allocFail: false });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
    }
  });

  it("is not covered by the IPI fallback: it takes the IPI with IRQs on, mid-walk", () => {
    for (const [variant, handler] of [
      ["before", "pte_free_smp_sync"],
      ["after", "tlb_remove_table_smp_sync"],
    ] as const) {
      const v = search(variant, { walker: "rcu_sched" }).violation!;
      expect(v?.invariant, variant).toBe("use-after-free");
      expect(
        v.trace.map((t) => t.fn),
        variant,
      ).toEqual(expect.arrayContaining(["smp_call_function", "rcu_sched_walk"]));
      // the fallback's IPI handler ran on the walker's CPU, between two of its reads
      const ipi = v.trace.findIndex((t) => t.ctx === "irq" && t.cpu === 1 && t.thread === handler);
      const walks = v.trace.map((t, i) => (t.fn === "rcu_sched_walk" ? i : -1)).filter((i) => i >= 0);
      expect(ipi, variant).toBeGreaterThan(walks[0]);
      expect(ipi, variant).toBeLessThan(walks[walks.length - 1]);
    }
  });
});

describe("rcu-table-free: a kernel thread that use_mm()s the mm (finding)", () => {
  it("before and after: mm_users is 1, the shortcut frees at once under the walk", () => {
    for (const [variant, fn] of [
      ["before", "pgtable_free_tlb"],
      ["after", "tlb_remove_table"],
    ] as const) {
      for (const walker of IRQ_OFF_WALKERS) {
        const v = search(variant, { walker, user: "kthread" }).violation!;
        expect(v?.invariant, `${variant} ${walker}`).toBe("use-after-free");
        expect(
          v.trace.map((t) => t.fn),
          `${variant} ${walker}`,
        ).toEqual(expect.arrayContaining(["use_mm", fn, "__free_pages"]));
      }
    }
  });

  it("2018-users (the mm_users shortcut removed): exhausted, clean, allocation failing or not", () => {
    for (const walker of IRQ_OFF_WALKERS) {
      const r = search("2018-users", { walker, user: "kthread" });
      expect(r.violation, walker).toBeNull();
      expect(r.exhaustive, walker).toBe(true);
    }
  });
});

describe("rcu-table-free: serial schedules and invariants", () => {
  it("every serial schedule is clean, in every variant, walker and user", () => {
    for (const variant of Object.keys(rcuTableFree.variants) as (keyof typeof rcuTableFree.variants)[]) {
      for (const walker of ["hash_page", "gup_fast", "rcu_sched"] as const) {
        for (const user of ["thread", "kthread"] as const) {
          const r = search(variant, { walker, user, batchMax: 1 }, { preemptions: 0 });
          expect(r.violation, `${variant} ${walker} ${user}`).toBeNull();
          expect(r.exhaustive).toBe(true);
        }
      }
    }
  });

  it("a size index packed wrong is caught where the table is freed (pgtable-free-mismatch)", () => {
    function* pgtable_free_tlb(k: RK, tlb: MmuGather, table: number, shift: number): Gen {
      yield* k.tlb_remove_table(tlb, table + (shift === 0 ? 7 : 0)); // a PTE page tagged as a pmd table
    }
    const r = explore(rcuTableFree, {
      variant: "after",
      overrides: { pgtable_free_tlb },
      params: { allocFail: false },
      preemptions: 0,
    });
    expect(r.violation?.invariant).toBe("pgtable-free-mismatch");
  });

  it("a batch never submitted is a leak", () => {
    function* pte_free_finish(_k: RK, _tlb: MmuGather): Gen {}
    const r = explore(rcuTableFree, {
      variant: "before",
      overrides: { pte_free_finish },
      params: { allocFail: false },
      preemptions: 0,
    });
    expect(["table-leak", "batch-leak"]).toContain(r.violation?.invariant);
  });
});

describe("rcu-table-free: the variants differ as 267239116987 does", () => {
  // From the full upstream commit (the seed is an excerpt): functions it changed, removed and added, as modelled.
  const CHANGED = ["pgtable_free_tlb", "tlb_flush", "tlb_flush_mmu", "tlb_gather_mmu"];
  const REMOVED = [
    "pgtable_free_now",
    "pte_free_finish",
    "pte_free_rcu_callback",
    "pte_free_smp_sync",
    "pte_free_submit",
  ];
  const ADDED = [
    "__tlb_remove_table",
    "tlb_remove_table",
    "tlb_remove_table_one",
    "tlb_remove_table_rcu",
    "tlb_remove_table_smp_sync",
    "tlb_table_flush",
  ];
  const fns = (mod: object) =>
    Object.entries(mod)
      .filter(([, v]) => typeof v === "function" && /^function\*/.test(String(v)))
      .map(([n]) => n)
      .sort();

  it("the installed functions that differ are exactly the ones the commit changed", () => {
    const b = new Session(rcuTableFree, { variant: "before" }).k.installed;
    const a = new Session(rcuTableFree, { variant: "after" }).k.installed;
    expect(
      Object.keys(a)
        .filter((n) => a[n] !== b[n])
        .sort(),
    ).toEqual(CHANGED);
    expect(Object.keys(rcuTableFreeBefore).sort()).toEqual(CHANGED);
  });

  it("before.ts holds the changed and removed functions, after.ts the changed (less tlb_flush, now the base one) and added", () => {
    expect(fns(before)).toEqual([...CHANGED, ...REMOVED].sort());
    expect(fns(after)).toEqual([...CHANGED.filter((n) => n !== "tlb_flush"), ...ADDED].sort());
  });
});

describe("rcu-table-free: CLI", () => {
  it("the default variant is naive (no variant name is integer-like, which JS would order first)", () => {
    expect(Object.keys(rcuTableFree.variants)).toEqual(["naive", "before", "after", "2018-users"]);
  });

  it("explore --variant naive exits 1; before and after exit 0, exhaustive", () => {
    const out: string[] = [];
    expect(
      run(
        ["explore", "rcu-table-free", "--variant", "naive", "--json"],
        (s) => out.push(s),
        () => {},
      ),
    ).toBe(1);
    expect(JSON.parse(out.join("\n")).violation.invariant).toBe("use-after-free");
    for (const variant of ["before", "after"] as const) {
      const o: string[] = [];
      expect(
        run(
          ["explore", "rcu-table-free", "--variant", variant, "--json"],
          (s) => o.push(s),
          () => {},
        ),
        variant,
      ).toBe(0);
      expect(JSON.parse(o.join("\n")).exhaustive).toBe(true);
    }
  });
});

describe("rcu-table-free-workload (timed)", () => {
  it("naive frees at munmap; before/after hold the tables for one grace period per batch", async () => {
    const { rcuTableFreeCost } = await import("../../lib/fixes/rcu-table-free/workload");
    const n = rcuTableFreeCost("naive", { tables: 40 });
    const a = rcuTableFreeCost("after", { tables: 40 });
    const b = rcuTableFreeCost("before", { tables: 40 });
    expect(n.tablesFreed).toBe(41); // 40 PTE pages and the pmd table above them
    expect(n.gracePeriods).toBe(0);
    expect(n.memoryBackNs).toBe(n.latencyNs);
    for (const c of [a, b]) {
      expect(c.tablesFreed).toBe(41);
      expect(c.batchesSubmitted).toBe(1);
      expect(c.gracePeriods).toBe(1);
      expect(c.peakTablesAwaiting).toBe(41);
      expect(c.memoryBackNs).toBeGreaterThan(c.latencyNs + 9_000_000); // a 10 ms grace period
    }
  });

  it("a small batch fills: one grace period per MAX_TABLE_BATCH tables", async () => {
    const { rcuTableFreeCost } = await import("../../lib/fixes/rcu-table-free/workload");
    const a = rcuTableFreeCost("after", { tables: 40, batchMax: 8 });
    expect(a.batchesSubmitted).toBe(Math.ceil(41 / 8));
    expect(a.peakTablesAwaiting).toBeLessThanOrEqual(41);
  });

  it("under memory pressure every table costs an IPI round and memory comes back without a grace period", async () => {
    const { rcuTableFreeCost } = await import("../../lib/fixes/rcu-table-free/workload");
    for (const v of ["before", "after"] as const) {
      const c = rcuTableFreeCost(v, { tables: 20, cpus: 4, failRate: 1 });
      expect(c.ipiRounds, v).toBe(21);
      expect(c.ipis, v).toBe(21 * 3);
      expect(c.gracePeriods, v).toBe(0);
    }
  });

  it("exit (mm_users 0): the 2011 shortcut frees at once; 2018 waits for grace periods", async () => {
    const { rcuTableFreeCost } = await import("../../lib/fixes/rcu-table-free/workload");
    const a = rcuTableFreeCost("after", { tables: 30, op: "exit" });
    const l = rcuTableFreeCost("2018-users", { tables: 30, op: "exit" });
    expect(a.gracePeriods).toBe(0);
    expect(a.tablesFreed).toBe(l.tablesFreed);
    expect(l.gracePeriods).toBeGreaterThanOrEqual(1);
    expect(l.memoryBackNs).toBeGreaterThan(a.memoryBackNs);
    expect(() => rcuTableFreeCost("after", { tables: 0 })).toThrow(/tables must be/);
  });
});
