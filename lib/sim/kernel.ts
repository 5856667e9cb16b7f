// The kernel object `k` that every modelled function receives first, like the kernel's implicit `current`.
// It carries the step announcements (k.R, k.W, k.local, k.wait) and the table of modelled kernel functions,
// bound to it, so `yield* k.zap_pte_range(...)` calls whatever the scenario installed under that name. A
// variant of a fix, or a student's version of one function, is just another entry in that table.

import type { Gen, Machine } from "./machine";
import { LOCAL, READ, WRITE, rt } from "./context";
import type { PulledAccess } from "./context";
import { ModelError } from "./model_error";
import type { SimEvent } from "./event";
import { checkFrameAccess } from "./page_alloc";
import type { PageFrame } from "./page_alloc";

/** A shared object, or its id. */
export type ObjRef = number | { readonly id: number };

const idOf = (o: ObjRef): number => (typeof o === "number" ? o : o.id);

/** A modelled kernel function: takes `k` first. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KernelFn = (k: any, ...args: any[]) => any;
export type OpTable = Record<string, KernelFn>;

/** The functions of an op table as seen through `k`: bound, without their first parameter. */
export type Bound<T extends OpTable> = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any `k` type: only the parameters after it matter
  [N in keyof T]: T[N] extends (k: any, ...a: infer A) => infer R ? (...a: A) => R : never;
};

export class KernelBase {
  /** The machine of the execution in progress (replaced for every execution). */
  m!: Machine;
  /** Names of the modelled functions installed, with the version (base or override) of each. */
  readonly installed: Record<string, KernelFn> = {};

  // ---- step announcements: call one, then `yield` ----------------------------------------------------
  // These are the only writers of a context's announced step (Context is read-only outside lib/sim).

  /** Next step reads `o`. */
  R(o: ObjRef, ev: SimEvent): void {
    const c = rt(this.m.cur);
    c.aObj = idOf(o);
    c.aKind = READ;
    c.ev = ev;
  }

  /** Next step writes (or read-modify-writes) `o`. */
  W(o: ObjRef, ev: SimEvent): void {
    const c = rt(this.m.cur);
    c.aObj = idOf(o);
    c.aKind = WRITE;
    c.ev = ev;
  }

  /** Next step touches two objects atomically (kinds READ or WRITE). */
  RW2(a: ObjRef, ka: number, b: ObjRef, kb: number, ev: SimEvent): void {
    const c = rt(this.m.cur);
    c.aObj = idOf(a);
    c.aKind = ka;
    c.aObj2 = idOf(b);
    c.aKind2 = kb;
    c.ev = ev;
  }

  /** Next step touches many objects atomically: `pairs` is [obj, kind, obj, kind, …]. */
  multi(pairs: readonly number[], ev: SimEvent): void {
    const c = rt(this.m.cur);
    if (pairs.length < 2) {
      c.aObj = -1;
      c.aKind = LOCAL;
    } else {
      c.aObj = pairs[0];
      c.aKind = pairs[1];
      if (pairs.length > 2) c.aExtra = pairs.slice(2);
    }
    c.ev = ev;
  }

  /** Next step has no shared access (a barrier, local work that costs time). */
  local(ev: SimEvent): void {
    const c = rt(this.m.cur);
    c.aObj = -1;
    c.aKind = LOCAL;
    c.ev = ev;
  }

  /**
   * Next step waits until `cond` holds, then accesses `o` (and `o2` with `kind2`, atomically): a busy-wait
   * (spinlock, _PAGE_BUSY, an IPI's completion) as one step that is not runnable while the condition is false.
   * `cond` may read only the objects announced.
   */
  wait(o: ObjRef, kind: number, ev: SimEvent, cond: () => boolean, o2?: ObjRef, kind2: number = READ): void {
    const c = rt(this.m.cur);
    c.aObj = idOf(o);
    c.aKind = kind;
    if (o2 !== undefined) {
      c.aObj2 = idOf(o2);
      c.aKind2 = kind2;
    }
    c.ev = ev;
    c.guard = cond;
  }

  /** Next step waits until `cond` holds, then touches every object of `pairs` ([obj, kind, …]) atomically. */
  waitMulti(pairs: readonly number[], ev: SimEvent, cond: () => boolean): void {
    this.multi(pairs, ev);
    rt(this.m.cur).guard = cond;
  }

  /**
   * Next step is `access`, whose objects depend on state other contexts may change while it waits (a hardware
   * translation): the machine evaluates `access.objects` whenever it reads the announcement, so nothing that
   * writes a translation source has to re-announce it.
   */
  pulled(access: PulledAccess, ev: SimEvent): void {
    const c = rt(this.m.cur);
    c.setPull(access);
    c.ev = ev;
  }

  /**
   * Next step accesses `o`, a word of page `frame` reached through a pointer (a table entry: a lockless walk,
   * ptep_get_lockless, a PTE whose table may be freed under the caller): announces `o` (`kind`) and the page
   * (read), waiting for `cond` first if given. After the yield, `k.frameLive` says whether the page still held
   * the allocation the pointer was taken in.
   */
  inFrame(o: ObjRef, kind: number, frame: PageFrame, ev: SimEvent, cond?: () => boolean): void {
    if (cond === undefined) this.RW2(o, kind, frame.id, READ, ev);
    else this.wait(o, kind, ev, cond, frame.id, READ);
  }

  /** Inside the step after `inFrame`: true if `frame` is still generation `gen`, else reports the use-after-free. */
  frameLive(frame: PageFrame, gen: number, who: string): boolean {
    return checkFrameAccess(this, frame, gen, who);
  }

  // ---- nondeterminism, harm, metrics ------------------------------------------------------------------

  /** A nondeterministic choice among n values (0 is the common case); the explorer enumerates them. */
  choose(n: number, label: string): number {
    return this.m.choose(n, label);
  }

  /** Report harm: the execution stops and the explorer reports it. */
  violation(invariant: string, message: string): void {
    this.m.violate(invariant, message);
  }

  /** The kernel's BUG_ON: a broken assertion is a violation named `invariant`. */
  BUG_ON(cond: boolean, invariant: string, message: string): void {
    if (cond) this.m.violate(invariant, message);
  }

  /** CPU the current context runs on (raw: no preemption check). */
  cpu(): number {
    return this.m.cur.cpu;
  }

  /** Timed mode: current CPU's virtual time in ns (0 in search mode). */
  now(): number {
    return this.m.clock[this.m.cur.cpu];
  }

  count(name: string, n = 1): void {
    if (this.m.timed) this.m.count(name, n);
  }

  sample(name: string, value: number): void {
    if (this.m.timed) this.m.sample(name, value);
  }
}

/** Build a kernel object with `ops` installed (overrides replace entries by name). */
/**
 * Told when a modelled generator function is entered and returns (a kernel made with `traced`, on a machine
 * whose `callHook` is set): the state cache folds a finished call into what it returned.
 */
export interface CallHook {
  enter(fn: number): void;
  leave(fn: number, result: unknown, args: readonly unknown[]): void;
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}) as object;

export function makeKernel<T extends OpTable>(
  ops: T,
  overrides: Partial<Record<keyof T, KernelFn>> = {},
  opts: { traced?: boolean } = {},
): KernelBase & Bound<T> {
  const k = new KernelBase() as KernelBase & Record<string, unknown>;
  // The bound functions live on a prototype of k's own: V8 keeps an object given ~100 computed keys in
  // dictionary mode (each `k.fn` and `this.m` a hash lookup), while a prototype's properties turn fast.
  const table = Object.create(KernelBase.prototype) as Record<string, unknown>;
  for (const name of Object.keys(overrides)) {
    if (!(name in ops))
      throw new ModelError(
        `override "${name}": no modelled function of that name (known: ${Object.keys(ops).sort().join(", ")})`,
      );
    if (typeof overrides[name] !== "function") throw new ModelError(`override "${name}" must be a function`);
  }
  let fn = 0;
  for (const name of Object.keys(ops)) {
    if (name in KernelBase.prototype) throw new ModelError(`modelled function "${name}" clashes with a runtime method`);
    const impl = (overrides[name] ?? ops[name]) as KernelFn;
    k.installed[name] = impl;
    table[name] =
      opts.traced && Object.getPrototypeOf(impl) === GeneratorFunction ? traced(k, impl, fn++) : impl.bind(null, k);
  }
  Object.setPrototypeOf(k, table);
  return k as KernelBase & Bound<T>;
}

/** `impl` bound to k, telling the machine's call hook (if any) when it starts and what it returned. */
function traced(
  k: KernelBase,
  impl: KernelFn,
  fn: number,
): (...args: unknown[]) => Generator<unknown, unknown, unknown> {
  return function* (...args: unknown[]) {
    const hook = k.m.callHook;
    if (hook === null) return (yield* impl(k, ...args)) as unknown;
    hook.enter(fn);
    const r = (yield* impl(k, ...args)) as unknown;
    hook.leave(fn, r, args);
    return r;
  };
}

/** FNV-1a, 32 bits, continuing from `h`. */
export function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const compiledText = (fn: KernelFn): string => fn.toString();
const digests = new WeakMap<(fn: KernelFn) => string, WeakMap<KernelFn, number>>();

/**
 * A model fingerprint for schedule strings: FNV-1a over `extra` and, for every installed function, its name and
 * `textOf(fn)` (the explorer passes the function's normalised TS; the default is the compiled text). Each
 * function's text is hashed once per `textOf`, since sessions are built often.
 */
export function fingerprint(k: KernelBase, extra: string, textOf: (fn: KernelFn) => string = compiledText): string {
  let cache = digests.get(textOf);
  if (cache === undefined) digests.set(textOf, (cache = new WeakMap()));
  let h = fnv1a(extra);
  for (const name of Object.keys(k.installed).sort()) {
    const fn = k.installed[name];
    let d = cache.get(fn);
    if (d === undefined) cache.set(fn, (d = fnv1a(textOf(fn))));
    h = fnv1a(`${name}:${d.toString(16)};`, h);
  }
  return h.toString(16).padStart(8, "0");
}

export type { Gen };
