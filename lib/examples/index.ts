// Scenarios that teach the explorer itself (notebook 00), not a kernel fix. Importing this module adds them to
// the default registry.

import { defaultRegistry } from "../explore/registry";
import type { AnyScenario } from "../explore/scenario";
import { lostUpdate } from "./lost_update";

export { lostUpdate, lostUpdateOps, lostUpdateParams, counter_inc, counter_inc_locked } from "./lost_update";
export type { Counter } from "./lost_update";

/** The example scenarios, for a registry. */
export const scenarios: readonly AnyScenario[] = [lostUpdate];

defaultRegistry.add(...scenarios);
