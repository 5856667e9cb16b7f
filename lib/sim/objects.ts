// Shared objects, their watchers and the machine-wide invariants. Objects are integer ids, deterministic given
// the schedule; steps announce them. Names are kept as (name, first id, count) ranges and formatted on demand,
// so registering thousands of PTEs costs three array pushes per table.

/**
 * A plain array of n copies of `v`. Per-execution state uses these rather than typed arrays: a machine is
 * rebuilt for every execution, and small typed arrays (each with its own backing store) cost far more to
 * allocate and collect.
 */
export function filled(n: number, v = 0): number[] {
  const a = new Array<number>(n);
  for (let i = 0; i < n; i++) a[i] = v;
  return a;
}

/**
 * A data structure's map from its fields to the objects steps announce for them: `this[field]` (index < 0) or
 * element `index` of the array `this[field]` is covered by object id `[CELL_OBJECT](field, index)`, or -1 if no
 * one object covers it. The state cache (explore/state_hash.ts) uses it to know what a step that announces an
 * object could read; every read of such a field must then announce that object, as DPOR already assumes of
 * fields another CPU writes, and same-CPU reads too (the declaration takes away the CPU's blanket cover).
 */
export const CELL_OBJECT: unique symbol = Symbol.for("flushlab.cellObject");

export interface CellObjects {
  [CELL_OBJECT](field: string, index: number): number;
}

export interface Invariant {
  readonly name: string;
  readonly check: () => string | null;
}

export class ObjectTable {
  private nobj = 0;
  private readonly rangeName: string[] = [];
  private readonly rangeBase: number[] = [];
  private readonly rangeCount: number[] = [];
  private renamed: Map<number, string> | null = null;
  /** Watcher of each object id (checked after a step that writes it), or undefined. */
  readonly watchers: ((() => void) | undefined)[] = [];
  readonly invariants: Invariant[] = [];

  newObj(name: string): number {
    this.rangeName.push(name);
    this.rangeBase.push(this.nobj);
    this.rangeCount.push(0);
    return this.nobj++;
  }

  newObjs(n: number, name: string): number {
    const base = this.nobj;
    this.rangeName.push(name);
    this.rangeBase.push(base);
    this.rangeCount.push(n);
    this.nobj += n;
    return base;
  }

  get count(): number {
    return this.nobj;
  }

  name(id: number): string {
    if (!(id >= 0 && id < this.nobj)) return "";
    if (this.renamed !== null && this.renamed.has(id)) return this.renamed.get(id)!;
    let lo = 0;
    let hi = this.rangeBase.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.rangeBase[mid] <= id) lo = mid;
      else hi = mid - 1;
    }
    return this.rangeCount[lo] === 0 ? this.rangeName[lo] : `${this.rangeName[lo]}[${id - this.rangeBase[lo]}]`;
  }

  rename(id: number, name: string): void {
    (this.renamed ??= new Map()).set(id, name);
  }

  watch(id: number, fn: () => void): void {
    const prev = this.watchers[id];
    this.watchers[id] = prev ? () => (prev(), fn()) : fn;
  }

  invariant(name: string, check: () => string | null): void {
    this.invariants.push({ name, check });
  }
}
