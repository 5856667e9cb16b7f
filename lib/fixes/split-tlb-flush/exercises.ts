// Exercises of notebook 02 (fix 002, split-tlb-flush), and the state a student looks at beside a timeline.
// Each checker computes the truth by running the model: the explorer for verdicts, timed mode for counts.

import type { Gen, Machine } from "../../sim/machine";
import type { KernelFn } from "../../sim/kernel";
import { event } from "../../sim/event";
import type { PageFrame } from "../../sim/page_alloc";
import { explore } from "../../explore/explore";
import type { ExploreResult } from "../../explore/explore";
import type { Overrides } from "../../explore/scenario";
import { mmWorld, PAGE_SIZE, pte_str, pte_present, pte_pfn } from "../../mm/index";
import { TLB_W, TLB_C, X86Hw } from "../../hw/index";
import type { K } from "../../mm/index";
import { hashMmuState } from "../../powerpc/index";
import { splitTlbFlush, splitTlbFlushLastMap, splitTlbFlushOps, SPLIT_BASE, OTHER_BASE } from "./scenario";
import type { SplitArch } from "./scenario";
import { splitTlbFlushCost } from "./workload";
import { defineSources } from "../../sim/sources";
import { checkExercise, ExerciseResult } from "../../classroom/exercise";

export type SplitVariant = "before" | "after" | "later";
export type SplitScenarioId = "split-tlb-flush" | "split-tlb-flush-last-map";
export const SPLIT_VARIANTS: readonly SplitVariant[] = ["before", "after", "later"];
export const SPLIT_SCENARIOS: readonly SplitScenarioId[] = ["split-tlb-flush", "split-tlb-flush-last-map"];
export const SPLIT_ARCHES: readonly SplitArch[] = ["x86", "hash"];

const scenarioOf = (id: SplitScenarioId) => (id === "split-tlb-flush" ? splitTlbFlush : splitTlbFlushLastMap);

// ---- state beside a timeline -------------------------------------------------------------------------------

export type SplitStateRow = {
  /** "struct page", "disk", "PTE in mm a", "TLB core 1", "HPTE slot n"… */
  where: string;
  detail: string;
};

/**
 * What decides the lost write, read without steps (ghost reads) on machine `m` of either scenario: the file
 * page (PG_dirty, mapcount, the version its frame holds), the disk block's version, the PTE of each mm that
 * maps the file, and the translations CPUs may still store through (x86 TLB entries; hash HPTEs and TLBs).
 */
export function splitState(m: Machine): SplitStateRow[] {
  const w = mmWorld(m);
  const L = w.L;
  const file = w.files[0];
  const rows: SplitStateRow[] = [];
  const pfn = file.pages[0];
  if (pfn >= 0) {
    const page = w.pages[pfn];
    rows.push({
      where: "struct page",
      detail: `pfn ${pfn}: PG_dirty=${page.dirty ? 1 : 0}, mapcount=${page.mapcount}, PG_locked=${page.locked ? 1 : 0}`,
    });
    rows.push({ where: "page contents", detail: `store v${w.pa.frames[pfn].data}` });
  } else rows.push({ where: "struct page", detail: "no longer in the page cache (reclaimed)" });
  rows.push({ where: "disk block", detail: `v${file.disk[0]}` });
  for (const mm of w.mms) {
    const ea = mm.name === "a" ? SPLIT_BASE : OTHER_BASE;
    const v = w.pteValue(mm, ea);
    rows.push({
      where: `PTE, mm ${mm.name} @0x${ea.toString(16)}`,
      detail: v === 0 ? "none" : pte_str(v, L) + (pte_present(v, L) ? ` → pfn ${pte_pfn(v, L)}` : ""),
    });
  }
  const mmA = w.mms.find((x) => x.name === "a")!;
  if (w.hw instanceof X86Hw) {
    const tlb = w.hw.tlb;
    const tag = mmA.contextId * 2 ** 20 + Math.floor(SPLIT_BASE / PAGE_SIZE);
    for (let core = 0; core < tlb.cores; core++) {
      const i = tlb.lookup(core, tag);
      if (i < 0) continue;
      rows.push({ where: `TLB core ${core}`, detail: `→ pfn ${tlb.pfn[i]}, ${tlbFlags(tlb.flags[i])}` });
    }
  } else {
    for (const r of hashMmuState(m, SPLIT_BASE, "a")) {
      if (r.where === "Linux PTE") continue;
      const tf = /^flags (\d+)$/.exec(r.detail);
      const detail = tf ? tlbFlags(Number(tf[1])) : r.detail;
      rows.push({ where: r.where, detail: `→ pfn ${r.pfn}, ${detail}` });
    }
  }
  return rows;
}

const tlbFlags = (f: number): string =>
  `${f & TLB_W ? "writable" : "read-only"}, ${f & TLB_C ? "dirty cached: a store needs no page-table update" : "clean: a store must walk the page table"}`;

// ---- the verdicts ----------------------------------------------------------------------------------------------

export interface Verdict {
  scenario: SplitScenarioId;
  arch: SplitArch;
  variant: SplitVariant;
  /** The invariant the explorer found broken, or null when the default bound was exhausted clean. */
  violation: string | null;
  exhaustive: boolean;
  executions: number;
  preemptions: number | null;
  ms: number;
}

function verdictOf(scenario: SplitScenarioId, arch: SplitArch, variant: SplitVariant, r: ExploreResult): Verdict {
  return {
    scenario,
    arch,
    variant,
    violation: r.violation ? r.violation.invariant : null,
    exhaustive: r.exhaustive,
    executions: r.executions,
    preemptions: r.violation ? r.violation.preemptions : null,
    ms: r.elapsedMs,
  };
}

/** A checker never decides from a search that neither found a violation nor finished: it says so instead. */
function inconclusive(r: ExploreResult, what: string): void {
  if (!r.violation && !r.exhaustive)
    throw new Error(
      `the search of ${what} ran out of time after ${r.executions} executions without a verdict: try again on a less busy machine`,
    );
}

/** Search one setup with the scenario's default bounds (DFS, minimised counterexample). */
export function verdict(
  scenario: SplitScenarioId,
  arch: SplitArch,
  variant: SplitVariant,
  overrides: Overrides<typeof splitTlbFlushOps> = {},
): Verdict {
  const r = explore(scenarioOf(scenario), {
    variant,
    params: { arch },
    overrides,
    minimise: false,
    timeLimitMs: 120_000,
  });
  inconclusive(r, `${scenario} ${variant} on ${arch}`);
  return verdictOf(scenario, arch, variant, r);
}

/** Variants that lose the write in one setup, decided by search. */
export function losingVariants(
  scenario: SplitScenarioId,
  arch: SplitArch,
  overrides: Overrides<typeof splitTlbFlushOps> = {},
): SplitVariant[] {
  return SPLIT_VARIANTS.filter((v) => verdict(scenario, arch, v, overrides).violation !== null);
}

// ---- exercise 1: a page_mkclean that does not trust page_mapped() ---------------------------------------------

const E_MAPPED_ANYWAY = event("page_mkclean", "page->mapping? (page_mapped not tested)", { cost: "mem" });

/**
 * page_mkclean without the early return: it walks the file's i_mmap even when page_mapped() is false, taking
 * the PTE lock of every mapping that covers the page's index (the zapped vma is still in i_mmap during
 * MADV_DONTNEED). A thought experiment, not a kernel that shipped.
 */
export function* page_mkclean_always_walk(k: K, f: PageFrame): Gen<number> {
  const w = mmWorld(k.m);
  const page = w.pages[f.pfn];
  k.R(page.id, E_MAPPED_ANYWAY);
  yield;
  if (page.mapping === null) return 0;
  const mapping = page.mapping;
  const index = page.index;
  let ret = 0;
  for (const vma of mapping.i_mmap) {
    const addr = vma.start + (index - vma.pgoff) * PAGE_SIZE;
    if (addr < vma.start || addr >= vma.end) continue;
    ret += yield* k.page_mkclean_one(f, vma, addr);
  }
  return ret;
}

/** The setup of exercise 1: the last-mapping scenario, on both MMUs, with page_mkclean_always_walk. */
export const EXERCISE1 = {
  scenario: "split-tlb-flush-last-map",
  override: "page_mkclean = page_mkclean_always_walk",
} as const;

export type VariantsByArch = { x86: SplitVariant[]; hash: SplitVariant[] };

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * Exercise 1: with a page_mkclean that walks i_mmap even for an unmapped page, which variants lose the write in
 * split-tlb-flush-last-map, on x86 and on hash?
 */
export function checkAlwaysWalk(answer: VariantsByArch | undefined): ExerciseResult {
  return checkExercise("exercise 1 (page_mkclean always walks)", answer, (a) => {
    for (const arch of SPLIT_ARCHES) {
      if (!Array.isArray(a[arch]))
        return { ok: false, message: `give a list of variants for ${arch}, e.g. { x86: ["before"], hash: [] }` };
      const bad = a[arch].filter((v) => !SPLIT_VARIANTS.includes(v));
      if (bad.length)
        return { ok: false, message: `unknown variant(s) ${bad.join(", ")}: use "before", "after", "later"` };
    }
    const overrides = { page_mkclean: page_mkclean_always_walk };
    const truth = {
      x86: losingVariants(EXERCISE1.scenario, "x86", overrides),
      hash: losingVariants(EXERCISE1.scenario, "hash", overrides),
    };
    const wrong = SPLIT_ARCHES.filter((arch) => !sameSet(a[arch], truth[arch]));
    if (wrong.length === 0) {
      return {
        ok: true,
        message: `right: x86 loses it in [${truth.x86.join(", ") || "none"}], hash in [${truth.hash.join(", ") || "none"}]. Once page_mkclean must take the zapped PTE's lock, what matters is only whether the TLB flush comes before that lock is dropped`,
      };
    }
    return {
      ok: false,
      message: `not quite for ${wrong.join(" and ")}: for each variant ask where the TLB flush runs relative to pte_unmap_unlock, now that page_mkclean always waits for that lock`,
    };
  });
}

// ---- exercise 2: break v6.2 ----------------------------------------------------------------------------------

/**
 * Exercise 2: a tlb_flush_mmu_tlbonly for the `later` (v6.2) kernel that runs the delayed rmap removals
 * (tlb_flush_rmaps) BEFORE the TLB flush; the student names the invariant the explorer reports and the
 * scenarios that break, on x86.
 */
export function checkRmapsFirst(
  answer: { tlbonly: KernelFn; invariant: string; scenarios: SplitScenarioId[] } | undefined,
): ExerciseResult {
  return checkExercise("exercise 2 (break v6.2)", answer, (a) => {
    if (typeof a.tlbonly !== "function")
      return { ok: false, message: "tlbonly must be a generator function: function* (k, tlb) { … }" };
    if (!Array.isArray(a.scenarios))
      return { ok: false, message: `scenarios must be a list, e.g. ["split-tlb-flush"]` };
    const broken: SplitScenarioId[] = [];
    let invariant: string | null = null;
    for (const s of SPLIT_SCENARIOS) {
      const r = explore(scenarioOf(s), {
        variant: "later",
        params: { arch: "x86" },
        overrides: { tlb_flush_mmu_tlbonly: a.tlbonly },
        minimise: false,
        timeLimitMs: 120_000,
      });
      inconclusive(r, `${s} later on x86 with your tlb_flush_mmu_tlbonly`);
      if (r.violation) {
        broken.push(s);
        invariant = invariant ?? r.violation.invariant;
      }
    }
    if (broken.length === 0) {
      return {
        ok: false,
        message:
          "the explorer found nothing in either scenario: your tlb_flush_mmu_tlbonly still flushes before the rmap goes (does it call k.tlb_flush_rmaps before k.tlb_flush?)",
      };
    }
    if (invariant !== a.invariant)
      return {
        ok: false,
        message: `your version does break v6.2, but the explorer reports "${invariant}", not "${a.invariant}"`,
      };
    if (!sameSet(a.scenarios, broken)) {
      return {
        ok: false,
        message: `the invariant is right, but not the scenarios that break: which page_mkclean still takes the zapped PTE's lock when the rmap is gone early?`,
      };
    }
    return {
      ok: true,
      message: `right: ${invariant} in ${broken.join(", ")} only. The rmap is the only thing that makes page_mkclean wait for the last mapping's PTE lock; another mapping keeps the page mapped, and then the walk waits anyway`,
    };
  });
}

// ---- exercise 3: forced flushes ---------------------------------------------------------------------------------

/** The munmap of exercise 3: dirty MAP_SHARED pages of an mm that ran on 4 CPUs, x86, 512 PTEs per table. */
export const EXERCISE3 = { pages: 1300, cpus: 4, kind: "dirty-shared", arch: "x86" } as const;

/**
 * Exercise 3: how many TLB shootdowns does munmap of EXERCISE3.pages dirty shared pages issue in each variant?
 */
export function checkShootdowns(answer: Record<SplitVariant, number> | undefined): ExerciseResult {
  return checkExercise("exercise 3 (forced flushes)", answer, (a) => {
    const truth = {} as Record<SplitVariant, number>;
    for (const v of SPLIT_VARIANTS) truth[v] = splitTlbFlushCost(v, { ...EXERCISE3 }).shootdowns;
    const wrong = SPLIT_VARIANTS.filter((v) => a[v] !== truth[v]);
    if (wrong.length === 0)
      return {
        ok: true,
        message: `right: before ${truth.before}, after ${truth.after}, later ${truth.later} shootdowns`,
      };
    return {
      ok: false,
      message: `not quite for ${wrong.join(", ")}: count the PTE tables the range spans (512 pages each) and ask when each kernel must flush; the v3.14 gather holds about 10k pages`,
    };
  });
}

defineSources(__dirname, { exercises: { page_mkclean_always_walk } });
