// Fix 003: the using_mmu_notifiers == 0 branch on a PPC970 (pinned guest memory, whole-TLB flush on every
// entry): H_LOCAL is honoured in both eras and nothing the guest can reach is freed; without the pin it would be.
import { describe, it, expect } from "vitest";
import { explore, replay } from "../../lib/explore/index";
import { kvmPinned } from "../../lib/fixes/kvm-local-global/pinned";

describe("kvm-pinned", () => {
  it("before and after: exhausted without a preemption bound, clean", () => {
    for (const variant of ["before", "after"] as const) {
      const r = explore(kvmPinned, { variant, preemptions: Infinity });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
      expect(r.executions, variant).toBeGreaterThan(10_000);
    }
  }, 120_000);

  it("pinned=false (no kernel did this): reclaim frees the page under a valid HPTE, found serially; replays", () => {
    for (const variant of ["before", "after"] as const) {
      const r = explore(kvmPinned, { variant, params: { pinned: false } });
      const v = r.violation!;
      expect(v.invariant, variant).toBe("use-after-free");
      expect(v.message, variant).toMatch(/guest load at 0x1000 .* via HPTE \d+ touched pfn \d+ after it was freed/);
      expect(v.preemptions, variant).toBe(0);
      // the notifier ran but kvm_unmap_hva did nothing: no rmap walk, no tlbie
      const fns = v.trace.map((t) => t.fn);
      expect(fns, variant).toContain("kvm_mmu_notifier_invalidate_page");
      expect(fns, variant).not.toContain("kvm_unmap_rmapp");
      expect(replay(kvmPinned, { variant, params: { pinned: false }, schedule: v.schedule }).violation?.message).toBe(
        v.message,
      );
    }
  }, 60_000);
});
