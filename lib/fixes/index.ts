// The historical fixes, one folder each (lib/fixes/<fix-id>/): the scenarios, the versions of the functions
// each fix swaps, its timed workloads and its exercises. Importing this module registers their scenarios.

export * as lazyMmuBatch from "./lazy-mmu-batch/index";
export * as splitTlbFlush from "./split-tlb-flush/index";
export * as rcuTableFree from "./rcu-table-free/index";
export * as kvmLocalGlobal from "./kvm-local-global/index";
