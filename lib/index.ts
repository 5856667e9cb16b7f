// flushlab's public API. The top level is what a notebook or a script starts from: search, replay, count and
// time a scenario, define one, and show the results. Everything else lives in a namespace: the runtime (sim),
// the explorer's internals (explorer, strategies), each modelled subsystem (mm, powerpc, x86, hw), the fixes,
// the explorer-basics examples and the classroom kit.

import "./examples/index"; // the default registry holds the project's scenarios: ids such as "lost-update" resolve
import "./fixes/index";

export const VERSION = "0.1.0";

// ---- search, replay, count, time ---------------------------------------------------------------------------------
export { explore, replay, outcomes, runTimed, traceHash, ScheduleError } from "./explore/index";
// a DFS progress report's estimate as text (for a notebook progress bar: bar.update(p.executions, estimateText(p.estimate)))
export { estimateText } from "./explore/index";
export type {
  ExploreOptions,
  ExploreResult,
  ExploreProgress,
  ReplayOptions,
  ReplayResult,
  OutcomeOptions,
  Outcomes,
  TimedOptions,
  TimedResult,
  SampleStats,
  StrategyName,
} from "./explore/index";

// ---- defining scenarios --------------------------------------------------------------------------------------------
export { defineScenario, Session, createRegistry, defaultRegistry, int, real, bool, oneOf } from "./explore/index";
export type {
  ScenarioDef,
  AnyScenario,
  ScenarioInstance,
  SessionOptions,
  Overrides,
  Kernel,
  Registry,
  ParamSpec,
  ParamSchema,
  ParamsOf,
} from "./explore/index";
export { event, ModelError } from "./sim/index";
export type { Gen, SimEvent, Violation, TraceStep } from "./sim/index";

// ---- showing results -----------------------------------------------------------------------------------------------
export { functionSource, variantDiff, unifiedDiff, compareFunctions } from "./explore/index";
export type { FunctionSource, FunctionChange, DiffHunk } from "./explore/index";
export { describeMachine } from "./sim/index";
export type { ContextRow } from "./sim/index";
export { formatResult, checkExercise } from "./classroom/index";
export type { ExerciseResult, ExerciseStatus } from "./classroom/index";

// ---- namespaces ------------------------------------------------------------------------------------------------------
export * as sim from "./sim/index";
export * as explorer from "./explore/index";
export * as strategies from "./explore/strategies/index";
export * as classroom from "./classroom/index";
// Modelled subsystems: both architectures export the same kernel names (set_pte_at, user_access…).
export * as mm from "./mm/index";
export * as powerpc from "./powerpc/index";
export * as x86 from "./x86/index";
export * as hw from "./hw/index";
export * as kvm from "./kvm/index";
export * as fixes from "./fixes/index";
export * as examples from "./examples/index";
