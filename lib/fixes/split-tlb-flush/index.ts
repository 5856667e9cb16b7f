// Fix 002, split-tlb-flush: 1cf35d47712dd5dc "mm: split 'tlb_flush_mmu()' into tlb flushing and memory freeing
// parts" (v3.15), and its v6.2 completion 5df397dec7c4. Read it like a patch: after.ts against the base
// model's v3.14 lib/mm (memory.ts zap_pte_range, mmu_gather.ts tlb_flush_mmu); later.ts (v6.2).

import { splitTlbFlush, splitTlbFlushLastMap } from "./scenario";
import { splitTlbFlushWorkload } from "./workload";

export {
  splitTlbFlush,
  splitTlbFlushLastMap,
  splitTlbFlushOps,
  splitTlbFlushBefore,
  splitTlbFlushLater,
  splitTlbFlushVariants,
  splitTlbFlushParams,
  SPLIT_BASE,
  OTHER_BASE,
  SPLIT_ARCHES,
} from "./scenario";
export type { SplitArch, SplitTlbFlushParams } from "./scenario";
export {
  splitTlbFlushWorkload,
  splitTlbFlushWorkloadParams,
  splitTlbFlushCost,
  splitTlbFlushSweep,
  GATHER_PAGES_V314,
  SPLIT_WORKLOAD_KINDS,
} from "./workload";

/** This fix's scenarios, for a registry. */
export const scenarios = [splitTlbFlush, splitTlbFlushLastMap, splitTlbFlushWorkload] as const;
export type { SplitTlbFlushCost, SplitTlbFlushWorkloadParams, SplitWorkloadKind } from "./workload";
export * as after from "./after";
export * as later from "./later";
export * as exercises from "./exercises";
