// The explorer: scenarios, search strategies, minimisation, schedule strings, replay.

export { defineScenario, scenarios, getScenario, Session, DEFAULT_BOUNDS } from "./scenario";
export type { ScenarioDef, ScenarioInstance, Bounds, Overrides, SessionOptions } from "./scenario";
export { explore, replay, minimise, buildViolation, traceHash } from "./explore";
export type { Strategy, ExploreOptions, ExploreResult, ExploreProgress, ReplayOptions, ReplayResult } from "./explore";
export { dfs } from "./dfs";
export type { DfsOptions, DfsResult, DfsLeaf } from "./dfs";
export { runExecution, serialPick } from "./exec";
export type { Picker, ExecOutcome, ExecOptions } from "./exec";
export { PctPicker, pctBound } from "./pct";
export { RandomPicker } from "./random";
export { ReplayPicker } from "./replay";
export { Rng } from "./rng";
export { encodeSchedule, decodeSchedule, ScheduleError, SCHEDULE_VERSION } from "./schedule";
export type { Decision, ScheduleHeader } from "./schedule";
export { runTimed } from "./timed";
export type { TimedOptions, TimedResult, SampleStats } from "./timed";
export { functionSource, unifiedDiff, variantDiff } from "./source";
export type { FunctionSource, FunctionChange } from "./source";
export { outcomes } from "./outcomes";
export type { OutcomeOptions, Outcomes } from "./outcomes";
