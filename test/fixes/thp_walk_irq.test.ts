// Fix 004 (thp-walk-irq): kvm_htab_write's virtual-mode H_ENTER walks the host tables with IRQs on before
// 691e95fd and uses a PTE page khugepaged has deposited (found, minimised, replayed); after, local_irq_save holds
// the collapse's IPI off (exhaustive, clean). Real mode and hash_page are clean in both; every serial schedule
// is clean; the lazy-IRQ restore keeps the arch's semantics; mmu_notifier_retry is what keeps the HPTE honest.

import { describe, it, expect } from "vitest";
import { explore, replay } from "../../lib/explore/index";
import { thpWalkIrq } from "../../lib/fixes/thp-walk-irq/scenario";
import type { ThpWalkIrqParams } from "../../lib/fixes/thp-walk-irq/scenario";
import { mmu_notifier_retry } from "../../lib/fixes/thp-walk-irq/era";
import type { TK } from "../../lib/fixes/thp-walk-irq/era";
import { defaultRegistry } from "../../lib/explore/registry";
import "../../lib/fixes/index";
import type { Kvm } from "../../lib/kvm/index";
import type { Gen } from "../../lib/sim/machine";

const WALKERS = ["htab_write", "real_mode", "real_mode_secondary", "hash_page"] as const;

function search(variant: "before" | "after", params: Partial<ThpWalkIrqParams>, extra: Record<string, unknown> = {}) {
  return explore(thpWalkIrq, { variant, params, timeLimitMs: 60_000, ...extra });
}

describe("thp-walk-irq: the virtual-mode H_ENTER against a collapse", () => {
  it("before: the walk reads a deposited PTE page; minimised to 1 preemption, 2 CPUs; it replays", () => {
    const v = search("before", { walker: "htab_write" }).violation!;
    expect(v?.invariant).toBe("stale-pte-page");
    expect(v.message).toMatch(/kvmppc_read_update_linux_pte/);
    expect(v.preemptions).toBe(1);
    expect(new Set(v.trace.map((t) => t.cpu)).size).toBe(2);
    expect(v.trace.map((t) => t.fn)).toEqual(
      expect.arrayContaining(["pmdp_clear_flush", "smp_call_function", "pgtable_trans_huge_deposit"]),
    );
    const rp = replay(thpWalkIrq, { schedule: v.schedule, params: { walker: "htab_write" } });
    expect(rp.violation?.message).toBe(v.message);
  });

  it("after: exhaustive within the default bound, clean", () => {
    const r = search("after", { walker: "htab_write" });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("after without mmu_notifier_retry: the HPTE maps a small page the collapse freed (what the retry protects)", () => {
    // notifiers that tell KVM nothing: mmu_notifier_retry never fires, so an HPTE built from a stale PFN is kept
    function* mmu_notifier_invalidate_range_end(_k: TK, _mm: unknown): Gen {}
    function* mmu_notifier_invalidate_range_start(_k: TK, _mm: unknown): Gen {}
    const r = explore(thpWalkIrq, {
      variant: "after",
      params: { walker: "htab_write" },
      overrides: { mmu_notifier_invalidate_range_start, mmu_notifier_invalidate_range_end },
      timeLimitMs: 60_000,
    });
    expect(r.violation?.invariant).toBe("stale-hpte");
  });
});

describe("thp-walk-irq: MSR_EE = 0 walkers and serial schedules", () => {
  for (const variant of ["before", "after"] as const) {
    for (const walker of ["real_mode", "hash_page"] as const) {
      it(`${variant}, ${walker}: exhaustive, clean`, () => {
        const r = search(variant, { walker });
        expect(r.violation).toBeNull();
        expect(r.exhaustive).toBe(true);
      });
    }
  }

  it("every serial schedule is clean, in both variants and all walkers, against a collapse or a split", () => {
    for (const variant of ["before", "after"] as const) {
      for (const walker of WALKERS) {
        for (const other of ["collapse", "split"] as const) {
          const r = search(
            variant,
            { walker, other, backing: other === "split" ? "thp" : "small" },
            { preemptions: 0 },
          );
          expect(r.violation, `${variant} ${walker} ${other}`).toBeNull();
          expect(r.exhaustive).toBe(true);
        }
      }
    }
  });

  it("is registered", () => {
    expect(defaultRegistry.has("thp-walk-irq")).toBe(true);
  });
});

describe("thp-walk-irq: helpers", () => {
  it("mmu_notifier_retry: count or seq", () => {
    const kvm = { mmu_notifier_count: 0, mmu_notifier_seq: 3 } as Kvm;
    expect(mmu_notifier_retry(kvm, 3)).toBe(false);
    expect(mmu_notifier_retry(kvm, 2)).toBe(true);
    expect(mmu_notifier_retry({ ...kvm, mmu_notifier_count: 1 } as Kvm, 3)).toBe(true);
  });
});
