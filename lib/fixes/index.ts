// The historical fixes, one folder each (lib/fixes/<fix-id>/): the scenarios, the versions of the functions
// each fix swaps, its timed workloads and its exercises. Each folder's `scenarios` lists its scenarios; this
// module adds them all to the default registry (so ids such as "lazy-mmu-batch" resolve once it is imported).

import { defaultRegistry } from "../explore/registry";
import type { AnyScenario } from "../explore/scenario";
import * as lazyMmuBatch from "./lazy-mmu-batch/index";
import * as splitTlbFlush from "./split-tlb-flush/index";
import * as rcuTableFree from "./rcu-table-free/index";
import * as kvmLocalGlobal from "./kvm-local-global/index";
import * as thpWalkIrq from "./thp-walk-irq/index";

export { lazyMmuBatch, splitTlbFlush, rcuTableFree, kvmLocalGlobal, thpWalkIrq };

/** Every fix's scenarios, in fix order (000, 001, 002, 003). */
export const scenarios: readonly AnyScenario[] = [
  ...lazyMmuBatch.scenarios,
  ...rcuTableFree.scenarios,
  ...splitTlbFlush.scenarios,
  ...kvmLocalGlobal.scenarios,
  ...thpWalkIrq.scenarios,
];

defaultRegistry.add(...scenarios);
