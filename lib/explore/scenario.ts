// Scenarios: threads and what each does, never a schedule. A scenario builds a fresh machine for every
// execution (cheap: a handful of objects), names its variants as sets of replaced kernel functions, declares
// its parameters (type, range, default), and states which final check (if any) applies once every thread has
// returned. The definition's types carry through: a misspelt variant, a parameter of the wrong type or an
// override of the wrong signature does not compile.

import { Machine, MachineConfig, ModelError } from "../sim/machine";
import { KernelBase, Bound, KernelFn, OpTable, makeKernel, fingerprint } from "../sim/kernel";
import { modelText, recordDefinition, scenarioDigest } from "./model_text";
import { ParamSchema, ParamsOf, resolveParams } from "./params";

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

/** The kernel object `setup` and thread bodies see: the runtime plus the scenario's ops, bound. */
export type Kernel<O extends OpTable> = KernelBase & Bound<O>;

/** A function's parameters after `k`. */
type ArgsAfterK<F> = F extends (k: never, ...a: infer A) => unknown ? A : never;

/**
 * Functions replaced by name. Each takes what the function it replaces takes and returns what it returns; its
 * `k` may be typed as any kernel the scenario's table provides (a v2.6.21 version calls v2.6.21 names).
 */
export type Overrides<O extends OpTable> = {
  [N in keyof O]?: (k: Kernel<O>, ...a: ArgsAfterK<O[N]>) => ReturnType<O[N]>;
};

export interface ScenarioDef<
  O extends OpTable = OpTable,
  S extends ParamSchema = ParamSchema,
  V extends string = string,
> {
  /** Scenario id used by the CLI and schedule strings, e.g. `lazy-mmu-batch`. */
  id: string;
  /** Fix id (the folder under lib/fixes/), if the scenario belongs to one. */
  fix?: string;
  title: string;
  description?: string;
  /** The modelled functions, before any variant. */
  ops: O;
  /** Variant name → functions it replaces. The first variant is the default. */
  variants: { readonly [N in V]: Overrides<O> };
  /** Machine shape; may depend on params. */
  machine: MachineConfig | ((params: ParamsOf<S>) => MachineConfig);
  /** Every parameter, declared (params.ts: int, bool, oneOf); the defaults come from here. */
  params?: S;
  /** Default exploration bounds. */
  bounds?: Partial<Bounds>;
  /** What the scenario is for: a schedule search (explore, replay) or a timed run (default: search only). */
  modes?: readonly ScenarioMode[];
  /** Timed mode: the unit of each latency sample that is not virtual nanoseconds (e.g. `{ bytes: "B" }`). */
  sampleUnits?: Readonly<Record<string, string>>;
  /** Build the state of one execution on `m` and spawn its threads. */
  setup(k: Kernel<O>, m: Machine, params: ParamsOf<S>): ScenarioInstance | void;
}

export type ScenarioMode = "search" | "timed";

/** The modes a scenario supports (`modes`, default search only). */
export function modesOf(def: { modes?: readonly ScenarioMode[] }): readonly ScenarioMode[] {
  return def.modes ?? ["search"];
}

/** Any scenario definition (registries, the CLI): the type parameters erased. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyScenario = ScenarioDef<any, any, string>;

/** The op table, parameter values and variant names of a scenario definition. */
export type OpsOf<D> = D extends { ops: infer O extends OpTable } ? O : OpTable;
export type SchemaOf<D> = D extends { params?: infer S } ? (S extends ParamSchema ? S : ParamSchema) : ParamSchema;
export type ParamsOfDef<D> = ParamsOf<SchemaOf<D>>;
export type VariantOf<D> = D extends { variants: infer R } ? Extract<keyof R, string> : string;

export const DEFAULT_BOUNDS: Bounds = { preemptions: 2, depth: 3, maxSteps: 5000 };

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Check a scenario definition and return it (typed). Registering it is separate: see registry.ts. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the default: a scenario without parameters
export function defineScenario<O extends OpTable, S extends ParamSchema = {}, V extends string = string>(
  def: ScenarioDef<O, S, V>,
): ScenarioDef<O, S, V> {
  if (!NAME.test(def.id)) throw new ModelError(`scenario id "${def.id}": use lower-case letters, digits and dashes`);
  const names = Object.keys(def.variants);
  if (names.length === 0) throw new ModelError(`scenario ${def.id}: needs at least one variant`);
  for (const v of names) {
    if (!NAME.test(v))
      throw new ModelError(`scenario ${def.id}: variant "${v}": use lower-case letters, digits and dashes`);
    for (const fn of Object.keys(def.variants[v as V])) {
      if (!(fn in def.ops))
        throw new ModelError(`scenario ${def.id}, variant ${v}: replaces "${fn}", which is not a modelled function`);
    }
  }
  recordDefinition(def);
  for (const [name, spec] of Object.entries(def.params ?? {})) {
    if (typeof spec !== "object" || spec === null || typeof spec.check !== "function") {
      throw new ModelError(
        `scenario ${def.id}: parameter ${name}: declare it with int(min, max, default), bool(default) or oneOf(values, default)`,
      );
    }
  }
  return def;
}

export interface SessionOptions<D extends AnyScenario = AnyScenario> {
  variant?: VariantOf<D>;
  /** Functions replaced for this session only, on top of the variant (a student's version, a mutation). */
  overrides?: Overrides<OpsOf<D>>;
  /** Parameters, merged over the scenario's defaults (each checked against its declaration). */
  params?: Partial<ParamsOfDef<D>>;
}

/** Replacement functions by name, as the runtime installs them (makeKernel checks each is a function). */
function byName(o: object | undefined): Record<string, KernelFn> {
  const out: Record<string, KernelFn> = {};
  if (o !== undefined) for (const [name, fn] of Object.entries(o)) out[name] = fn;
  return out;
}

/** A scenario bound to one variant, overrides and params: builds fresh machines for executions. */
export class Session<D extends AnyScenario = AnyScenario> {
  readonly variant: VariantOf<D>;
  readonly k: Kernel<OpsOf<D>>;
  readonly fingerprint: string;
  readonly params: ParamsOfDef<D>;
  readonly bounds: Bounds;
  private readonly cfg: MachineConfig;
  private readonly overrides: SessionOptions<D>["overrides"];
  instance: ScenarioInstance = {};

  constructor(
    readonly def: D,
    opts: SessionOptions<D> = {},
  ) {
    const variants = Object.keys(def.variants);
    const variant: string = opts.variant ?? variants[0];
    if (!Object.prototype.hasOwnProperty.call(def.variants, variant)) {
      throw new ModelError(`scenario ${def.id} has no variant "${variant}" (variants: ${variants.join(", ")})`);
    }
    this.variant = variant as VariantOf<D>;
    this.params = resolveParams(def.id, def.params ?? {}, opts.params);
    this.cfg = typeof def.machine === "function" ? def.machine(this.params) : def.machine;
    this.bounds = { ...DEFAULT_BOUNDS, ...(def.bounds ?? {}) };
    this.overrides = opts.overrides;
    this.k = this.kernel(false);
    // The model's TS (comments and white space out), so tsc, vitest and tslab agree on one string.
    this.fingerprint = fingerprint(
      this.k,
      `${def.id}/${this.variant}/${JSON.stringify(this.params)}/${JSON.stringify(this.cfg)}/${scenarioDigest(def)}`,
      modelText,
    );
    // Build one machine now: a machine the parameters cannot build is reported here, clearly, not from a search.
    try {
      this.spare = this.fresh();
    } catch (e) {
      if (e instanceof ModelError) throw e;
      throw new ModelError(`scenario ${def.id}: ${(e as Error).message}`);
    }
  }

  /** The machine built by the constructor, untouched: handed to the first fresh() (big workloads build once). */
  private spare: Machine | null = null;

  /** The scenario's functions with this variant's and the session's replacements installed. */
  private kernel(traced: boolean): Kernel<OpsOf<D>> {
    return makeKernel(
      this.def.ops,
      { ...byName(this.def.variants[this.variant]), ...byName(this.overrides) },
      { traced },
    );
  }

  /** The kernel of `fresh(true)`: the same functions, each telling the machine's call hook of its calls. */
  private kTraced: Kernel<OpsOf<D>> | null = null;

  /**
   * A fresh machine with the scenario's initial state and threads; `traced`: its threads call the functions
   * through a kernel that tells `m.callHook` of each call and return (the DFS state cache).
   */
  fresh(traced = false): Machine {
    const spare = this.spare;
    if (spare !== null && !traced) {
      this.spare = null;
      this.k.m = spare;
      return spare;
    }
    const k = traced ? (this.kTraced ??= this.kernel(true)) : this.k;
    const m = new Machine(this.cfg, k);
    k.m = m;
    this.instance = this.def.setup(k, m, this.params) ?? {};
    return m;
  }
}

// The default registry's lookups, where older callers import them from.
export { scenarios, getScenario } from "./registry";
