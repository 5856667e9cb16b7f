// Scenarios that teach the explorer itself (notebook 00), not a kernel fix.

export { lostUpdate, lostUpdateOps, counter_inc, counter_inc_locked } from "./lost_update";
export type { Counter } from "./lost_update";
