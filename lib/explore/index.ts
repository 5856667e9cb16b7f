// The explorer: scenarios and their parameters, the registry, search strategies, minimisation, schedule
// strings, replay, outcomes, timed mode.

export { defineScenario, Session, DEFAULT_BOUNDS } from "./scenario";
export type {
  ScenarioDef,
  AnyScenario,
  ScenarioInstance,
  Bounds,
  Overrides,
  Kernel,
  SessionOptions,
  OpsOf,
  SchemaOf,
  ParamsOfDef,
  VariantOf,
} from "./scenario";
export { int, real, intList, bool, oneOf, defaultParams, resolveParams } from "./params";
export type { ParamSpec, ParamSchema, ParamsOf } from "./params";
export { createRegistry, defaultRegistry, scenarios, getScenario, resolveScenario } from "./registry";
export type { Registry } from "./registry";
export { explore, replay, minimise, buildViolation, traceHash } from "./explore";
export type { ExploreOptions, ExploreResult, ExploreProgress, ReplayOptions, ReplayResult } from "./explore";
export { runExecution, serial, serialPick, judgeEnd, deadlock, livelock } from "./exec";
export type { ExecOutcome, ExecOptions } from "./exec";
export type {
  Strategy,
  Picker,
  ExecEnd,
  SearchStrategy,
  SearchOptions,
  SearchOutcome,
  SearchStats,
  Found,
} from "./strategy";
export {
  STRATEGIES,
  STRATEGY_NAMES,
  isStrategyName,
  dfs,
  dfsStrategy,
  PctPicker,
  pctBound,
  RandomPicker,
  ReplayPicker,
} from "./strategies/index";
export type { StrategyName, DfsOptions, DfsResult, DfsLeaf, DfsState } from "./strategies/index";
export { Rng } from "./rng";
export { encodeSchedule, decodeSchedule, ScheduleError, SCHEDULE_VERSION } from "./schedule";
export type { Decision, ScheduleHeader } from "./schedule";
export { runTimed } from "./timed";
export type { TimedOptions, TimedResult, SampleStats } from "./timed";
export { functionSource, unifiedDiff, diffHunks, compareFunctions, variantDiff } from "./source";
export type { FunctionSource, FunctionChange, DiffHunk } from "./source";
export { outcomes } from "./outcomes";
export type { OutcomeOptions, Outcomes } from "./outcomes";
export { estimateOf, estimateText } from "./estimate";
export type { Estimate } from "./estimate";
export { coverageOf, coverageText } from "./coverage";
export type { Coverage, FunctionCoverage, SiteCoverage } from "./coverage";
export { exploreShard } from "./scaled";
export type { ParallelInfo, ShardOptions } from "./scaled";
export { mergeShards, parseShardFile, MergeError, SHARD_FORMAT } from "./shard_result";
export type { ShardResultFile, Merged, ShardViolation } from "./shard_result";
