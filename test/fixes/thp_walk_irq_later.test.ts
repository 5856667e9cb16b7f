// Fix 004's later history (thp-pmd-clear) and its timed workload. Before 13bd817bb884, MADV_DONTNEED's zap of a
// huge pmd and a small-page refault put a table pointer where an IRQ-off H_ENTER walk holds (pte_t *)pmdp
// (found, minimised, replayed); 13bd817's IPI and the 2020 walk under kvm->mmu_lock are clean (exhaustive); the
// 2020 walk needs both the lock and find_kvm_host_pte's mmu_notifier_retry; the workload's IPI counts follow
// the CPU count, the runtime's IPI-round rule carries the per-pmd cost to 128 CPUs.

import { describe, it, expect } from "vitest";
import { explore, replay, variantDiff } from "../../lib/explore/index";
import { defaultRegistry } from "../../lib/explore/registry";
import "../../lib/fixes/index";
import { thpPmdClear } from "../../lib/fixes/thp-walk-irq/pmd_clear";
import type { LK } from "../../lib/fixes/thp-walk-irq/later";
import { thpSplitInvalidate, pmd_is_serializing, _PAGE_INVALID } from "../../lib/fixes/thp-walk-irq/split_2019";
import { thpWorkloadCost, ipiRoundNs, primerMunmap } from "../../lib/fixes/thp-walk-irq/workload";
import type { Kvm } from "../../lib/kvm/index";
import type { Gen } from "../../lib/sim/machine";
import type { Ptep, PtPage } from "../../lib/mm/mm_types";
import type { PmdPtep } from "../../lib/fixes/thp-walk-irq/era";

const VARIANTS = ["before", "after", "2020"] as const;

describe("thp-pmd-clear: MADV_DONTNEED + refault against KVM's H_ENTER walk", () => {
  it("before (v4.1): the walk reads a table pointer through its (pte_t *)pmdp; 1 preemption; it replays", () => {
    const v = explore(thpPmdClear, { variant: "before" }).violation!;
    expect(v.invariant).toBe("pmd-as-pte");
    expect(v.preemptions).toBe(1);
    const fns = v.trace.map((t) => t.fn);
    expect(fns).toEqual(expect.arrayContaining(["pmdp_get_and_clear", "__pte_alloc", "kvmppc_read_update_linux_pte"]));
    expect(fns).not.toContain("smp_call_function");
    expect(replay(thpPmdClear, { variant: "before", schedule: v.schedule }).violation?.message).toBe(v.message);
  });

  for (const variant of ["after", "2020"] as const) {
    it(`${variant}: exhaustive within the default bound, clean`, () => {
      const r = explore(thpPmdClear, { variant });
      expect(r.violation).toBeNull();
      expect(r.exhaustive).toBe(true);
    });
  }

  it("2020 without find_kvm_host_pte's mmu_notifier_retry: the lock alone does not cover a zap between notifiers", () => {
    function* find_kvm_host_pte(
      k: LK,
      _kvm: Kvm,
      _seq: number,
      ea: number,
      shift: { v: number },
    ): Gen<Ptep | PmdPtep | null> {
      const mm = (k.m.ext.thpKvm as { mm: { pgd: never } }).mm;
      return yield* k.__find_linux_pte_or_hugepte(mm.pgd, ea, shift);
    }
    const r = explore(thpPmdClear, { variant: "2020", overrides: { find_kvm_host_pte } });
    expect(r.violation?.invariant).toBe("pmd-as-pte");
  });

  it("hash_page on the huge pmd: clean in every variant — __hash_page_thp's _PAGE_BUSY holds the clear off", () => {
    for (const variant of VARIANTS) {
      const r = explore(thpPmdClear, { variant, params: { walker: "hash_page" } });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive).toBe(true);
    }
  });

  it("control: a pmd clear that ignores _PAGE_BUSY lets the hash fault use a withdrawn hash-slot array", () => {
    function* pmdp_get_and_clear(k: LK, _mm: unknown, _addr: number, pmdt: PtPage, i: number): Gen<number> {
      k.W(pmdt.base + i, k.m.cur.ev);
      yield;
      const old = pmdt.ent[i];
      pmdt.ent[i] = 0;
      return old;
    }
    const r = explore(thpPmdClear, {
      variant: "before",
      params: { walker: "hash_page" },
      overrides: { pmdp_get_and_clear },
    });
    expect(r.violation?.invariant).toBe("slot-array-after-withdraw");
  });

  it("each variant installs exactly its commit's functions over v4.1", () => {
    expect(variantDiff(thpPmdClear, "before", "after").map((c) => c.name)).toEqual(["pmdp_get_and_clear"]);
    expect(variantDiff(thpPmdClear, "before", "2020").map((c) => c.name)).toEqual(["kvmppc_do_h_enter"]);
  });

  it("every serial schedule is clean, in every variant", () => {
    for (const variant of VARIANTS) {
      const r = explore(thpPmdClear, { variant, preemptions: 0 });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive).toBe(true);
    }
  });

  it("is registered, with its workload", () => {
    expect(defaultRegistry.has("thp-pmd-clear")).toBe(true);
    expect(defaultRegistry.has("thp-walk-irq-workload")).toBe(true);
    expect(defaultRegistry.has("thp-split-invalidate")).toBe(true);
  });
});

describe("thp-split-invalidate: the 2019 split against the same walk (a00196a27216)", () => {
  it("before: a walk started after pmdp_invalidate's IPI takes the invalid pmd as huge; 1 preemption; replays", () => {
    const v = explore(thpSplitInvalidate, { variant: "before" }).violation!;
    expect(v.invariant).toBe("pmd-as-pte");
    expect(v.preemptions).toBe(1);
    const fns = v.trace.map((t) => t.fn);
    // the IPI completed before the walker read the pmd: the serialization alone does not hold it off
    expect(fns.indexOf("smp_call_function")).toBeLessThan(fns.indexOf("kvmppc_do_h_enter"));
    expect(replay(thpSplitInvalidate, { variant: "before", schedule: v.schedule }).violation?.message).toBe(v.message);
  });

  it("after (pmd_is_serializing): exhaustive, clean; serial schedules clean in both", () => {
    const r = explore(thpSplitInvalidate, { variant: "after" });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
    for (const variant of ["before", "after"] as const)
      expect(explore(thpSplitInvalidate, { variant, preemptions: 0 }).violation, variant).toBeNull();
  });

  it("pmd_is_serializing: invalid and not present", () => {
    expect(pmd_is_serializing(_PAGE_INVALID)).toBe(true);
    expect(pmd_is_serializing(_PAGE_INVALID | 1)).toBe(false);
    expect(pmd_is_serializing(0)).toBe(false);
  });
});

describe("thp-walk-irq-workload (timed)", () => {
  it("IPIs: one round to every other CPU per pmd clear (before) and per collapse (both)", () => {
    for (const cpus of [2, 4, 8]) {
      const b = thpWorkloadCost("before", { cpus, pmds: 8, collapses: 2, walks: 4 });
      const a = thpWorkloadCost("after", { cpus, pmds: 8, collapses: 2, walks: 4 });
      expect(b.violation).toBeNull();
      expect(a.violation).toBeNull();
      expect(b.ipis).toBe((cpus - 1) * (8 + 2));
      expect(a.ipis).toBe((cpus - 1) * 2);
    }
  });

  it("IPIs per split (v4.1's pmdp_splitting_flush): one round to every other CPU", () => {
    for (const cpus of [4, 8]) {
      const b = thpWorkloadCost("before", { cpus, pmds: 0, collapses: 0, splits: 3, walks: 0 });
      expect(b.ipis).toBe((cpus - 1) * 3);
      expect(b.nsPerSplit).toBeGreaterThan(0);
    }
  });

  it("IRQ-off time is sampled for the v4.1 walk only (2020 holds kvm->mmu_lock instead)", () => {
    expect(thpWorkloadCost("before", { cpus: 3, walks: 8 }).irqOffNsPerWalk).toBeGreaterThan(0);
    expect(thpWorkloadCost("after", { cpus: 3, walks: 8 }).irqOffNsPerWalk).toBe(0);
  });

  it("per pmd, the IPI round is the difference, and ipiRoundNs predicts its growth with CPUs", () => {
    const costs = { ipi_send: 400 }; // a send loop longer than the flight, so the CPU count shows
    const run = (cpus: number) => thpWorkloadCost("before", { cpus, pmds: 16, collapses: 0, walks: 0 }, costs);
    const rest = [2, 8, 15].map((c) => run(c).nsPerPmd - ipiRoundNs(c, costs));
    expect(rest[1]).toBeCloseTo(rest[0], 6);
    expect(rest[2]).toBeCloseTo(rest[0], 6);
    const after = thpWorkloadCost("after", { cpus: 8, pmds: 16, collapses: 0, walks: 0 }).nsPerPmd;
    expect(thpWorkloadCost("before", { cpus: 8, pmds: 16, collapses: 0, walks: 0 }).nsPerPmd - after).toBeGreaterThan(
      ipiRoundNs(8),
    );
  });

  it("the primer's guest: seconds before, tens of ms after, with the cost model's defaults", () => {
    const p = primerMunmap();
    expect(p.before).toBeGreaterThan(1);
    expect(p.after).toBeLessThan(0.1);
  });
});
