// Fix 004 (thp-walk-irq), the paths of the diff: kvmppc_do_h_enter's page sizes (POWER7 4K/64K/16M) against the
// host backing (4K/64K pages, 16M THP, 16M hugetlbfs) and every error return; the H_PARAMETER return that restores
// the hcall's `flags` instead of `irq_flags` (a finding, reproduced as upstream has it); the split race (benign:
// the pfn does not change); and POWER7's vcore threading as the reason the real-mode walk is safe.

import { describe, it, expect } from "vitest";
import { explore, outcomes, replay } from "../../lib/explore/index";
import { thpWalkIrq } from "../../lib/fixes/thp-walk-irq/scenario";
import type { ThpWalkIrqParams } from "../../lib/fixes/thp-walk-irq/scenario";
import {
  hpte_page_size,
  hpte_base_page_size,
  hpte_lp,
  slot_is_aligned,
  MMU_PAGE_4K,
  MMU_PAGE_64K,
  MMU_PAGE_16M,
} from "../../lib/fixes/thp-walk-irq/era";
import { _PAGE_SPLITTING } from "../../lib/fixes/thp-walk-irq/era";
import type { TK } from "../../lib/fixes/thp-walk-irq/era";
import { HPTE_V_LARGE } from "../../lib/hw/power7";
import { event } from "../../lib/sim/event";
import { pte_bits } from "../../lib/mm/pgtable";
import type { MmStruct, PtPage } from "../../lib/mm/mm_types";
import type { Kvm } from "../../lib/kvm/index";
import type { Machine } from "../../lib/sim/machine";
import type { Gen } from "../../lib/sim/machine";

type P = Partial<ThpWalkIrqParams>;
const search = (variant: "before" | "after", params: P, extra: Record<string, unknown> = {}) =>
  explore(thpWalkIrq, { variant, params, timeLimitMs: 60_000, ...extra });
const ends = (variant: "before" | "after", params: P) =>
  outcomes(thpWalkIrq, { variant, params, preemptions: 2 }).counts;

describe("POWER7 page sizes (__hpte_page_size of the era)", () => {
  it("4K without LARGE; 64K, 16M and 4K-base/64K-actual from LP; an LP no size encodes is 0", () => {
    expect(hpte_page_size(0n, 0n)).toBe(0x1000n);
    expect(hpte_page_size(HPTE_V_LARGE, hpte_lp(MMU_PAGE_64K, MMU_PAGE_64K))).toBe(0x10000n);
    expect(hpte_page_size(HPTE_V_LARGE, hpte_lp(MMU_PAGE_16M, MMU_PAGE_16M))).toBe(0x1000000n);
    // MPSS: a 64K page in a 4K segment: actual 64K, base 4K
    expect(hpte_page_size(HPTE_V_LARGE, hpte_lp(MMU_PAGE_4K, MMU_PAGE_64K))).toBe(0x10000n);
    expect(hpte_base_page_size(HPTE_V_LARGE, hpte_lp(MMU_PAGE_4K, MMU_PAGE_64K))).toBe(0x1000n);
    // a 64K page's LP keeps RPN bits in its upper nibble: only the low 4 bits encode the size
    expect(hpte_page_size(HPTE_V_LARGE, hpte_lp(MMU_PAGE_64K, MMU_PAGE_64K) | 0xa0000n)).toBe(0x10000n);
    expect(hpte_page_size(HPTE_V_LARGE, 0xff000n)).toBe(0n);
  });

  it("slot_is_aligned: a large page must be aligned in the memslot's gfns (in host pages)", () => {
    const m = { ext: { thpHost: { PAGE_SIZE: 0x10000, PMD_SHIFT: 24 }, thpSlotPages: 512 } } as unknown as Machine;
    const at = (base_gfn: number) => ({ memslot: { base_gfn } }) as unknown as Kvm;
    expect(slot_is_aligned(m, at(0), 0x1000000n)).toBe(true);
    expect(slot_is_aligned(m, at(1), 0x10000n)).toBe(true); // not larger than PAGE_SIZE
    expect(slot_is_aligned(m, at(1), 0x1000000n)).toBe(false);
    (m.ext as { thpSlotPages: number }).thpSlotPages = 300;
    expect(slot_is_aligned(m, at(0), 0x1000000n)).toBe(false);
  });
});

describe("kvmppc_do_h_enter: every return, guest page size against host backing", () => {
  // (guest page, host page, backing) → what a lone H_ENTER returns, the same in both variants and both modes
  const cases: [P, string][] = [
    [{ guestPage: "4K", hostPage: "64K", backing: "small" }, "H_SUCCESS"],
    [{ guestPage: "4K", hostPage: "4K", backing: "small" }, "H_SUCCESS"],
    [{ guestPage: "64K", hostPage: "64K", backing: "small" }, "H_SUCCESS"],
    [{ guestPage: "64K", hostPage: "4K", backing: "small" }, "H_PARAMETER"], // host_pte_size < psize
    [{ guestPage: "16M", hostPage: "64K", backing: "small" }, "H_PARAMETER"],
    [{ guestPage: "16M", hostPage: "4K", backing: "small" }, "H_PARAMETER"],
    [{ guestPage: "4K", backing: "thp" }, "H_SUCCESS"],
    [{ guestPage: "64K", backing: "thp" }, "H_SUCCESS"],
    [{ guestPage: "16M", backing: "thp" }, "H_SUCCESS"],
    [{ guestPage: "16M", hostPage: "4K", backing: "hugetlb" }, "H_SUCCESS"],
    [{ guestPage: "bad-lp" }, "H_PARAMETER"], // !psize
    [{ guestPage: "mmio" }, "H_SUCCESS"], // emulated MMIO: an absent HPTE with key 31
    [{ slotBusy: true }, "H_PTEG_FULL"], // H_EXACT, slot in use
    [{ slotBusy: true, exact: false }, "H_PTEG_FULL"], // the PTEG scan, both passes
    [{ exact: false }, "H_SUCCESS"],
  ];
  for (const walker of ["real_mode", "htab_write"] as const) {
    for (const variant of ["before", "after"] as const) {
      for (const [p, ret] of cases) {
        // the one exception, the finding below: after's virtual-mode H_PARAMETER for a size mismatch
        const finding =
          variant === "after" && walker === "htab_write" && ret === "H_PARAMETER" && !p.guestPage?.startsWith("bad");
        it(`${variant} ${walker} ${JSON.stringify(p)} → ${finding ? "irqs-off-at-return" : ret}`, () => {
          const c = ends(variant, { walker, other: "none", ...p });
          expect(c).toEqual(finding ? { "irqs-off-at-return": 1 } : { [`${ret} soft_enabled=1`]: 1 });
        });
      }
    }
  }
});

describe("the H_PARAMETER return restores the hcall's flags (691e95fd, unchanged upstream for years): a finding", () => {
  const p: P = { walker: "htab_write", other: "none", guestPage: "64K", hostPage: "4K" };

  it("after: a serial run returns to user space soft-disabled; the schedule replays; before is balanced", () => {
    const v = search("after", p).violation!;
    expect(v.invariant).toBe("irqs-off-at-return");
    expect(v.preemptions).toBe(0);
    const fns = v.trace.map((t) => t.fn);
    expect(fns).toContain("kvmppc_do_h_enter");
    // the save, then restore(flags): the runtime's own steps under ppc64's lazy model, one each
    expect(fns.filter((f) => f === "local_irq_save").length).toBe(1);
    expect(fns.filter((f) => f === "local_irq_restore").length).toBe(1);
    expect(fns).not.toContain("kvmppc_read_update_linux_pte"); // returned before the PTE was read
    expect(replay(thpWalkIrq, { schedule: v.schedule, params: p }).violation?.invariant).toBe(v.invariant);
    expect(search("before", p).violation).toBeNull();
  });

  it("after, against a collapse: balanced only when the collapse's IPI was latched during the walk (replayed)", () => {
    const c = ends("after", { ...p, other: "collapse" });
    expect(c["irqs-off-at-return"]).toBeGreaterThan(0);
    expect(c["H_PARAMETER soft_enabled=1"]).toBeGreaterThan(0); // irq_happened set: set_soft_enabled(1), replay
    expect(ends("before", { ...p, other: "collapse" })["irqs-off-at-return"]).toBeUndefined();
  });

  it("after: a split turns a 16M THP into 64K PTEs, and a 16M guest page then takes the same return", () => {
    const v = search("after", { walker: "htab_write", other: "split", backing: "thp", guestPage: "16M" }).violation;
    expect(v?.invariant).toBe("irqs-off-at-return");
  });

  it("real mode takes no IRQ change on that return: clean", () => {
    expect(ends("after", { ...p, walker: "real_mode" })).toEqual({ "H_PARAMETER soft_enabled=1": 1 });
  });
});

describe("the split race: a walker that saw a huge pmd, against split_huge_page", () => {
  for (const variant of ["before", "after"] as const) {
    for (const walker of ["htab_write", "real_mode", "hash_page"] as const) {
      it(`${variant}, ${walker}: exhaustive, clean (the pfn does not change; the notifiers unmap the HPTE)`, () => {
        const r = search(variant, { walker, other: "split", backing: "thp" });
        expect(r.violation).toBeNull();
        expect(r.exhaustive).toBe(true);
      });
    }
  }

  it("hash_page on a THP without the split's kick: still clean, _PAGE_BUSY orders __hash_page_thp and the mark", () => {
    function* kick_all_cpus_sync(): Gen {}
    const p: P = { walker: "hash_page", other: "split", backing: "thp" };
    const r = search("after", p, { overrides: { kick_all_cpus_sync } });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("control: a mark that ignores _PAGE_BUSY, and no kick: hash_page writes a slot array already withdrawn", () => {
    const E = event("pmdp_splitting_flush", "set _PAGE_SPLITTING without waiting for _PAGE_BUSY", { cost: "atomic" });
    function* pmdp_splitting_flush(k: TK, _mm: MmStruct, _a: number, pmdt: PtPage, i: number): Gen {
      k.W(pmdt.base + i, E);
      yield;
      pmdt.ent[i] = pte_bits(pmdt.ent[i], 0, _PAGE_SPLITTING);
    }
    const p: P = { walker: "hash_page", other: "split", backing: "thp" };
    const v = search("after", p, { overrides: { pmdp_splitting_flush } }).violation;
    expect(v?.invariant).toBe("slot-array-after-withdraw");
  });
});

describe("POWER7 vcore threading: why the guest's real-mode H_ENTER needs no local_irq_save", () => {
  for (const variant of ["before", "after"] as const) {
    it(`${variant}: a secondary thread's real-mode H_ENTER against a collapse: exhaustive, clean`, () => {
      const r = search(variant, { walker: "real_mode_secondary" });
      expect(r.violation).toBeNull();
      expect(r.exhaustive).toBe(true);
    });
  }

  it("control: a primary that takes the IPI without waiting for the secondaries lets the collapse through", () => {
    function* guest_exit_cont(): Gen {}
    const v = search("after", { walker: "real_mode_secondary" }, { overrides: { guest_exit_cont } }).violation;
    expect(v?.invariant).toBe("stale-pte-page");
    expect(v?.message).toMatch(/kvmppc_read_update_linux_pte/);
  });
});

describe("bad parameters", () => {
  it("a THP needs 64K host pages; a split needs a THP", () => {
    expect(() => search("after", { backing: "thp", hostPage: "4K" })).toThrow(/64K/);
    expect(() => search("after", { other: "split" })).toThrow(/backing=thp/);
  });
});
