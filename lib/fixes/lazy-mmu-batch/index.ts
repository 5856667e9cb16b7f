// Fix 000, lazy-mmu-batch: a741e67969577163 "[POWERPC] Make tlb flush batch use lazy MMU mode" (v2.6.22).
// Read it like a patch: before.ts (v2.6.21) against the base model's lib/powerpc/tlb_batch.ts (v2.6.22);
// era.ts (the v2.6.22 generic gather the scenarios run on); later.ts (2022); the scenarios; the costs.

import { lazyMmuBatch } from "./scenario";
import { lazyMmuPreempt } from "./preempt";
import { lazyMmuWorkload } from "./workload";

export { lazyMmuBatch, lazyMmuOps, lazyMmuBefore, lazyMmuParams, BASE } from "./scenario";
export type { LazyMmuParams } from "./scenario";
export { lazyMmuPreempt, lazyMmuPreemptOps } from "./preempt";
export { lazyMmuWorkload, lazyMmuWorkloadParams, lazyMmuCost, FREE_PTE_NR, MAX_WORKLOAD_PAGES } from "./workload";

/** This fix's scenarios, for a registry. */
export const scenarios = [lazyMmuBatch, lazyMmuPreempt, lazyMmuWorkload] as const;
export type { LazyMmuCost, LazyMmuWorkloadParams } from "./workload";
export * as before from "./before";
export * as era from "./era";
export * as later from "./later";
export * as exercises from "./exercises";
