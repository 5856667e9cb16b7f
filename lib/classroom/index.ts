// Classroom kit: the shared exercise checker; each fix's exercises live in its folder (fixes.<fix>.exercises).

export { checkExercise, formatResult } from "./exercise";
export type { ExerciseResult, ExerciseStatus } from "./exercise";
