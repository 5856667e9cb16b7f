// A machine's state as a number, for the DFS state cache: a structural walk of the JS object graph the runtime
// can reach (each context's runtime fields, the IRQ and RCU queues, and `m.ext`, where base subsystems keep the
// modelled world: the mm world, TLBs, the HPT, per-CPU batches), in a canonical order, cycles followed by
// identity, clocks and bookkeeping skipped. Each object gets an *own* hash (its primitive fields and the
// identities of the objects it points to), so a step's writes show as the objects whose own hash changed.
//
// A context's continuation (its generator's locals) cannot be read; it is a function of its code and what it
// observed, so `observe` hashes what a step could read: the current own hash of every object some earlier step
// of this execution changed while announcing an object this step announces (or running on this CPU). DPOR
// already relies on a step's announcement covering what it reads (a read of a field another step wrote must
// share an announced object with that write, or run on its CPU), so an object the step reads and a step before
// changed is in that set; objects nobody changed hold their initial value in every execution.

import { CELL_OBJECT } from "../sim/objects";
import type { CellObjects } from "../sim/objects";

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

/** A field key's hash, or 0 for a key the walk skips (SKIP): one lookup per field. */
const keyHashes = new Map<string, number>();
/** The key each hash came from (a cell's key, asked of its object's CELL_OBJECT). */
const keyNames = new Map<number, string>();
function keyHash(key: string): number {
  let h = keyHashes.get(key);
  if (h === undefined) {
    h = SKIP.has(key) ? 0 : strHash(key) || 1;
    keyHashes.set(key, h);
    if (h !== 0) keyNames.set(h, key);
  }
  return h;
}

function cellObjects(o: object | null): CellObjects | null {
  return o !== null && typeof (o as Partial<CellObjects>)[CELL_OBJECT] === "function" ? (o as CellObjects) : null;
}

/** A value that is not an object (or null) as a number: what a field holding it contributes to a hash. */
function scalarHash(v: unknown): number {
  switch (typeof v) {
    case "number":
      if ((v | 0) === v) return v;
      f64[0] = v;
      return mix(i32[0], i32[1]);
    case "boolean":
      return v ? 0x7001 : 0x7002;
    case "string":
      return mix(0x7003, strHash(v));
    case "undefined":
      return 0x7004;
    case "function":
      // a function's identity by name: closures created per execution cannot be compared otherwise
      return mix(0x7005, strHash((v as { name: string }).name));
    case "object":
      return 0x7006; // null
    default:
      return 0x7009;
  }
}

/** Per prototype: whether the walk enters such objects, and the hash of the constructor's name. */
interface Kind {
  opaque: boolean;
  name: number;
}
const kinds = new Map<object | null, Kind>();
function kindOf(v: object): Kind {
  const proto = Object.getPrototypeOf(v) as object | null;
  let k = kinds.get(proto);
  if (k === undefined) {
    const tag = (v as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
    const name = (v as { constructor?: { name?: string } }).constructor?.name ?? "";
    k = {
      opaque:
        tag === "Generator" ||
        name === "Machine" ||
        name === "KernelBase" ||
        name === "ObjectTable" ||
        name === "Metrics",
      name: strHash(name),
    };
    kinds.set(proto, k);
  }
  return k;
}

/** Per walked object: its identity in the last walk, own hash (two lanes), the walk that saw it, who changed it. */
interface Rec {
  idx: number;
  h: number;
  g: number;
  walk: number;
  /** Field keys and value hashes of the last walk (a child object's value: its identity). */
  fk: Int32Array | null;
  fx: Int32Array | null;
  /** Reached only through a context (its fields are never observed: see attribute). */
  ctx: boolean;
  /** An array held in field `hk` of `hp`, which says which object covers each element (CELL_OBJECT). */
  hp: CellObjects | null;
  hk: string;
  /** The object covering every field (a plain object inside a covered structure), or -1. */
  inh: number;
}

/**
 * One field (by its object's identity and key) that a step of the current path changed: what it holds now,
 * and the objects the steps that wrote it announced. Kept across executions, undone per step on backtracking,
 * so a replayed prefix needs no walk.
 */
interface Cell {
  readonly id: number;
  readonly key: number;
  x: number;
  /** What it held at the start (a field of an object made since: none, `fresh`). */
  readonly x0: number;
  readonly fresh: boolean;
  /** The object its structure says covers it (CELL_OBJECT), or -1: then the writers' announcements do. */
  readonly home: number;
  readonly owners: number[];
  ctx: boolean;
}

export class StateHasher {
  private recs = new Map<object, Rec>();
  private order: object[] = [];
  private walkNo = 0;
  /** Objects changed this execution, by the object id (or CPU pseudo-object) the changing step announced. */
  private byOwner = new Map<number, Cell[]>();
  private cells = new Map<number, Map<number, Cell>>();
  // Undo log of the path: 0 = cell created, 1 = value changed (old value), 2 = owner added.
  private logOp: number[] = [];
  private logCell: Cell[] = [];
  private logVal: number[] = [];
  /** The world's two 32-bit lanes after the last walk. */
  h1 = 0;
  h2 = 0;
  /** Fields that changed in the last walk. */
  changed: Cell[] = [];
  // The fields of the object being hashed.
  private fk = new Int32Array(64);
  private fx = new Int32Array(64);
  private nf = 0;
  /** The second lane of the last `observe`. */
  o2 = 0;
  /** Objects reached by the last walk (its size). */
  size = 0;

  /** A fresh machine (new objects): per-object records go; the path's cells stay (see rollback). */
  reset(): void {
    this.recs = new Map();
    this.walkNo = 0;
  }

  /** Length of the undo log: what `rollback` returns to. */
  get mark(): number {
    return this.logOp.length;
  }

  /** Undo every cell change logged after `mark` (the steps below a new branch point). */
  rollback(mark: number): void {
    const op = this.logOp;
    const cell = this.logCell;
    const val = this.logVal;
    for (let i = op.length - 1; i >= mark; i--) {
      const c = cell[i];
      if (op[i] === 0) this.cells.get(c.id)!.delete(c.key);
      else if (op[i] === 1) c.x = val[i];
      else {
        c.owners.pop();
        this.byOwner.get(val[i])!.pop();
      }
    }
    op.length = cell.length = val.length = mark;
  }

  // The object being hashed: its two lanes (fields() folds into them).
  private ha = 0;
  private hb = 0;

  /**
   * The identity of `v` in this walk, reached from the object being hashed (identity `from`) by `key`: its
   * own numeric `id` if it has one (machine objects, step sites: the same whichever path reaches them), else
   * the path that first reached it (not its position in the walk, which any object added earlier would shift).
   */
  private visit(v: object, from: number, key: number): number {
    let r = this.recs.get(v);
    if (r === undefined) {
      r = { idx: -1, h: 0, g: 0, walk: 0, fk: null, fx: null, ctx: false, hp: null, hk: "", inh: -1 };
      this.recs.set(v, r);
      if (!this.ctxPhase && this.curRec !== null) this.inherit(r, v, key);
    }
    if (r.walk !== this.walkNo) {
      r.walk = this.walkNo;
      r.ctx = this.ctxPhase;
      // a context met in the world (an IRQ controller's, say) waits for the contexts' part of the walk
      const deferred = !this.ctxPhase && this.ctxSet.has(v);
      if (deferred) r.ctx = true;
      const id = (v as { id?: unknown }).id;
      r.idx = typeof id === "number" ? mix(mix(0x1d, kindOf(v).name), id) : mix(from, key);
      (deferred ? this.deferred : this.order).push(v);
    }
    return r.idx;
  }

  /**
   * A plain object or array held in a field CELL_OBJECT covers is covered as a whole by the same object (an
   * rmap entry of a struct page); an array held in a field of such a structure asks it per element.
   */
  private inherit(r: Rec, v: object, key: number): void {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== Array.prototype) return;
    const pr = this.curRec!;
    if (pr.inh >= 0) r.inh = pr.inh;
    else if (this.homed !== null) {
      if (Array.isArray(v)) {
        r.hp = this.homed;
        r.hk = this.homedKey;
      } else r.inh = this.homed[CELL_OBJECT](this.homedKey, -1);
    } else if (pr.hp !== null) r.inh = pr.hp[CELL_OBJECT](pr.hk, key);
  }

  /** Identity of the object being hashed, and its record. */
  private cur = 0;
  private curRec: Rec | null = null;
  /** The walk has left the world for the contexts: what it reaches now only a context holds. */
  private ctxPhase = false;
  private ctxSet = new Set<object>();
  private deferred: object[] = [];
  /** The object being hashed if it declares CELL_OBJECT, and the key of the field being hashed. */
  private homed: CellObjects | null = null;
  private homedKey = "";

  private field(key: number, v: unknown): void {
    let x: number;
    if (typeof v === "object" && v !== null) x = kindOf(v).opaque ? 0x7007 : mix(0x7008, this.visit(v, this.cur, key));
    else x = scalarHash(v);
    this.ha = mix(mix(this.ha, key), x);
    this.hb = mix2(mix2(this.hb, key), x);
    if (this.nf === this.fk.length) {
      const a = new Int32Array(this.nf * 2);
      a.set(this.fk);
      this.fk = a;
      const b = new Int32Array(this.nf * 2);
      b.set(this.fx);
      this.fx = b;
    }
    this.fk[this.nf] = key;
    this.fx[this.nf++] = x;
  }

  private log(op: number, c: Cell, v: number): void {
    this.logOp.push(op);
    this.logCell.push(c);
    this.logVal.push(v);
  }

  /** The object covering field `key` of r's object o (CELL_OBJECT), or -1. */
  private homeOf(r: Rec, o: object, key: number): number {
    if (r.inh >= 0) return r.inh;
    if (r.hp !== null) return r.hp[CELL_OBJECT](r.hk, key);
    const h = Array.isArray(o) ? null : cellObjects(o);
    if (h === null) return -1;
    const name = keyNames.get(key);
    return name === undefined ? -1 : h[CELL_OBJECT](name, -1);
  }

  /** Object r (o) changed: note each field whose value differs from the last walk's. */
  private diff(r: Rec, o: object, fresh: boolean): void {
    const ok = r.fk!;
    const ox = r.fx!;
    const nk = this.fk;
    const nx = this.fx;
    const n = this.nf;
    const cell = (key: number, x: number, x0: number): void => {
      let m = this.cells.get(r.idx);
      if (m === undefined) this.cells.set(r.idx, (m = new Map()));
      let c = m.get(key);
      if (c === undefined) {
        const home = r.ctx ? -1 : this.homeOf(r, o, key);
        m.set(key, (c = { id: r.idx, key, x, x0, fresh, home, owners: [], ctx: r.ctx }));
        this.log(0, c, 0);
      } else if (c.x !== x) {
        this.log(1, c, c.x);
        c.x = x;
      }
      this.changed.push(c);
    };
    const same = ok.length === n;
    for (let i = 0; i < n; i++) {
      if (same && ok[i] === nk[i]) {
        if (ox[i] !== nx[i]) cell(nk[i], nx[i], ox[i]);
        continue;
      }
      const j = ok.indexOf(nk[i]);
      if (j < 0) cell(nk[i], nx[i], 0x7004);
      else if (ox[j] !== nx[i]) cell(nk[i], nx[i], ox[j]);
    }
    for (let j = 0; j < ok.length; j++) {
      if (same && ok[j] === nk[j]) continue;
      let found = false;
      for (let i = 0; i < n && !found; i++) found = nk[i] === ok[j];
      if (!found) cell(ok[j], 0x7004, ox[j]); // the field is gone: it reads as undefined
    }
  }

  /**
   * Walk `roots` (in this order): world hash in h1/h2, changed fields in `changed`. The first walk of a
   * machine is its baseline (nothing changed: the cells already say what the path changed before).
   */
  walk(roots: readonly unknown[], contexts: readonly object[]): void {
    ++this.walkNo;
    const order = this.order;
    order.length = 0;
    this.changed = [];
    // Breadth-first from the roots, the world's first and then the contexts' (what only they reach is theirs).
    let ri = 0;
    this.ctxPhase = false;
    this.homed = null;
    this.curRec = null;
    this.ctxSet.clear();
    for (const c of contexts) this.ctxSet.add(c);
    this.deferred.length = 0;
    for (const root of roots) if (typeof root === "object" && root !== null) this.visit(root, 0x900d, ri++);
    let w1 = 0x5eed;
    let w2 = 0x5eed;
    for (let n = 0; ; n++) {
      if (n === order.length) {
        if (this.ctxPhase) break;
        // the world is walked: the contexts come after it
        this.ctxPhase = true;
        this.homed = null;
        for (const c of this.deferred) order.push(c);
        this.visit(contexts, 0x900d, ri++);
      }
      const o = order[n] as Record<string, unknown>;
      const r = this.recs.get(o)!;
      this.cur = r.idx;
      this.curRec = r;
      this.homed = null;
      this.ha = 0x1234567;
      this.hb = 0x1234567;
      this.nf = 0;
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
        this.homed = r.ctx ? null : cellObjects(o);
        for (const key in o) {
          const kh = keyHash(key);
          if (kh === 0) continue;
          this.homedKey = key;
          this.field(kh, o[key]);
        }
        this.homed = null;
      }
      if (r.fk === null || r.h !== this.ha || r.g !== this.hb) {
        let fresh = false;
        if (r.fk === null && this.walkNo > 1) {
          // first reached after the start (made by this step, or newly linked): every field is news
          r.fk = new Int32Array(0);
          r.fx = new Int32Array(0);
          fresh = true;
        }
        if (r.fk !== null) this.diff(r, o, fresh);
        r.fk = this.fk.slice(0, this.nf);
        r.fx = this.fx.slice(0, this.nf);
        r.h = this.ha;
        r.g = this.hb;
      }
      w1 = (w1 + mix(r.idx, this.ha)) | 0;
      w2 = (w2 + mix2(r.idx, this.hb)) | 0;
    }
    this.size = order.length;
    this.h1 = w1;
    this.h2 = w2;
  }

  /**
   * The objects of the last walk that changed were written by a step announcing `owners` (its CPU first). A
   * context's own runtime fields (`contexts`: its announcement, IRQ flag, preempt count, locks held) are a
   * function of its own history and read only by its own code (`k.m.cur`) and the runtime (the world hash
   * has them): no step observes them.
   */
  attribute(owners: readonly number[]): void {
    for (const c of this.changed) {
      if (c.ctx) continue;
      const n = c.home >= 0 ? 1 : owners.length;
      for (let j = 0; j < n; j++) {
        const x = c.home >= 0 ? c.home : owners[j];
        if (c.owners.includes(x)) continue;
        c.owners.push(x);
        let l = this.byOwner.get(x);
        if (l === undefined) this.byOwner.set(x, (l = []));
        l.push(c);
        this.log(2, c, x);
      }
    }
  }

  /**
   * What a step announcing `ids` could read, as a hash: every field a step of this execution changed while
   * announcing one of `ids`, by its object's identity, its key and what it last held. Order-independent.
   */
  /** The second lane of the last `valueHash`. */
  v2 = 0;
  private va = 0;
  private vb = 0;

  /** Whether the last walk reached `v` in the world (not only through a context). */
  private inWorld(v: object): boolean {
    const r = this.recs.get(v);
    return r !== undefined && r.walk === this.walkNo && !r.ctx;
  }

  /**
   * What a finished call gave its caller, as a hash: its result, and what it left in the objects passed to it
   * that the world does not hold (a caller's local gather, say). World objects count by identity: their
   * contents are in the world's hash.
   */
  valueHash(result: unknown, args: readonly unknown[]): number {
    this.va = 0x3e1;
    this.vb = 0x3e1;
    this.value(result, 3);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (typeof a === "object" && a !== null && !this.inWorld(a)) {
        this.fold(0xa000 + i);
        this.value(a, 3);
      }
    }
    this.v2 = this.vb;
    return this.va;
  }

  private fold(x: number): void {
    this.va = mix(this.va, x);
    this.vb = mix2(this.vb, x);
  }

  private value(v: unknown, depth: number): void {
    if (typeof v !== "object" || v === null) return this.fold(scalarHash(v));
    const o = v as Record<string, unknown>;
    if (this.inWorld(o)) return this.fold(mix(0x7008, this.recs.get(o)!.idx));
    const kind = kindOf(o);
    if (kind.opaque || depth === 0) return this.fold(mix(0x7007, kind.name));
    this.fold(mix(0x700a, kind.name));
    if (Array.isArray(o) || ArrayBuffer.isView(o)) {
      const a = o as unknown as ArrayLike<unknown>;
      this.fold(a.length);
      for (let i = 0; i < a.length; i++) this.value(a[i], depth - 1);
    } else if (o instanceof Map) {
      for (const [key, val] of o) {
        this.value(key, depth - 1);
        this.value(val, depth - 1);
      }
    } else if (o instanceof Set) {
      for (const val of o) this.value(val, depth - 1);
    } else {
      for (const key in o) {
        const kh = keyHash(key);
        if (kh === 0) continue;
        this.fold(kh);
        this.value(o[key], depth - 1);
      }
    }
  }

  observe(ids: readonly number[]): number {
    let s = 0x0b5;
    let t = 0x0b5;
    for (const x of ids) {
      const l = this.byOwner.get(x);
      if (l === undefined) continue;
      for (const c of l) {
        if (c.x === c.x0 && !c.fresh) continue; // back to its initial value: as if never written
        const f = mix(mix(x, c.id), c.key);
        s = (s + mix(f, c.x)) | 0;
        t = (t + mix2(f, c.x)) | 0;
      }
    }
    this.o2 = t;
    return s;
  }
}
