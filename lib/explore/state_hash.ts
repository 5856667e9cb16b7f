// A machine's state as a number, for the DFS state cache: a structural walk of the JS object graph the runtime
// can reach (each context's runtime fields, the IRQ and RCU queues, and `m.ext`, where base subsystems keep the
// modelled world: the mm world, TLBs, the HPT, per-CPU batches), in a canonical order, cycles followed by
// index, clocks and bookkeeping skipped. Each object gets an *own* hash (its primitive fields and the canonical
// indices of the objects it points to), so a step's writes show as the objects whose own hash changed.
//
// A context's continuation (its generator's locals) cannot be read; it is a function of its code and what it
// observed, so `observe` hashes what a step could read: the current own hash of every object some earlier step
// of this execution changed while announcing an object this step announces (or running on this CPU). DPOR
// already relies on a step's announcement covering what it reads (a read of a field another step wrote must
// share an announced object with that write, or run on its CPU), so an object the step reads and a step before
// changed is in that set; objects nobody changed hold their initial value in every execution.

/** 32-bit finaliser of MurmurHash3 over a ^ b·k: the mixing step of every state hash. */
export function mix(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** The second, independent lane of a 64-bit fingerprint. */
export function mix2(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x7feb352d)) | 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h | 0;
}

const strCache = new Map<string, number>();
/** FNV-1a of a string (keys and string values), memoised: keys repeat on every walk. */
export function strHash(s: string): number {
  let h = strCache.get(s);
  if (h !== undefined) return h;
  h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h |= 0;
  if (strCache.size < 1 << 16) strCache.set(s, h);
  return h;
}

const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);

/**
 * Fields that are not state: the machine and kernel (walked from their parts), clocks and step-stamped
 * bookkeeping (`readyAt`, `queuedAt`, `readyStep`, `since`), counters of what happened (`gracePeriods`), and a
 * context's generator, guard and pulled access (functions of its continuation, which the history stands for).
 */
const SKIP = new Set([
  "m",
  "k",
  "metrics",
  "trace",
  "clock",
  "readyAt",
  "readyStep",
  "queuedAt",
  "since",
  "hold",
  "gracePeriods",
  "gen",
  "guard",
  "pull",
  "pulledAt",
  "ipiLatency",
  "gpLatency",
]);

/** Per walked object: its canonical index in the last walk, own hash, the walk that saw it, who changed it. */
interface Rec {
  idx: number;
  h: number;
  g: number;
  walk: number;
  /** Object ids (and CPU pseudo-objects) announced by steps that changed it this execution. */
  owners: number[] | null;
}

export class StateHasher {
  private recs = new Map<object, Rec>();
  private order: object[] = [];
  private walkNo = 0;
  /** Objects changed this execution, by the object id (or CPU pseudo-object) the changing step announced. */
  private byOwner = new Map<number, object[]>();
  /** The world's two 32-bit lanes after the last walk. */
  h1 = 0;
  h2 = 0;
  /** Objects whose own hash changed in the last walk. */
  changed: object[] = [];
  /** The second lane of the last `observe`. */
  o2 = 0;
  /** Objects reached by the last walk (its size). */
  size = 0;

  /** Forget the execution: a fresh machine starts from the scenario's initial state. */
  reset(): void {
    this.recs = new Map();
    this.byOwner = new Map();
    this.walkNo = 0;
  }

  // The object being hashed: its two lanes (fields() folds into them).
  private ha = 0;
  private hb = 0;

  /** The canonical index of `v` in this walk (first reached: next index). */
  private visit(v: object): number {
    let r = this.recs.get(v);
    if (r === undefined) {
      r = { idx: -1, h: 0, g: 0, walk: 0, owners: null };
      this.recs.set(v, r);
    }
    if (r.walk !== this.walkNo) {
      r.walk = this.walkNo;
      r.idx = this.order.length;
      this.order.push(v);
    }
    return r.idx;
  }

  private field(key: number, v: unknown): void {
    let x: number;
    switch (typeof v) {
      case "number":
        if ((v | 0) === v) x = v;
        else {
          f64[0] = v;
          x = mix(i32[0], i32[1]);
        }
        break;
      case "boolean":
        x = v ? 0x7001 : 0x7002;
        break;
      case "string":
        x = mix(0x7003, strHash(v));
        break;
      case "undefined":
        x = 0x7004;
        break;
      case "function":
        // a function's identity by name: closures created per execution cannot be compared otherwise
        x = mix(0x7005, strHash((v as { name: string }).name));
        break;
      case "object":
        if (v === null) x = 0x7006;
        else if (isOpaque(v)) x = 0x7007;
        else x = mix(0x7008, this.visit(v));
        break;
      default:
        x = 0x7009;
    }
    this.ha = mix(mix(this.ha, key), x);
    this.hb = mix2(mix2(this.hb, key), x);
  }

  /** Walk `roots` (in this order): world hash in h1/h2, changed objects in `changed`. */
  walk(roots: readonly unknown[]): void {
    ++this.walkNo;
    const order = this.order;
    order.length = 0;
    this.changed = [];
    // Breadth-first from the roots: the index of an object is the order it is first reached in.
    for (const root of roots) if (typeof root === "object" && root !== null) this.visit(root);
    let w1 = 0x5eed;
    let w2 = 0x5eed;
    for (let n = 0; n < order.length; n++) {
      const o = order[n] as Record<string, unknown>;
      this.ha = 0x1234567;
      this.hb = 0x1234567;
      if (Array.isArray(o)) {
        this.ha = mix(this.ha, 0xa11a);
        for (let i = 0; i < o.length; i++) this.field(i, o[i]);
      } else if (ArrayBuffer.isView(o)) {
        const a = o as unknown as ArrayLike<number>;
        for (let i = 0; i < a.length; i++) this.field(i, a[i]);
      } else if (o instanceof Map) {
        let i = 0;
        for (const [key, val] of o) {
          this.field(i++, key);
          this.field(i++, val);
        }
      } else if (o instanceof Set) {
        let i = 0;
        for (const val of o) this.field(i++, val);
      } else {
        for (const key in o) {
          if (SKIP.has(key)) continue;
          this.field(strHash(key), o[key]);
        }
      }
      const r = this.recs.get(o)!;
      if (r.h !== this.ha || r.g !== this.hb) {
        if (this.walkNo > 1) this.changed.push(o);
        r.h = this.ha;
        r.g = this.hb;
      }
      w1 = (w1 + mix(n + 1, this.ha)) | 0;
      w2 = (w2 + mix2(n + 1, this.hb)) | 0;
    }
    this.size = order.length;
    this.h1 = w1;
    this.h2 = w2;
  }

  /**
   * The objects of the last walk that changed were written by a step announcing `owners` (its CPU first). A
   * context's own runtime fields (`cpuOnly`: its announcement, IRQ flag, preempt count) are read only by steps
   * on its CPU, so they are attributed to the CPU alone: a reader of an object the context wrote does not see
   * what that context announced next.
   */
  attribute(owners: readonly number[], cpuOnly: readonly object[]): void {
    for (const o of this.changed) {
      const r = this.recs.get(o)!;
      if (r.owners === null) r.owners = [];
      const n = cpuOnly.includes(o) ? 1 : owners.length;
      for (let j = 0; j < n; j++) {
        const x = owners[j];
        if (r.owners.includes(x)) continue;
        r.owners.push(x);
        let l = this.byOwner.get(x);
        if (l === undefined) this.byOwner.set(x, (l = []));
        l.push(o);
      }
    }
  }

  /**
   * What a step announcing `ids` could read, as a hash: every object a step of this execution changed while
   * announcing one of `ids`, by its canonical index and current own hash (objects unreachable now count by
   * their last hash, index -1). Order-independent.
   */
  observe(ids: readonly number[]): number {
    let s = 0x0b5;
    let t = 0x0b5;
    for (const x of ids) {
      const l = this.byOwner.get(x);
      if (l === undefined) continue;
      for (const o of l) {
        const r = this.recs.get(o)!;
        const idx = r.walk === this.walkNo ? r.idx : -1;
        s = (s + mix(mix(x, idx), r.h)) | 0;
        t = (t + mix2(mix2(x, idx), r.g)) | 0;
      }
    }
    this.o2 = t;
    return s;
  }
}

/** Objects the walk does not enter: the machine and kernel, generators, and anything with no own data. */
function isOpaque(v: object): boolean {
  const tag = (v as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  if (tag === "Generator") return true;
  const ctor = (v as { constructor?: { name?: string } }).constructor;
  const name = ctor?.name;
  return name === "Machine" || name === "KernelBase" || name === "ObjectTable" || name === "Metrics";
}
