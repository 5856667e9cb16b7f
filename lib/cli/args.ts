// A small argument parser: --flag value / --flag=value / boolean --flags, positional words. Unknown flags are
// errors, so a typo never silently changes a search.

export class UsageError extends Error {
  override name = "UsageError";
}

export interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
  /** Values of repeatable options (e.g. --param a=1 --param b=2). */
  lists: Map<string, string[]>;
}

export function parseArgs(
  argv: string[],
  valued: readonly string[],
  booleans: readonly string[],
  repeatable: readonly string[] = [],
): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (booleans.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else if (valued.includes(name) || repeatable.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || v === "") throw new UsageError(`--${name} needs a value`);
      if (repeatable.includes(name)) lists.set(name, [...(lists.get(name) ?? []), v]);
      else flags.set(name, v);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positional, flags, lists };
}

/** --param name=value pairs: the value is JSON when it parses (numbers, booleans, arrays), else a string. */
export function paramsFlag(p: Parsed): Record<string, unknown> | undefined {
  const items = p.lists.get("param");
  if (!items) return undefined;
  // No prototype: a `--param __proto__=…` is an own key the scenario's schema then refuses, not a lost write.
  const out: Record<string, unknown> = Object.create(null);
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param takes name=value, got "${item}"`);
    const raw = item.slice(eq + 1);
    let v: unknown = raw;
    try {
      v = JSON.parse(raw);
    } catch {
      v = raw;
    }
    const name = item.slice(0, eq);
    if (Object.prototype.hasOwnProperty.call(out, name)) throw new UsageError(`--param ${name} given twice`);
    out[name] = v;
  }
  return out;
}

/** An integer flag ≥ min; "inf"/"infinity" allowed where `inf` is true. */
export function intFlag(p: Parsed, name: string, min: number, inf = false): number | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  if (v === true) throw new UsageError(`--${name} needs a value`);
  if (inf && /^inf(inity)?$/i.test(v)) return Infinity;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number${inf ? " or inf" : ""}, got "${v}"`);
  const n = Number(v);
  if (n < min) throw new UsageError(`--${name} must be at least ${min}, got ${n}`);
  return n;
}

export function strFlag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return v === true ? undefined : v;
}
