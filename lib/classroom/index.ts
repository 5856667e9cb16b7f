// Classroom kit: checked exercises for the notebooks.

export { checkExercise, formatResult } from "./exercise";
export type { ExerciseResult, ExerciseStatus } from "./exercise";
export * as lazyMmuExercises from "./lazy_mmu_batch";
export * as splitTlbFlushExercises from "./split_tlb_flush";
