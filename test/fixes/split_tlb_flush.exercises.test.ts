// The exercise checkers of notebook 02 pass a right answer, fail a wrong one, and stay quiet when unanswered.
// The right answers are reasoned out by hand below (the checkers compute theirs by running the model).

import { describe, it, expect } from "vitest";
import { formatResult } from "../../lib/classroom/index";
import * as ex from "../../lib/fixes/split-tlb-flush/exercises";
import { explore, replay } from "../../lib/explore/index";
import { splitTlbFlush } from "../../lib/fixes/split-tlb-flush/scenario";
import type { Gen } from "../../lib/sim/machine";
import type { K } from "../../lib/mm/index";
import type { MmuGather } from "../../lib/mm/mmu_gather";

/** Exercise 2's answer: v6.2's tlb_flush_mmu_tlbonly with the delayed rmap removals moved before the flush. */
function* rmapsFirst(k: K & { tlb_flush_rmaps(tlb: MmuGather, vma: unknown): Gen }, tlb: MmuGather): Gen {
  if (!tlb.need_flush) return;
  yield* k.tlb_flush_rmaps(tlb, tlb.mm.vmas[0]);
  yield* k.tlb_flush(tlb);
  tlb.need_flush = false;
}

/** A tlbonly that keeps v6.2's order (flush, then the caller's tlb_flush_rmaps): breaks nothing. */
function* flushOnly(k: K, tlb: MmuGather): Gen {
  if (!tlb.need_flush) return;
  yield* k.tlb_flush(tlb);
  tlb.need_flush = false;
}

describe("notebook 02 exercises", () => {
  // With page_mkclean walking i_mmap even for an unmapped page, it takes the zapped PTE's lock. x86 v3.14 still
  // flushes after pte_unmap_unlock: lost. 1cf35d47 and v6.2 flush before the unlock: safe. On hash the lazy-MMU
  // leave flushes (tlbie) under the lock in every variant: safe in all three.
  it("exercise 1: x86 loses it only before 1cf35d47; hash never", { timeout: 240_000 }, () => {
    expect(ex.checkAlwaysWalk({ x86: ["before"], hash: [] }).status).toBe("correct");
    expect(ex.checkAlwaysWalk({ x86: ["before", "after"], hash: [] }).status).toBe("incorrect");
    expect(ex.checkAlwaysWalk({ x86: ["before"], hash: ["before", "after"] }).status).toBe("incorrect");
    expect(ex.checkAlwaysWalk({ x86: ["bogus" as never], hash: [] }).status).toBe("incorrect");
    expect(ex.checkAlwaysWalk({ x86: ["before"] } as never).status).toBe("incorrect");
    const none = ex.checkAlwaysWalk(undefined);
    expect(none.status).toBe("not attempted");
    expect(formatResult(none)).toMatch(/not attempted/);
  });

  // Dropping the rmap before the flush is exactly 1cf35d47's order: for the last mapping page_mkclean returns at
  // once (lost write); with another mapping the page stays mapped, the walk takes the zapped PTE's lock and waits.
  it("exercise 2: rmaps before the flush breaks the last mapping only, as lost-write", { timeout: 240_000 }, () => {
    expect(
      ex.checkRmapsFirst({
        tlbonly: rmapsFirst as never,
        invariant: "lost-write",
        scenarios: ["split-tlb-flush-last-map"],
      }).status,
    ).toBe("correct");
    expect(
      ex.checkRmapsFirst({
        tlbonly: rmapsFirst as never,
        invariant: "lost-write",
        scenarios: ["split-tlb-flush", "split-tlb-flush-last-map"],
      }).status,
    ).toBe("incorrect");
    expect(
      ex.checkRmapsFirst({
        tlbonly: rmapsFirst as never,
        invariant: "stale-translation",
        scenarios: ["split-tlb-flush-last-map"],
      }).status,
    ).toBe("incorrect");
    expect(
      ex.checkRmapsFirst({
        tlbonly: flushOnly as never,
        invariant: "lost-write",
        scenarios: ["split-tlb-flush-last-map"],
      }).status,
    ).toBe("incorrect");
    expect(ex.checkRmapsFirst({ tlbonly: 1 as never, invariant: "lost-write", scenarios: [] }).status).toBe(
      "incorrect",
    );
    expect(ex.checkRmapsFirst(undefined).status).toBe("not attempted");
  });

  // 1300 pages = 512 + 512 + 276: three PTE tables, each holding dirty shared PTEs. v3.14 gathers ~10k pages, so
  // one flush at tlb_finish_mmu; 1cf35d47 and v6.2 force one flush per table, under its lock, and nothing is left
  // for tlb_finish_mmu. 4 CPUs ran the mm, so each flush is a shootdown.
  it("exercise 3: 1 shootdown before, 3 after and later", () => {
    expect(ex.EXERCISE3.pages).toBe(1300);
    expect(ex.checkShootdowns({ before: 1, after: 3, later: 3 }).status).toBe("correct");
    expect(ex.checkShootdowns({ before: 1, after: 4, later: 4 }).status).toBe("incorrect");
    expect(ex.checkShootdowns({ before: 3, after: 3, later: 3 }).status).toBe("incorrect");
    expect(ex.checkShootdowns(undefined).status).toBe("not attempted");
  });

  it(
    "verdict and losingVariants agree with the explorer (x86, the first scenario: before only)",
    { timeout: 240_000 },
    () => {
      expect(ex.losingVariants("split-tlb-flush", "x86")).toEqual(["before"]);
    },
  );

  it("splitState shows the page clean, the disk behind, and CPU 1's dirty TLB entry just before the lost store", () => {
    const v = explore(splitTlbFlush, { variant: "before" }).violation!;
    const store = v.trace.findIndex((t) => t.fn === "(hw) store");
    expect(store).toBeGreaterThan(0);
    const rows = ex.splitState(replay(splitTlbFlush, { schedule: v.schedule, stopAt: store }).machine);
    const row = (w: string) => rows.find((r) => r.where.startsWith(w))?.detail ?? "";
    expect(row("struct page")).toMatch(/PG_dirty=0/);
    expect(row("page contents")).toBe("store v5");
    expect(row("disk block")).toBe("v5");
    expect(row("PTE, mm a")).toBe("none");
    expect(row("TLB core 1")).toMatch(/dirty cached/);
  });
});
