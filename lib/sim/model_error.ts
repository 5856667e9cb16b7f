// The error a scenario or model gets for misuse (bad parameters, a step announced wrongly): shown to the user
// as one line, never as a crash of the explorer.

export class ModelError extends Error {
  override name = "ModelError";
}
