// Fix 004, thp-walk-irq: 691e95fd7396 "powerpc/mm/thp: Make page table walk safe against thp split/collapse"
// (2015; v4.1 or v4.2: see the README). Read it like a patch: before.ts (its parent) against after.ts; era.ts
// (lazy IRQs, THP on ppc64 hash with collapse and split, the notifiers, POWER7 page sizes, the rest of H_ENTER,
// hash_page); vcore.ts (POWER7 HV KVM's threading); the scenario.

export {
  thpWalkIrq,
  thpWalkIrqOps,
  thpWalkIrqBefore,
  thpWalkIrqAfter,
  thpWalkIrqVariants,
  THP_BASE,
  check_no_stale_hpte,
} from "./scenario";
export type { ThpWalkIrqParams } from "./scenario";
export * as era from "./era";
export * as before from "./before";
export * as after from "./after";
export * as vcore from "./vcore";
export * as later from "./later";
export { thpPmdClear, thpPmdClearOps, thpPmdClearVariants, hugeBackedGuest } from "./pmd_clear";
export { thpWalkIrqWorkload, thpWorkloadCost, primerMunmap, ipiRoundNs, PRIMER_GUEST_PMDS } from "./workload";
export type { ThpWorkloadCost, ThpWorkloadParams } from "./workload";
export * as exercises from "./exercises";
export { thpSplitInvalidate, thpSplitInvalidateOps } from "./split_2019";
export * as split2019 from "./split_2019";
export * as pgtable2019 from "./pgtable_2019";
export * as pgtable2015 from "./pgtable_64_2015";

import { thpWalkIrq } from "./scenario";
import { thpPmdClear } from "./pmd_clear";
import { thpWalkIrqWorkload } from "./workload";
import { thpSplitInvalidate } from "./split_2019";

/** This fix's scenarios, for a registry. */
export const scenarios = [thpWalkIrq, thpPmdClear, thpSplitInvalidate, thpWalkIrqWorkload] as const;
