// Every registered scenario: importing this module registers them.

export * from "./lost_update";
export * from "./lazy_mmu_batch";
export * from "./lazy_mmu_workload";
export * from "./lazy_mmu_preempt";
export * from "./split_tlb_flush";
export * from "./split_tlb_flush_workload";
