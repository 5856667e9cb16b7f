// Scenarios: threads and what each does, never a schedule. A scenario builds a fresh machine for every
// execution (cheap: a handful of objects), names its variants as sets of replaced kernel functions, and states
// which final check (if any) applies once every thread has returned.

import { Machine, MachineConfig, ModelError } from "../sim/machine";
import { KernelBase, Bound, KernelFn, OpTable, makeKernel, fingerprint } from "../sim/kernel";
import { modelText, recordDefinition, scenarioDigest } from "./model_text";

/** What `setup` may hand back: a check at the end of a complete execution, and an observation for tests. */
export interface ScenarioInstance {
  /** Runs once every thread has returned; reports harm with k.violation. */
  final?: () => void;
  /** A string describing the final state (terminal-state comparisons in tests). */
  observe?: () => string;
}

export interface Bounds {
  /** Preemption bound for DFS (Infinity: none). */
  preemptions: number;
  /** PCT depth. */
  depth: number;
  /** Steps after which an execution is reported as a livelock. */
  maxSteps: number;
}

export type Overrides<O extends OpTable> = Partial<Record<keyof O, KernelFn>>;

export interface ScenarioDef<O extends OpTable = OpTable, P extends object = Record<string, unknown>> {
  /** Scenario id used by the CLI and schedule strings, e.g. `lazy-mmu-batch`. */
  id: string;
  /** Fix id from shared/seeds, if the scenario belongs to one. */
  fix?: string;
  title: string;
  description?: string;
  /** The modelled functions, before any variant. */
  ops: O;
  /** Variant name → functions it replaces. The first variant is the default. */
  variants: Record<string, Overrides<O>>;
  /** Machine shape; may depend on params. */
  machine: MachineConfig | ((params: P) => MachineConfig);
  /** Default parameters. */
  params?: P;
  /** Default exploration bounds. */
  bounds?: Partial<Bounds>;
  /** Build the state of one execution on `m` and spawn its threads. */
  setup(k: KernelBase & Bound<O>, m: Machine, params: P): ScenarioInstance | void;
}

export const DEFAULT_BOUNDS: Bounds = { preemptions: 2, depth: 3, maxSteps: 5000 };

const registry = new Map<string, ScenarioDef<any, any>>();

/** Define (and register) a scenario. Re-defining an id replaces it, so notebook cells can be re-run. */
export function defineScenario<O extends OpTable, P extends object = Record<string, unknown>>(def: ScenarioDef<O, P>): ScenarioDef<O, P> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(def.id)) throw new ModelError(`scenario id "${def.id}": use lower-case letters, digits and dashes`);
  const names = Object.keys(def.variants);
  if (names.length === 0) throw new ModelError(`scenario ${def.id}: needs at least one variant`);
  for (const v of names) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(v)) throw new ModelError(`scenario ${def.id}: variant "${v}": use lower-case letters, digits and dashes`);
    for (const fn of Object.keys(def.variants[v])) {
      if (!(fn in def.ops)) throw new ModelError(`scenario ${def.id}, variant ${v}: replaces "${fn}", which is not a modelled function`);
    }
  }
  registry.set(def.id, def);
  recordDefinition(def);
  return def;
}

export function scenarios(): ScenarioDef<any, any>[] {
  return [...registry.values()];
}

export function getScenario(id: string): ScenarioDef<any, any> {
  const s = registry.get(id);
  if (!s) {
    const known = [...registry.keys()].sort().join(", ") || "(none)";
    throw new ModelError(`unknown scenario "${id}" (known: ${known})`);
  }
  return s;
}

export interface SessionOptions<O extends OpTable = OpTable> {
  variant?: string;
  /** Functions replaced for this session only, on top of the variant (a student's version, a mutation). */
  overrides?: Overrides<O>;
  /** Parameters, merged over the scenario's defaults. */
  params?: Record<string, unknown>;
}

/** A scenario bound to one variant, overrides and params: builds fresh machines for executions. */
export class Session {
  readonly variant: string;
  readonly k: KernelBase;
  readonly fingerprint: string;
  readonly params: Record<string, unknown>;
  readonly bounds: Bounds;
  private readonly cfg: MachineConfig;
  instance: ScenarioInstance = {};

  constructor(readonly def: ScenarioDef<any, any>, opts: SessionOptions = {}) {
    const variants = Object.keys(def.variants);
    this.variant = opts.variant ?? variants[0];
    if (!(this.variant in def.variants)) {
      throw new ModelError(`scenario ${def.id} has no variant "${this.variant}" (variants: ${variants.join(", ")})`);
    }
    this.params = { ...(def.params ?? {}), ...(opts.params ?? {}) };
    for (const key of Object.keys(opts.params ?? {})) {
      if (def.params && !(key in def.params)) {
        throw new ModelError(`scenario ${def.id} has no parameter "${key}" (parameters: ${Object.keys(def.params).join(", ") || "none"})`);
      }
    }
    this.cfg = typeof def.machine === "function" ? def.machine(this.params) : def.machine;
    this.bounds = { ...DEFAULT_BOUNDS, ...(def.bounds ?? {}) };
    this.k = makeKernel(def.ops, { ...def.variants[this.variant], ...(opts.overrides ?? {}) });
    // The model's TS (comments and white space out), so tsc, vitest and tslab agree on one string.
    this.fingerprint = fingerprint(this.k, `${def.id}/${this.variant}/${JSON.stringify(this.params)}/${JSON.stringify(this.cfg)}/${scenarioDigest(def)}`, modelText);
    // Build one machine now: bad parameters are reported here, clearly, not from inside a search.
    try {
      this.spare = this.fresh();
    } catch (e) {
      if (e instanceof ModelError) throw e;
      throw new ModelError(`scenario ${def.id}: ${(e as Error).message}`);
    }
  }

  /** The machine built by the constructor, untouched: handed to the first fresh() (big workloads build once). */
  private spare: Machine | null = null;

  /** A fresh machine with the scenario's initial state and threads. */
  fresh(): Machine {
    const spare = this.spare;
    if (spare !== null) {
      this.spare = null;
      this.k.m = spare;
      return spare;
    }
    const m = new Machine(this.cfg, this.k);
    this.k.m = m;
    this.instance = this.def.setup(this.k as any, m, this.params) ?? {};
    return m;
  }
}
