// Fix 001's x86 comparison (v3.0: no HAVE_RCU_TABLE_FREE, tables freed right after tlb_flush's IPI shootdown):
// an IRQ-off walker (x86's get_user_pages_fast) is never handed a freed table; an rcu_read_lock_sched walker is
// (it takes the IPI with IRQs on, mid-walk); freeing before the flush is found. v3.14's range tlb_flush on the
// model's zapped-PTE range would send no IPI for a table-only unmap: the control shows that it would matter.

import { describe, it, expect } from "vitest";
import { explore, replay } from "../../lib/explore/index";
import { rcuTableFreeX86 } from "../../lib/fixes/rcu-table-free/x86";
import type { RcuTableFreeX86Params } from "../../lib/fixes/rcu-table-free/x86";
import { x86Ops } from "../../lib/x86/index";
import { run } from "../../lib/cli/main";

function search(variant: "v30" | "naive", params: Partial<RcuTableFreeX86Params>, extra: Record<string, unknown> = {}) {
  return explore(rcuTableFreeX86, { variant, params, timeLimitMs: 60_000, ...extra });
}

describe("rcu-table-free-x86 (v3.0)", () => {
  for (const user of ["thread", "kthread"] as const)
    for (const populated of [true, false]) {
      it(`gup_fast, ${user}, PTE ${populated ? "present" : "none"}: the IPI waits for the IRQ-off walk — exhausted, clean`, () => {
        const r = search("v30", { walker: "gup_fast", user, populated });
        expect(r.violation).toBeNull();
        expect(r.exhaustive).toBe(true);
      });
    }

  it("gup_fast: DPOR exhausts the unbounded space too", () => {
    const r = search("v30", { walker: "gup_fast" }, { preemptions: Infinity });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("rcu_sched walker: it takes flush_tlb_func with IRQs on, mid-walk, and reads the freed table; it replays", () => {
    const r = search("v30", { walker: "rcu_sched" });
    const v = r.violation!;
    expect(v?.invariant).toBe("use-after-free");
    expect(v.message).toMatch(/^rcu_sched_walk \(page-table walk\)/);
    expect(v.preemptions).toBe(1);
    // flush_tlb_func ran on the walker's CPU between two of its reads, and the tables were freed after it
    const ipi = v.trace.findIndex((t) => t.ctx === "irq" && t.cpu === 1 && t.thread === "flush_tlb_func");
    const walks = v.trace.map((t, i) => (t.fn === "rcu_sched_walk" ? i : -1)).filter((i) => i >= 0);
    expect(ipi).toBeGreaterThan(walks[0]);
    expect(ipi).toBeLessThan(walks[walks.length - 1]);
    expect(v.trace.slice(ipi).map((t) => `${t.cpu}:${t.fn}`)).toContain("0:__free_pages");
    const rp = replay(rcuTableFreeX86, { schedule: v.schedule, params: { walker: "rcu_sched" } });
    expect(rp.violation?.message).toBe(v.message);
  });

  it("naive (the table freed before the flush): gup_fast reads it, ≥1 preemption, steps from both CPUs", () => {
    const v = search("naive", { walker: "gup_fast" }).violation!;
    expect(v?.invariant).toBe("use-after-free");
    expect(v.preemptions).toBeGreaterThanOrEqual(1);
    expect(new Set(v.trace.map((t) => t.cpu)).size).toBe(2);
  });

  it("every serial schedule is clean, in both variants, for both walkers", () => {
    for (const variant of ["v30", "naive"] as const)
      for (const walker of ["gup_fast", "rcu_sched"] as const)
        for (const populated of [true, false]) {
          const r = search(variant, { walker, populated }, { preemptions: 0 });
          expect(r.violation, `${variant}/${walker}/${populated}`).toBeNull();
          expect(r.exhaustive).toBe(true);
        }
  });

  it("control: v3.14's tlb_flush on the model's zapped-PTE range sends no IPI when no PTE was present", () => {
    // v3.14 flushes the whole range tlb_gather_mmu was given; the model's gather has only the zapped PTEs.
    const ok = search("v30", { walker: "gup_fast", populated: true }, { overrides: { tlb_flush: x86Ops.tlb_flush } });
    expect(ok.violation).toBeNull();
    const v = search(
      "v30",
      { walker: "gup_fast", populated: false },
      { overrides: { tlb_flush: x86Ops.tlb_flush } },
    ).violation!;
    expect(v?.invariant).toBe("use-after-free");
    expect(v.trace.map((t) => t.fn)).not.toContain("flush_tlb_func");
  });

  it("CLI: explore rcu-table-free-x86 exits 0 exhaustive; --param walker=rcu_sched exits 1", () => {
    const o: string[] = [];
    expect(
      run(
        ["explore", "rcu-table-free-x86", "--json"],
        (x) => o.push(x),
        () => {},
      ),
    ).toBe(0);
    expect(JSON.parse(o.join("\n")).exhaustive).toBe(true);
    const p: string[] = [];
    const argv = ["explore", "rcu-table-free-x86", "--param", "walker=rcu_sched", "--json"];
    expect(
      run(
        argv,
        (x) => p.push(x),
        () => {},
      ),
    ).toBe(1);
    expect(JSON.parse(p.join("\n")).violation.invariant).toBe("use-after-free");
  });
});
