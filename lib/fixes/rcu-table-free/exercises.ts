// Exercises of notebook 03 (fix 001, rcu-table-free). Each checker computes the truth by running the model.

import type { KernelFn } from "../../sim/kernel";
import { explore } from "../../explore/explore";
import { checkExercise, ExerciseResult } from "../../classroom/exercise";
import { rcuTableFree } from "./scenario";
import { rcuTableFreeCost } from "./workload";

/** The munmap of exercise 1: PTE pages (one mapped page each), CPUs that run threads of the mm. */
export const EXERCISE1 = { tables: 600, cpus: 4 } as const;

/**
 * Exercise 1: after the fix (batch of 509 tables), CPU 0 munmaps EXERCISE1.tables PTE pages, which lie under
 * the pmd tables free_pgtables frees too. How many grace periods does it wait for when every batch page can be
 * allocated, and how many IPIs are delivered when none can?
 */
export function checkGracePeriods(
  answer: { gracePeriods: number; ipisUnderPressure: number } | undefined,
): ExerciseResult {
  return checkExercise("exercise 1 (grace periods and IPIs)", answer, (a) => {
    const ok = rcuTableFreeCost("after", { tables: EXERCISE1.tables, cpus: EXERCISE1.cpus, walks: 0 });
    const bad = rcuTableFreeCost("after", { tables: EXERCISE1.tables, cpus: EXERCISE1.cpus, walks: 0, failRate: 1 });
    const wrong: string[] = [];
    if (a.gracePeriods !== ok.gracePeriods)
      wrong.push(
        "grace periods: one per batch; count every table free_pgtables hands over, pmd tables included, and MAX_TABLE_BATCH per batch",
      );
    if (a.ipisUnderPressure !== bad.ipis)
      wrong.push("IPIs: tlb_remove_table_one sends one round per table, to every other CPU");
    return wrong.length === 0
      ? {
          ok: true,
          message: `right: ${ok.tablesFreed} tables in ${ok.batchesSubmitted} batches, ${ok.gracePeriods} grace periods; under pressure ${bad.ipiRounds} rounds, ${bad.ipis} IPIs`,
        }
      : { ok: false, message: `not quite — ${wrong.join("; ")}` };
  });
}

/**
 * Exercise 2: write a walker (replacing rcu_sched_walk: `function* (k, mm, ea)` returning the PTE it found)
 * that is safe while tables go through an RCU-sched grace period but not when the batch page cannot be had.
 */
export function checkUnprotectedWalker(answer: { walk: KernelFn } | undefined): ExerciseResult {
  return checkExercise("exercise 2 (a walker the IPI fallback does not protect)", answer, (a) => {
    if (typeof a.walk !== "function")
      return { ok: false, message: "walk must be a generator function: function* (k, mm, ea) { … }" };
    const overrides = { rcu_sched_walk: a.walk };
    const params = { walker: "rcu_sched" as const };
    const rcu = explore(rcuTableFree, {
      variant: "after",
      overrides,
      params: { ...params, allocFail: false },
      timeLimitMs: 20_000,
    });
    if (rcu.violation)
      return {
        ok: false,
        message: `even with every batch page allocated the explorer finds ${rcu.violation.invariant}: your walker is not covered by the grace period either (is it in an RCU-sched read-side section for the whole walk?)`,
      };
    if (!rcu.exhaustive)
      return {
        ok: false,
        message: "the search did not finish in time: keep the walker to one walk of pgd → pmd → pte",
      };
    const ipi = explore(rcuTableFree, {
      variant: "after",
      overrides,
      params: { ...params, allocFail: true },
      timeLimitMs: 20_000,
    });
    if (!ipi.violation)
      return {
        ok: false,
        message:
          "the IPI fallback protects this walker too: with IRQs off, tlb_remove_table_one's IPI waits for it — let IRQs in",
      };
    const viaIpi = ipi.violation.trace.some((t) => t.ctx === "irq" && t.thread === "tlb_remove_table_smp_sync");
    if (ipi.violation.invariant !== "use-after-free" || !viaIpi)
      return {
        ok: false,
        message: `the explorer found ${ipi.violation.invariant}, but not through the IPI fallback: look at the timeline`,
      };
    return {
      ok: true,
      message: `right: safe for a grace period, and with the allocation failing the IPI lands in the middle of the walk (${ipi.violation.preemptions} preemption(s))`,
    };
  });
}
