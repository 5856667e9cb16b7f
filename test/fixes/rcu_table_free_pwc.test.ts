// Fix 001's later history on an MMU with a page-walk cache (book3s64 radix): the 2011 paths that free a table
// before any TLB/PWC invalidate — the mm_users < 2 shortcut (a lazy-TLB CPU), the allocation-failure IPI path, a
// full batch handed to RCU before tlb_flush — let a hardware walk go through a freed table; the 2018 shortcut
// removal closes only the first; d86564a2f085's invalidate closes all; 96bc9567cbe1's powerpc opt-out reopens
// them on radix; 0ed1325967ab's tlb_needs_table_invalidate() = radix_enabled() closes them; hash needs none.

import { describe, it, expect } from "vitest";
import { explore, replay } from "../../lib/explore/index";
import { rcuTableFreeWalkCache } from "../../lib/fixes/rcu-table-free/walk_cache";
import type { WalkCacheParams } from "../../lib/fixes/rcu-table-free/walk_cache";
import { powerpcHashOps } from "../../lib/powerpc/index";
import type { RKW } from "../../lib/fixes/rcu-table-free/radix";
import type { MmuGather } from "../../lib/mm/mmu_gather";
import type { Gen } from "../../lib/sim/machine";

type Variant = keyof typeof rcuTableFreeWalkCache.variants;
const search = (variant: Variant, params: Partial<WalkCacheParams>, extra: Record<string, unknown> = {}) =>
  explore(rcuTableFreeWalkCache, { variant, params, timeLimitMs: 60_000, ...extra });

/** The three 2011 paths that free before an invalidate, as scenario parameters. */
const PATHS = {
  "mm_users < 2 (lazy-TLB CPU)": { user: "lazy", allocFail: false, batchMax: 509 },
  "allocation failure (tlb_remove_table_one)": { user: "thread", allocFail: true, batchMax: 509 },
  "full batch (tlb_table_flush before tlb_flush)": { user: "thread", allocFail: false, batchMax: 1 },
} as const;

/** The violation is a hardware walk through a freed table, and that table was freed before any PWC invalidate. */
function expectWalkThroughFreedTable(variant: Variant, params: Partial<WalkCacheParams>, path: string) {
  const v = search(variant, { mmu: "radix", ...params }).violation!;
  expect(v?.invariant, path).toBe("use-after-free");
  expect(v.message, path).toMatch(/^cpu1's hardware page walk .* through a pointer from its page-walk cache/);
  const fns = v.trace.map((t) => t.fn);
  const freed = fns.indexOf("__free_pages");
  expect(freed, path).toBeGreaterThanOrEqual(0);
  expect(fns.slice(0, freed), path).not.toContain("(hw) pwc invalidate");
  const rp = replay(rcuTableFreeWalkCache, { variant, schedule: v.schedule, params: { mmu: "radix", ...params } });
  expect(rp.violation?.message, path).toBe(v.message);
  return v;
}

describe("rcu-table-free-pwc: the 2011 code on radix", () => {
  for (const [path, params] of Object.entries(PATHS))
    it(`${path}: a hardware walk goes through the freed table; replays`, () => {
      const v = expectWalkThroughFreedTable("after", params, path);
      const fns = v.trace.map((t) => t.fn);
      if (params.user === "lazy") expect(fns).not.toContain("call_rcu_sched"); // freed at once by the shortcut
      if (params.allocFail) expect(fns).toContain("smp_call_function");
      if (params.batchMax === 1) expect(fns).toContain("call_rcu_sched");
    });

  it("the common path (batch page allocated, not full): tlb_flush invalidates before the grace period — clean", () => {
    const r = search("after", { mmu: "radix", user: "thread", allocFail: false });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("minimised: the IPI path needs 1 preemption, the shortcut and the full batch 2", () => {
    expect(
      search("after", { mmu: "radix", ...PATHS["allocation failure (tlb_remove_table_one)"] }).violation!.preemptions,
    ).toBe(1);
    expect(search("after", { mmu: "radix", ...PATHS["mm_users < 2 (lazy-TLB CPU)"] }).violation!.preemptions).toBe(2);
    expect(
      search("after", { mmu: "radix", ...PATHS["full batch (tlb_table_flush before tlb_flush)"] }).violation!
        .preemptions,
    ).toBe(2);
  });
});

describe("rcu-table-free-pwc: the later commits", () => {
  it("2018-users (shortcut removed): the lazy-TLB CPU is covered; allocation failure and a full batch are not", () => {
    const r = search("2018-users", { mmu: "radix", ...PATHS["mm_users < 2 (lazy-TLB CPU)"] });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
    expectWalkThroughFreedTable("2018-users", PATHS["allocation failure (tlb_remove_table_one)"], "2018/ipi");
    expectWalkThroughFreedTable("2018-users", PATHS["full batch (tlb_table_flush before tlb_flush)"], "2018/full");
    expectWalkThroughFreedTable("2018-users", { user: "lazy", allocFail: true }, "2018/lazy+ipi");
  });

  for (const variant of ["2018-invalidate", "2020-needs-invalidate"] as const)
    it(`${variant}: every path invalidates first — radix clean, exhausted, thread and lazy CPU alike`, () => {
      for (const [path, params] of Object.entries(PATHS))
        for (const user of ["thread", "lazy"] as const) {
          const r = search(variant, { mmu: "radix", ...params, user });
          expect(r.violation, `${path}/${user}`).toBeNull();
          expect(r.exhaustive, `${path}/${user}`).toBe(true);
        }
    });

  it("2019-opt-out (HAVE_RCU_TABLE_NO_INVALIDATE on powerpc): radix loses the invalidate again", () => {
    expectWalkThroughFreedTable("2019-opt-out", PATHS["allocation failure (tlb_remove_table_one)"], "2019/ipi");
    expectWalkThroughFreedTable("2019-opt-out", PATHS["full batch (tlb_table_flush before tlb_flush)"], "2019/full");
  });

  it("hash: clean in every variant (hash_page, IRQs off), with allocation failing or a full batch", () => {
    for (const variant of Object.keys(rcuTableFreeWalkCache.variants) as Variant[])
      for (const batchMax of [509, 1]) {
        const r = search(variant, { mmu: "hash", user: "thread", allocFail: batchMax === 509, batchMax });
        expect(r.violation, `${variant}/${batchMax}`).toBeNull();
        expect(r.exhaustive, `${variant}/${batchMax}`).toBe(true);
      }
  });

  it("hash needs no invalidate: 2020 flushes as often as 2011 there; d86564a2f085's unconditional hook flushes more", () => {
    const flushes = (variant: Variant) => {
      let n = 0;
      const hash__tlb_flush = function* (k: RKW, tlb: MmuGather): Gen {
        n++;
        yield* powerpcHashOps.tlb_flush(k, tlb);
      };
      const params = { mmu: "hash", user: "thread", allocFail: false, batchMax: 1 } as const;
      search(variant, params, { preemptions: 0, overrides: { hash__tlb_flush } });
      return n;
    };
    expect(flushes("2020-needs-invalidate")).toBe(flushes("after"));
    expect(flushes("2018-invalidate")).toBeGreaterThan(flushes("2020-needs-invalidate"));
  });

  it("the default variant is the 2011 code", () => {
    expect(Object.keys(rcuTableFreeWalkCache.variants)[0]).toBe("after");
  });

  it("every serial schedule is clean, in every variant, on both MMUs, on every path", () => {
    for (const variant of Object.keys(rcuTableFreeWalkCache.variants) as Variant[])
      for (const mmu of ["radix", "hash"] as const)
        for (const params of Object.values(PATHS)) {
          const r = search(variant, { mmu, ...params }, { preemptions: 0 });
          expect(r.violation, `${variant}/${mmu}/${JSON.stringify(params)}`).toBeNull();
        }
  });
});
