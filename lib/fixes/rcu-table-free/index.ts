// Fix 001, rcu-table-free: 267239116987 "mm, powerpc: move the RCU page-table freeing into generic code"
// (v3.0-rc1). Read it like a patch: before.ts (its parent, after d6bf29b44ddf) against after.ts; era.ts (the
// v3.0 table-freeing walk and hash_page both sides run); naive.ts; later.ts; the scenario.

export {
  rcuTableFree,
  rcuTableFreeOps,
  rcuTableFreeBefore,
  rcuTableFreeVariants,
  RCU_BASE,
  check_tables_freed,
} from "./scenario";
export { rcu_sched_walk } from "./walker";
export type { RcuTableFreeParams, Walker } from "./scenario";
export { rcuTableFreeWorkload, rcuTableFreeCost, MAX_WORKLOAD_TABLES } from "./workload";
export type { RcuTableFreeCost, RcuTableFreeWorkloadParams } from "./workload";
export * as era from "./era";
export * as before from "./before";
export * as after from "./after";
export * as naive from "./naive";
export * as later from "./later";
export * as exercises from "./exercises";
export { rcuTableFreeX86, rcuTableFreeX86Ops } from "./x86";
export type { RcuTableFreeX86Params } from "./x86";
export { rcuTableFreeWalkCache, walkCacheOps, walkCacheVariants } from "./walk_cache";
export type { WalkCacheParams } from "./walk_cache";
export * as radix from "./radix";
export * as invalidate2018 from "./invalidate_2018";
export * as invalidate2019 from "./invalidate_2019";
export * as invalidate2020 from "./invalidate_2020";

import { rcuTableFree } from "./scenario";
import { rcuTableFreeWorkload } from "./workload";
import { rcuTableFreeX86 } from "./x86";
import { rcuTableFreeWalkCache } from "./walk_cache";

/** This fix's scenarios, for a registry. */
export const scenarios = [rcuTableFree, rcuTableFreeX86, rcuTableFreeWalkCache, rcuTableFreeWorkload] as const;
