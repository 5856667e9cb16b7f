// Scenario parameters, declared: each one's type, range and default in one schema per scenario. The schema
// gives the default params and the TS type of `setup`'s `p`, and every value is checked against it before a
// machine is built, so a bad `--param` is refused instead of producing a false violation.

import { ModelError } from "../sim/machine";

/** One declared parameter: its default, a check, and a description for usage text and docs. */
export interface ParamSpec<T> {
  readonly type: "int" | "real" | "intList" | "bool" | "oneOf";
  readonly default: T;
  /** int: the inclusive range. */
  readonly min?: number;
  readonly max?: number;
  /** oneOf: the allowed values. */
  readonly values?: readonly string[];
  /** What this parameter means (optional: usage text, docs). */
  readonly doc?: string;
  /** The value if `v` is allowed, else an error message saying what is. */
  check(v: unknown): { ok: true; value: T } | { ok: false; expected: string };
  /** e.g. `int 1..64 (default 1)`. */
  describe(): string;
}

export type ParamSchema = Readonly<Record<string, ParamSpec<unknown>>>;

/** The parameter values a schema describes. */
export type ParamsOf<S extends ParamSchema> = { -readonly [N in keyof S]: S[N] extends ParamSpec<infer T> ? T : never };

/** An integer in [min, max]. */
export function int(min: number, max: number, dflt: number, doc?: string): ParamSpec<number> {
  const expected = `an integer from ${min} to ${max}`;
  const spec: ParamSpec<number> = {
    type: "int",
    default: dflt,
    min,
    max,
    doc,
    check: (v) =>
      typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
        ? { ok: true, value: v }
        : { ok: false, expected },
    describe: () => `int ${min}..${max} (default ${dflt})`,
  };
  if (!spec.check(dflt).ok) throw new ModelError(`int(${min}, ${max}, ${dflt}): the default is outside the range`);
  return spec;
}

/** A real number in [min, max] (a probability, a rate). */
export function real(min: number, max: number, dflt: number, doc?: string): ParamSpec<number> {
  const expected = `a number from ${min} to ${max}`;
  const spec: ParamSpec<number> = {
    type: "real",
    default: dflt,
    min,
    max,
    doc,
    check: (v) =>
      typeof v === "number" && Number.isFinite(v) && v >= min && v <= max
        ? { ok: true, value: v }
        : { ok: false, expected },
    describe: () => `real ${min}..${max} (default ${dflt})`,
  };
  if (!spec.check(dflt).ok) throw new ModelError(`real(${min}, ${max}, ${dflt}): the default is outside the range`);
  return spec;
}

/** A list of up to `maxLen` integers, each in [min, max] (a placement, a sequence of choices). */
export function intList(
  min: number,
  max: number,
  maxLen: number,
  dflt: readonly number[],
  doc?: string,
): ParamSpec<number[]> {
  const expected = `a list of 1 to ${maxLen} integers from ${min} to ${max}`;
  const spec: ParamSpec<number[]> = {
    type: "intList",
    default: [...dflt],
    min,
    max,
    doc,
    check: (v) =>
      Array.isArray(v) &&
      v.length >= 1 &&
      v.length <= maxLen &&
      v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= min && x <= max)
        ? { ok: true, value: [...(v as number[])] }
        : { ok: false, expected },
    describe: () => `int list ${min}..${max}, 1..${maxLen} long (default ${JSON.stringify(dflt)})`,
  };
  if (!spec.check(spec.default).ok)
    throw new ModelError(`intList(${min}, ${max}, ${maxLen}): the default is not allowed`);
  return spec;
}

/** true or false. */
export function bool(dflt: boolean, doc?: string): ParamSpec<boolean> {
  return {
    type: "bool",
    default: dflt,
    doc,
    check: (v) => (typeof v === "boolean" ? { ok: true, value: v } : { ok: false, expected: "true or false" }),
    describe: () => `bool (default ${dflt})`,
  };
}

/** One of a few strings. */
export function oneOf<const V extends readonly string[]>(
  values: V,
  dflt: V[number],
  doc?: string,
): ParamSpec<V[number]> {
  const expected = `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`;
  const spec: ParamSpec<V[number]> = {
    type: "oneOf",
    default: dflt,
    values,
    doc,
    check: (v) => (typeof v === "string" && values.includes(v) ? { ok: true, value: v } : { ok: false, expected }),
    describe: () => `${values.join("|")} (default ${dflt})`,
  };
  if (!spec.check(dflt).ok)
    throw new ModelError(`oneOf(${values.join(", ")}): the default "${dflt}" is not among the values`);
  return spec;
}

/** The schema's defaults. */
export function defaultParams<S extends ParamSchema>(schema: S): ParamsOf<S> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(schema)) out[name] = schema[name].default;
  return out as ParamsOf<S>;
}

/**
 * `given` over the defaults, each value checked. Only the schema's own names are accepted (`toString` and
 * `__proto__` are not parameters), and only the given object's own properties are read.
 */
export function resolveParams<S extends ParamSchema>(
  scenario: string,
  schema: S,
  given: object | undefined,
): ParamsOf<S> {
  const out: Record<string, unknown> = defaultParams(schema);
  if (given === undefined || given === null) return out as ParamsOf<S>;
  if (typeof given !== "object")
    throw new ModelError(`scenario ${scenario}: params must be an object, got ${typeof given}`);
  const names = Object.keys(schema);
  for (const name of Reflect.ownKeys(given)) {
    if (typeof name !== "string" || !Object.prototype.hasOwnProperty.call(schema, name)) {
      throw new ModelError(
        `scenario ${scenario} has no parameter "${String(name)}" (parameters: ${names.join(", ") || "none"})`,
      );
    }
    const v: unknown = Reflect.get(given, name);
    if (v === undefined) continue;
    const r = schema[name].check(v);
    if (!r.ok)
      throw new ModelError(
        `scenario ${scenario}: parameter ${name} must be ${r.expected}, got ${typeof v === "string" ? JSON.stringify(v) : String(v)}`,
      );
    out[name] = r.value;
  }
  return out as ParamsOf<S>;
}
