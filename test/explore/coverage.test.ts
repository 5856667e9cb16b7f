// Coverage (coverage.ts): the step sites a search reached, against those the installed functions declare.

import { describe, it, expect } from "vitest";
import { explore } from "../../lib/explore/explore";
import { declaredSites } from "../../lib/explore/coverage";
import "../../lib/fixes/index";
import "../../lib/examples/index";

const site = (r: ReturnType<typeof explore>, fn: string, what: string) =>
  r.coverage!.functions.find((f) => f.name === fn)?.sites.find((s) => s.what === what);

describe("coverage", () => {
  it("v2.6.21's hpte_update queue site is reached by the before variant and shows as not reached after the fix", () => {
    const before = explore("lazy-mmu-batch", { variant: "before", coverage: true });
    const after = explore("lazy-mmu-batch", { variant: "after", coverage: true });
    const q = "queue flush in ppc64_tlb_batch";
    expect(site(before, "hpte_update", q)!.hits).toBeGreaterThan(0);
    expect(site(after, "hpte_update", q)!.hits).toBe(0);
    // the lazy-MMU hooks the fix adds run in the after variant
    expect(site(after, "arch_leave_lazy_mmu_mode", "batch->active = 0")!.hits).toBeGreaterThan(0);
    expect(after.coverage!.sitesReached).toBeLessThan(after.coverage!.sites);
    expect(after.coverage!.sitesReached).toBeGreaterThan(0);
  });

  it("the spinlock variant of lost-update reaches spin_lock's sites; racy does not", () => {
    const racy = explore("lost-update", { variant: "racy", coverage: true, minimise: false });
    const locked = explore("lost-update", { variant: "spinlock", coverage: true });
    const hits = (r: typeof racy) =>
      r.coverage!.functions.find((f) => f.name === "spin_lock")!.sites.reduce((a, s) => a + s.hits, 0);
    expect(hits(racy)).toBe(0);
    expect(hits(locked)).toBeGreaterThan(0);
  });

  it("reads the sites a file declares, any quotes, options after", () => {
    const text = `const A = event("zap_pte_range", "clear PTE");\nconst B = event('f', \`w "x"\`, { cost: "c" });\nevent(name, "dyn");`;
    expect(declaredSites(text)).toEqual([
      { fn: "zap_pte_range", what: "clear PTE" },
      { fn: "f", what: 'w "x"' },
    ]);
  });
});
