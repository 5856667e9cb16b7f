// Exercises of notebook 05 (fix 004, thp-walk-irq), and the pmd state a student reads at a violating step. Each
// checker computes the truth by running the model: the timed workload for IPI counts, the explorer for where an
// IPI must go to hold off an IRQ-off walker.

import type { Gen, Machine } from "../../sim/machine";
import { explore } from "../../explore/explore";
import { replay } from "../../explore/explore";
import type { ExploreResult } from "../../explore/explore";
import type { AnyScenario } from "../../explore/scenario";
import type { Violation } from "../../sim/trace";
import { checkExercise } from "../../classroom/exercise";
import type { ExerciseResult } from "../../classroom/exercise";
import { mmWorld, PMD_LEVEL, PTE_LEVEL } from "../../mm/mm_types";
import { event } from "../../sim/event";
import { GFP_KERNEL } from "../../sim/page_alloc";
import type { MmStruct, PtPage } from "../../mm/mm_types";
import { pte_pfn } from "../../mm/pgtable";
import { PAGE_FREE } from "../../sim/page_alloc";
import { pmd_trans_huge, pmd_trans_splitting, thp, PPC64_64K } from "./era";
import { thpPmdClear } from "./pmd_clear";
import { pmdp_get_and_clear as later_pmdp_get_and_clear, zap_huge_pmd as later_zap_huge_pmd } from "./later";
import type { LK } from "./later";
import * as pgtable2015 from "./pgtable_64_2015";
import { thpWorkloadCost } from "./workload";
import type { ThpWorkloadParams } from "./workload";
import { THP_BASE } from "./scenario";

// ---- the pmd state beside a timeline ------------------------------------------------------------------------

export type PmdStateRow = { what: string; state: string; detail: string };

/** none / table / huge / splitting, for a pmd value (ghost read). */
export function pmdKind(v: number): "none" | "table" | "huge" | "splitting" {
  if (v === 0) return "none";
  if (pmd_trans_splitting(v)) return "splitting";
  if (pmd_trans_huge(v)) return "huge";
  return "table";
}

/**
 * Ghost read of what decides the harm at THP_BASE: the pmd's state and what it points to, the deposit, and the
 * table (or pmd) each walker on the machine holds a pointer into (from the violation's own message when given).
 */
export function pmdState(m: Machine, mm?: MmStruct, heldPfn?: number): PmdStateRow[] {
  const w = mmWorld(m);
  const qm = mm ?? (m.ext.thpKvm as { mm: MmStruct }).mm;
  const pmdt = w.child(qm.pgd.ent[w.index(0, THP_BASE)])!;
  const i = w.index(PMD_LEVEL, THP_BASE);
  const v = pmdt.ent[i];
  const kind = pmdKind(v);
  const frame = (pfn: number) => `pfn ${pfn} (${w.pa.frames[pfn].state === PAGE_FREE ? "FREE" : w.pa.frames[pfn].use}`;
  const rows: PmdStateRow[] = [];
  const detail =
    kind === "none"
      ? "no table, no huge page"
      : kind === "table"
        ? `points to a PTE page: ${frame(w.child(v)!.frame.pfn)})`
        : `maps huge page ${frame(pte_pfn(v, PPC64_64K))})`;
  rows.push({ what: `pmd of 0x${THP_BASE.toString(16)} (pmd table pfn ${pmdt.frame.pfn}[${i}])`, state: kind, detail });
  const dep = thp(m).deposited.get(pmdt.base + i);
  rows.push({
    what: "deposit beside the pmd",
    state: dep ? "deposited" : "none",
    detail: dep ? `PTE page ${frame(dep.frame.pfn)}) holds the hash-slot array` : "—",
  });
  const held =
    (m.ext.thpHeld as { cpu: number; pt: PtPage; pmd: boolean } | undefined) ??
    (heldPfn !== undefined ? { cpu: 0, pt: w.tables[heldPfn]!, pmd: false } : undefined);
  if (held)
    rows.push({
      what: `walker on cpu${held.cpu} holds`,
      state: held.pmd ? "(pte_t *)pmdp" : "ptep",
      detail: held.pmd
        ? `a pointer into the pmd table (pfn ${held.pt.frame.pfn}), read as a PTE: now ${kind}`
        : `a pointer into PTE page ${frame(held.pt.frame.pfn)})`,
    });
  return rows;
}

/** The pmd's state before each step of a counterexample up to its violating step, and who ran the step. */
export function pmdSeries(
  scenario: AnyScenario,
  v: Violation,
  params: Record<string, unknown> = {},
): { step: number; cpu: number; fn: string; pmd: string }[] {
  const out: { step: number; cpu: number; fn: string; pmd: string }[] = [];
  for (let i = 0; i <= v.at; i++) {
    const m = replay(scenario, { schedule: v.schedule, stopAt: i, params }).machine;
    const w = mmWorld(m);
    const mm = (m.ext.thpKvm as { mm: MmStruct }).mm;
    const pmdt = w.child(mm.pgd.ent[w.index(0, THP_BASE)])!;
    const t = v.trace[i];
    out.push({ step: i, cpu: t.cpu, fn: t.fn, pmd: pmdKind(pmdt.ent[w.index(PMD_LEVEL, THP_BASE)]) });
  }
  return out;
}

// ---- exercise 1: predict the IPIs ---------------------------------------------------------------------------

/** Exercise 1: 6 CPUs; qemu frees 10 THPs of one guest while khugepaged collapses 3 ranges of another. */
export const EXERCISE1: Partial<ThpWorkloadParams> = { cpus: 6, pmds: 10, collapses: 3, walks: 0 };

export function checkIpiCount(answer: { before: number; after: number } | undefined): ExerciseResult {
  return checkExercise("exercise 1 (IPIs of a munmap and a few collapses)", answer, (a) => {
    const b = thpWorkloadCost("before", EXERCISE1).ipis;
    const f = thpWorkloadCost("after", EXERCISE1).ipis;
    if (a.before === b && a.after === f)
      return {
        ok: true,
        message: `right: ${b} before (a round to the 5 other CPUs per pmd clear and per collapse), ${f} after (collapses only)`,
      };
    const hint =
      a.before !== b
        ? "before: kick_all_cpus_sync targets every CPU but the sender; who kicks, and how often?"
        : "after: which IPI did the 2020 series keep on hash?";
    return { ok: false, message: `not quite (${hint})` };
  });
}

// ---- exercise 2: where must the IPI go? --------------------------------------------------------------------

/** pmdp_get_and_clear with the kick first: the IPI before the clear (what-if, not a kernel version). */
function* pmdp_get_and_clear_kick_first(k: LK, mm: MmStruct, addr: number, pmdt: PtPage, i: number): Gen<number> {
  yield* k.kick_all_cpus_sync();
  return yield* later_pmdp_get_and_clear(k, mm, addr, pmdt, i);
}

/** zap_huge_pmd with the kick after everything, the PTE page freed (what-if). */
function* zap_huge_pmd_kick_last(k: LK, mm: MmStruct, pmdt: PtPage, i: number, addr: number): Gen {
  yield* later_zap_huge_pmd(k, mm, pmdt, i, addr);
  yield* k.kick_all_cpus_sync();
}

const E_FAULT_PMD = event("__handle_mm_fault", "pmd = *pmdp: none → __pte_alloc", { cost: "mem" });
const E_POPULATE = event("__pte_alloc", "pmd_none? pmd_populate(mm, pmd, new) (page_table_lock)", { cost: "mem" });

/** The refault, kicking once it saw the pmd none and before it puts a table pointer there (what-if). */
function* fault_small_page_kick_first(k: LK, mm: MmStruct, addr: number): Gen {
  const w = mmWorld(k.m);
  const pmdt = w.child(mm.pgd.ent[w.index(0, addr)])!;
  const i = w.index(PMD_LEVEL, addr);
  k.R(pmdt.base + i, E_FAULT_PMD);
  yield;
  if (pmdt.ent[i] !== 0) return;
  const f = yield* k.alloc_page(w.pa, GFP_KERNEL, "pte");
  if (f === null) return;
  w.newTable(f, PTE_LEVEL, addr - (addr % w.span(PMD_LEVEL)));
  yield* k.kick_all_cpus_sync(); // wait for IRQ-off walkers that may hold (pte_t *)pmdp
  yield* k.spin_lock(mm.page_table_lock);
  k.W(pmdt.base + i, E_POPULATE);
  yield;
  if (pmdt.ent[i] === 0) pmdt.ent[i] = f.pfn + 1;
  yield* k.spin_unlock(mm.page_table_lock);
  // the small page itself (do_anonymous_page) as in fault_small_page: not needed for the race
}

/** The places exercise 2 offers for one kick_all_cpus_sync, as overrides of v4.1. */
export const IPI_PLACEMENTS = {
  "before the clear": { pmdp_get_and_clear: pmdp_get_and_clear_kick_first },
  "after the clear (13bd817bb884)": { pmdp_get_and_clear: pgtable2015.pmdp_get_and_clear },
  "after the zap freed the pages": { zap_huge_pmd: zap_huge_pmd_kick_last },
  "in the refault, between pmd_none and pmd_populate": { fault_small_page: fault_small_page_kick_first },
} as const;
export type IpiPlacement = keyof typeof IPI_PLACEMENTS;

/** The explorer's verdict on thp-pmd-clear (v4.1) with one placement of the IPI. */
export function judgePlacement(p: IpiPlacement): ExploreResult {
  return explore(thpPmdClear, { variant: "before", overrides: IPI_PLACEMENTS[p], minimise: false });
}

let clean: IpiPlacement[] | null = null;

/** The placements the explorer finds clean (exhaustively), in IPI_PLACEMENTS's order (searched once). */
export function cleanPlacements(): IpiPlacement[] {
  return (clean ??= (Object.keys(IPI_PLACEMENTS) as IpiPlacement[]).filter((p) => {
    const r = judgePlacement(p);
    return r.violation === null && r.exhaustive;
  }));
}

export function checkIpiPlacement(answer: string[] | undefined): ExerciseResult {
  return checkExercise("exercise 2 (where the IPI must go)", answer, (a) => {
    for (const x of a)
      if (!(x in IPI_PLACEMENTS))
        return { ok: false, message: `"${x}" is not one of: ${Object.keys(IPI_PLACEMENTS).join("; ")}` };
    const ok = cleanPlacements();
    const got = new Set(a);
    const missing = ok.filter((p) => !got.has(p));
    const wrong = a.filter((p) => !ok.includes(p as IpiPlacement));
    if (missing.length === 0 && wrong.length === 0)
      return {
        ok: true,
        message: `right: ${ok.join(" and ")}. Both put the wait between the walker's read of the huge pmd and the table pointer; 13bd817 chose the clear, the rarer event`,
      };
    if (wrong.length > 0)
      return {
        ok: false,
        message: `"${wrong[0]}" is not enough: the explorer finds a walker reading the table pointer (what can still happen between the walker's read and the kick?)`,
      };
    return { ok: false, message: `one more placement holds: ${missing.length} clean one(s) not named` };
  });
}
