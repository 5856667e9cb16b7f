// Checked exercises: a checker takes the student's answer and says whether it is right, computing the right
// answer from the model itself (nothing to copy from the notebook). An unanswered exercise is "not attempted"
// and raises nothing, so a headless run of an untouched notebook stays green.

export type ExerciseStatus = "not attempted" | "correct" | "incorrect";

export interface ExerciseResult {
  exercise: string;
  status: ExerciseStatus;
  /** What the student sees: why it is right, or a hint. */
  message: string;
}

/** Run a checker unless the answer is missing; never throws for a wrong answer. */
export function checkExercise<A>(
  exercise: string,
  answer: A | undefined | null,
  check: (a: A) => { ok: boolean; message: string },
): ExerciseResult {
  if (answer === undefined || answer === null)
    return { exercise, status: "not attempted", message: "not attempted: fill in the answer and re-run this cell" };
  let r: { ok: boolean; message: string };
  try {
    r = check(answer);
  } catch (e) {
    r = { ok: false, message: `your answer could not be checked: ${(e as Error).message}` };
  }
  return { exercise, status: r.ok ? "correct" : "incorrect", message: r.message };
}

/** One line for a notebook cell. */
export function formatResult(r: ExerciseResult): string {
  const mark = r.status === "correct" ? "✓" : r.status === "incorrect" ? "✗" : "·";
  return `${mark} ${r.exercise}: ${r.message}`;
}
