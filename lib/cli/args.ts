// Option values for the commander-built CLI: each parser refuses what it cannot take exactly (a fraction, a seed
// past 2^53, a flag given twice), so a typo never silently changes a search.

export class UsageError extends Error {
  override name = "UsageError";
}

/** commander's argParser for an option given at most once: the second occurrence is refused, not last-wins. */
export function once<T>(flag: string, parse: (v: string) => T): (v: string, previous: T | undefined) => T {
  return (v, previous) => {
    if (previous !== undefined) throw new UsageError(`--${flag} given twice`);
    return parse(v);
  };
}

/** An integer ≥ min (and exactly representable: at most 2^53 − 1); "inf"/"infinity" where `inf` is true. */
export function wholeNumber(flag: string, min: number, inf = false): (v: string) => number {
  return (v) => {
    if (inf && /^inf(inity)?$/i.test(v)) return Infinity;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${flag} must be a whole number${inf ? " or inf" : ""}, got "${v}"`);
    const n = Number(v);
    if (!Number.isSafeInteger(n))
      throw new UsageError(`--${flag} must be at most 2^53 − 1 (${Number.MAX_SAFE_INTEGER}), got ${v}`);
    if (n < min) throw new UsageError(`--${flag} must be at least ${min}, got ${n}`);
    return n;
  };
}

/** commander's argParser for a repeatable option: the values in order. */
export function collect(v: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), v];
}

/** --param name=value pairs: the value is JSON when it parses (numbers, booleans, arrays), else a string. */
export function paramsFlag(items: readonly string[] | undefined): Record<string, unknown> | undefined {
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
