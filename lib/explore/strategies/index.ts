// The search strategies, one file each, and the one list the CLI, the bench and explore() select them from.

import type { SearchStrategy } from "../strategy";
import { dfsSearch } from "./dfs";
import { pctSearch } from "./pct";
import { randomSearch } from "./random";

/** Every search strategy, by the name `--strategy` and `explore({ strategy })` take. */
export const STRATEGIES = { dfs: dfsSearch, pct: pctSearch, random: randomSearch } as const satisfies Record<
  string,
  SearchStrategy
>;

export type StrategyName = keyof typeof STRATEGIES;

/** The names, in the order listed (the first is the default). */
export const STRATEGY_NAMES = Object.keys(STRATEGIES) as readonly StrategyName[];

export function isStrategyName(s: string): s is StrategyName {
  return Object.prototype.hasOwnProperty.call(STRATEGIES, s);
}

export { dfs, dfsStrategy, dfsSearch } from "./dfs";
export type { DfsOptions, DfsResult, DfsLeaf, DfsState } from "./dfs";
export { PctPicker, pctBound, pctSearch } from "./pct";
export { RandomPicker, randomSearch } from "./random";
export { ReplayPicker } from "./replay";
export { sample, SAMPLE_EXECUTIONS } from "./sample";
export type {
  Strategy,
  Picker,
  ExecEnd,
  SearchStrategy,
  SearchOptions,
  SearchOutcome,
  SearchStats,
  Found,
} from "../strategy";
export { runExecution, serial, serialPick } from "../exec";
