// The machine: CPUs grouped into cores, each CPU with a task context and an interrupt context, shared objects
// named by integer ids, and the step loop that resumes one context by one step. Modelled kernel code is a
// generator that *announces* its next shared access (k.R / k.W / k.local …) and then yields; the explorer picks
// a context, the machine resumes it, and the context performs the announced access and runs on to its next
// announcement. So at every state each context's next access is known: what DPOR needs, at no extra cost.
//
// The model is sequentially consistent: a step's effects are visible to every CPU as soon as it runs.

import { EV, SimEvent } from "./event";
import type { TraceStep } from "./trace";
import type { KernelBase } from "./kernel";

export const READ = 0;
export const WRITE = 1;
/** A step with no shared access (a barrier, a local computation that costs time). */
export const LOCAL = 2;

/** Modelled kernel code: yields once per step, returns T. */
export type Gen<T = void> = Generator<void, T, unknown>;

/** Work for an interrupt context: an IPI function or an RCU callback. */
export interface IrqWork {
  readonly name: string;
  readonly fn: (k: KernelBase, arg: unknown) => Gen<unknown>;
  readonly arg: unknown;
  /** Call-single data of a synchronous IPI: counts handlers still to run. */
  readonly csd: Csd | null;
  /** The sender waits for it (wait=1): a CPU with IRQs on takes it before its task's next step. */
  readonly sync?: boolean;
  /** Earliest virtual time the work may start (timed mode). */
  readyAt: number;
  /** Step that made the work runnable (queued the IPI, ended the grace period); set by the machine. */
  readyStep?: number;
}

/** Completion counter shared by the sender of an IPI and its handlers. */
export interface Csd {
  readonly id: number;
  pending: number;
}

/** An RCU-sched callback waiting for its grace period. */
export interface RcuCallback {
  readonly cpu: number;
  /** CPUs that must still pass a quiescent state, as a bit mask. */
  need: number;
  readonly work: IrqWork | null;
  /** Set when the grace period has ended (synchronize_sched waits on it). */
  gpDone: boolean;
  readonly queuedAt: number;
}

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

export class ModelError extends Error {
  override name = "ModelError";
}

/** A task or interrupt context: one explorer process. */
export class Context {
  /** Generator of the running thread or handler; null for an idle interrupt context. */
  gen: Gen<unknown> | null = null;
  done = false;
  name: string;
  // The announced next step.
  obj = -1;
  kind: number = LOCAL;
  obj2 = -1;
  kind2: number = LOCAL;
  extra: readonly number[] | null = null;
  ev: SimEvent = EV.start;
  /** Wait-until condition of the next step: the context is runnable only while it holds. */
  guard: (() => boolean) | null = null;
  // Per-context kernel state: IRQ flag, preempt count, spinlocks held.
  irqsOff = false;
  preempt = 0;
  locks = 0;
  work: IrqWork | null = null;

  constructor(readonly proc: number, readonly cpu: number, readonly irq: boolean) {
    this.name = irq ? `irq${cpu}` : `cpu${cpu}`;
  }
}

export interface MachineConfig {
  cpus: number;
  /** Hardware threads per core; a core's threads share a TLB. */
  threadsPerCore?: number;
  /** Track RCU-sched quiescent states as shared accesses (scenarios that call call_rcu_sched / synchronize_sched). */
  rcu?: boolean;
}

export interface ViolationInfo {
  invariant: string;
  message: string;
  /** Step index at which it was found. */
  step: number;
}

const HARDIRQ_OFFSET = 1 << 16;
// Shared empty maps until timed mode records something (most executions never do).
const EMPTY_COUNTERS: Map<string, number> = new Map();
const EMPTY_SAMPLES: Map<string, number[]> = new Map();

export class Machine {
  readonly ncpu: number;
  readonly threadsPerCore: number;
  readonly rcuMode: boolean;
  readonly ctxs: Context[];
  /** The context executing the current step. */
  cur: Context;
  steps = 0;
  violation: ViolationInfo | null = null;

  // Shared-object registry: names are kept as (name, first id, count) ranges and formatted on demand.
  private nobj = 0;
  private rangeName: string[] = [];
  private rangeBase: number[] = [];
  private rangeCount: number[] = [];
  private watchers: ((() => void) | undefined)[] = [];
  private invariants: { name: string; check: () => string | null }[] = [];

  // Per-CPU runtime objects.
  readonly cpuStateObj: number[] = [];
  readonly ipiqObj: number[] = [];
  readonly rcuqObj: number[] = [];
  private ipiq: IrqWork[][] = [];
  private rcuReady: IrqWork[][] = [];
  private rcuPending: RcuCallback[] = [];
  private rcuWaitMask = 0;
  gracePeriods = 0;

  // The step being executed: the announced access plus any found while running it.
  eObj = -1;
  eKind: number = LOCAL;
  eObj2 = -1;
  eKind2: number = LOCAL;
  eExtra: readonly number[] | null = null;
  eEv: SimEvent = EV.start;
  readonly xObj: number[] = [];
  readonly xKind: number[] = [];
  /** Number of accesses found while running the current step (entries of xObj/xKind in use). */
  xn = 0;

  /** Decides `choose(n)` values; set by the explorer or the timed scheduler. */
  chooser: (n: number, label: string) => number = () => 0;
  /** Trace of executed steps, when recording. */
  trace: TraceStep[] | null = null;

  // Timed mode: per-CPU virtual clocks (ns) and metrics.
  clock: number[];
  timed = false;
  counters: Map<string, number> = EMPTY_COUNTERS;
  samples: Map<string, number[]> = EMPTY_SAMPLES;
  /**
   * Per-machine state of modelled subsystems (the mm world, per-CPU batches…), by key. A plain slot object,
   * not WeakMaps keyed by machine: a machine per execution would leave the GC millions of dead ephemerons.
   */
  readonly ext: { [key: string]: unknown } = {};

  constructor(cfg: MachineConfig, readonly k: KernelBase) {
    if (!Number.isInteger(cfg.cpus) || cfg.cpus < 1 || cfg.cpus > 15) {
      throw new ModelError(`cpus must be an integer from 1 to 15, got ${cfg.cpus}`);
    }
    const tpc = cfg.threadsPerCore ?? 1;
    if (!Number.isInteger(tpc) || tpc < 1 || cfg.cpus % tpc !== 0) {
      throw new ModelError(`threadsPerCore must divide cpus (${cfg.cpus}), got ${tpc}`);
    }
    this.ncpu = cfg.cpus;
    this.threadsPerCore = tpc;
    this.rcuMode = cfg.rcu ?? false;
    this.ctxs = [];
    for (let c = 0; c < this.ncpu; c++) {
      this.ctxs.push(new Context(2 * c, c, false), new Context(2 * c + 1, c, true));
      this.cpuStateObj.push(this.newObj(`cpu${c}.state`));
      this.ipiqObj.push(this.newObj(`cpu${c}.ipi-queue`));
      this.rcuqObj.push(this.newObj(`cpu${c}.rcu-callbacks`));
      this.ipiq.push([]);
      this.rcuReady.push([]);
    }
    for (const o of this.cpuStateObj) this.cpuStateReads.push(o, READ);
    for (let c = 0; c < this.ncpu; c++) {
      const t = this.ctxs[2 * c];
      t.done = true; // a CPU with no thread is idle
      this.idleIrq(this.ctxs[2 * c + 1]);
    }
    this.cur = this.ctxs[0];
    this.clock = filled(this.ncpu);
  }

  // ---- objects ----------------------------------------------------------------------------------------

  /** Register a shared object; its id is what steps announce. Ids are deterministic given the schedule. */
  newObj(name: string): number {
    this.rangeName.push(name);
    this.rangeBase.push(this.nobj);
    this.rangeCount.push(0);
    return this.nobj++;
  }

  /** Register n shared objects named `${name}[i]`; returns the first id. */
  newObjs(n: number, name: string): number {
    const base = this.nobj;
    this.rangeName.push(name);
    this.rangeBase.push(base);
    this.rangeCount.push(n);
    this.nobj += n;
    return base;
  }

  get objectCount(): number {
    return this.nobj;
  }

  objName(id: number): string {
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

  private renamed: Map<number, string> | null = null;

  renameObj(id: number, name: string): void {
    (this.renamed ??= new Map()).set(id, name);
  }

  /** Check `fn` after every step that writes object `id` (an invariant stated where the state lives). */
  watch(id: number, fn: () => void): void {
    const prev = this.watchers[id];
    this.watchers[id] = prev ? () => (prev(), fn()) : fn;
  }

  /** A machine-wide invariant checked after every step; returns a message when broken. Use sparingly. */
  invariant(name: string, check: () => string | null): void {
    this.invariants.push({ name, check });
  }

  /** Report harm. The first violation of an execution stops it. */
  violate(invariant: string, message: string): void {
    if (!this.violation) this.violation = { invariant, message, step: this.steps - 1 };
  }

  // ---- threads ----------------------------------------------------------------------------------------

  /** Run `body` as the task of `cpu`. Code before its first yield must not touch shared state. */
  spawn(cpu: number, name: string, body: Gen<unknown>): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.ncpu) throw new ModelError(`no cpu ${cpu} (machine has ${this.ncpu})`);
    const t = this.ctxs[2 * cpu];
    if (!t.done || t.gen) throw new ModelError(`cpu ${cpu} already runs thread "${t.name}"`);
    t.done = false;
    t.name = name;
    t.gen = body;
    this.prime(t);
  }

  private prime(c: Context): void {
    const prev = this.cur;
    this.cur = c;
    c.obj = -2;
    c.guard = null;
    const r = c.gen!.next();
    this.cur = prev;
    if (r.done) {
      if (c.irq) this.finishIrq(c);
      else this.finishTask(c);
    } else if (c.obj === -2) {
      throw new ModelError(`${c.name}: yielded without announcing a step (call k.R/k.W/k.local before yield)`);
    }
  }

  coreOf(cpu: number): number {
    return Math.floor(cpu / this.threadsPerCore);
  }

  /** Whether context `p` can take its next step now. */
  isEnabled(p: number): boolean {
    const c = this.ctxs[p];
    if (!c.irq) {
      if (c.done || this.ctxs[p + 1].gen !== null) return false;
      if (!c.irqsOff && this.syncIpiArrived(c.cpu)) return false;
      return c.guard === null || c.guard();
    }
    if (c.gen !== null) return c.guard === null || c.guard();
    const t = this.ctxs[p - 1];
    if (!t.done && t.irqsOff) return false;
    return this.ipiq[c.cpu].length > 0 || this.rcuReady[c.cpu].length > 0;
  }

  /** Bit mask of runnable contexts. */
  enabledMask(): number {
    let m = 0;
    const n = this.ctxs.length;
    for (let p = 0; p < n; p++) if (this.isEnabled(p)) m |= 1 << p;
    return m;
  }

  allTasksDone(): boolean {
    for (let c = 0; c < this.ncpu; c++) if (!this.ctxs[2 * c].done) return false;
    return true;
  }

  /** Earliest time pending interrupt work on `cpu` may start (timed mode). */
  irqReadyAt(cpu: number): number {
    const q = this.ipiq[cpu];
    if (q.length > 0) return q[0].readyAt;
    const r = this.rcuReady[cpu];
    return r.length > 0 ? r[0].readyAt : Infinity;
  }

  /** Step that made the next interrupt work of `cpu` runnable: it can never be reordered with taking it. */
  irqReadyStep(cpu: number): number {
    const q = this.ipiq[cpu];
    const w = q.length > 0 ? q[0] : this.rcuReady[cpu][0];
    return w?.readyStep ?? -1;
  }

  // ---- the step ---------------------------------------------------------------------------------------

  /** Execute one step of context `p`, which must be enabled. */
  step(p: number): void {
    const c = this.ctxs[p];
    this.cur = c;
    const idx = this.steps++;
    this.eObj = c.obj;
    this.eKind = c.kind;
    this.eObj2 = c.obj2;
    this.eKind2 = c.kind2;
    this.eExtra = c.extra;
    this.eEv = c.ev;
    this.xn = 0;
    if (this.trace) this.traceStep(idx, c);
    if (this.timed && c.ev.counter !== null) this.count(c.ev.counter);
    if (c.irq && c.gen === null) {
      this.enterIrq(c);
    } else {
      c.obj = -2;
      c.obj2 = -1;
      c.extra = null;
      c.guard = null;
      const r = c.gen!.next();
      if (r.done) {
        if (c.irq) this.finishIrq(c);
        else this.finishTask(c);
      } else if (c.obj === -2) {
        throw new ModelError(`${c.name}: yielded without announcing a step (call k.R/k.W/k.local before yield)`);
      }
    }
    const cpu = c.cpu;
    if ((this.rcuWaitMask & (1 << cpu)) !== 0 && this.quiescent(cpu)) this.reportQs(cpu);
    if (this.eKind === WRITE) {
      const w = this.watchers[this.eObj];
      if (w !== undefined) w();
    }
    if (this.eKind2 === WRITE) {
      const w = this.watchers[this.eObj2];
      if (w !== undefined) w();
    }
    if (this.eExtra !== null) {
      const x = this.eExtra;
      for (let i = 0; i < x.length; i += 2) {
        if (x[i + 1] === WRITE) {
          const w = this.watchers[x[i]];
          if (w !== undefined) w();
        }
      }
    }
    for (let i = 0; i < this.invariants.length; i++) {
      const msg = this.invariants[i].check();
      if (msg !== null) this.violate(this.invariants[i].name, msg);
    }
  }

  /** Record an access found while running a step (rare: completion of an IPI, for example). */
  noteAccess(obj: number, kind: number): void {
    this.xObj[this.xn] = obj;
    this.xKind[this.xn++] = kind;
  }

  private traceStep(idx: number, c: Context): void {
    const entering = c.irq && c.gen === null;
    this.trace!.push({
      i: idx,
      proc: c.proc,
      cpu: c.cpu,
      ctx: c.irq ? "irq" : "task",
      thread: entering ? this.peekIrqName(c.cpu) : c.name,
      fn: c.ev.fn,
      what: entering ? "take interrupt" : c.ev.what,
      obj: c.kind === LOCAL ? "" : this.objName(c.obj),
      kind: c.kind === LOCAL ? "-" : c.kind === WRITE ? "W" : "R",
      ...(this.timed ? { t: this.clock[c.cpu] } : {}),
    });
  }

  /** Called by `choose`: asks the explorer, records the value in the trace. */
  choose(n: number, label: string): number {
    if (!Number.isInteger(n) || n < 1) throw new ModelError(`choose(${n}) needs a positive integer`);
    if (n === 1) return 0;
    const v = this.chooser(n, label);
    if (this.trace && this.trace.length > 0) {
      const last = this.trace[this.trace.length - 1];
      (last.choices ??= []).push(v);
    }
    return v;
  }

  private finishTask(c: Context): void {
    c.done = true;
    c.gen = null;
    c.obj = -1;
    c.kind = LOCAL;
    c.obj2 = -1;
    c.guard = null;
    // lockdep-like balance checks on return to user space
    if (c.locks !== 0) this.violate("lock-held-at-return", `${c.name} returned to user space holding ${c.locks} spinlock(s)`);
    else if (c.irqsOff) this.violate("irqs-off-at-return", `${c.name} returned to user space with IRQs disabled`);
    else if (c.preempt !== 0) this.violate("preempt-count-leak", `${c.name} returned to user space with preempt_count ${c.preempt}`);
  }

  // ---- interrupts -------------------------------------------------------------------------------------

  private idleIrq(irq: Context): void {
    irq.gen = null;
    irq.work = null;
    irq.name = `irq${irq.cpu}`;
    irq.ev = EV.irqEntry;
    irq.guard = null;
    irq.obj = this.ipiqObj[irq.cpu];
    irq.kind = WRITE;
    irq.obj2 = this.rcuqObj[irq.cpu];
    irq.kind2 = WRITE;
    // Taking an interrupt may run an RCU callback, whose readiness depends on every CPU's quiescent state.
    irq.extra = this.rcuMode ? this.cpuStateReads : null;
  }

  /** (object, kind) pairs reading every CPU's state: what RCU grace-period decisions depend on. */
  readonly cpuStateReads: number[] = [];

  private peekIrqName(cpu: number): string {
    const q = this.ipiq[cpu];
    if (q.length > 0) return q[0].name;
    const r = this.rcuReady[cpu];
    return r.length > 0 ? r[0].name : `irq${cpu}`;
  }

  private enterIrq(irq: Context): void {
    const cpu = irq.cpu;
    const work = this.ipiq[cpu].length > 0 ? this.ipiq[cpu].shift()! : this.rcuReady[cpu].shift()!;
    irq.work = work;
    irq.name = work.name;
    irq.irqsOff = true;
    irq.preempt = HARDIRQ_OFFSET;
    irq.locks = 0;
    irq.gen = work.fn(this.k, work.arg);
    this.prime(irq);
  }

  private finishIrq(irq: Context): void {
    const work = irq.work!;
    if (irq.locks !== 0) this.violate("lock-held-at-irq-exit", `${irq.name} left interrupt context holding ${irq.locks} spinlock(s)`);
    else if (!irq.irqsOff || irq.preempt !== HARDIRQ_OFFSET) {
      this.violate("irq-state-at-irq-exit", `${irq.name} left interrupt context with unbalanced IRQ/preempt state`);
    }
    if (work.csd !== null) {
      work.csd.pending--;
      this.noteAccess(work.csd.id, WRITE);
    }
    this.idleIrq(irq);
  }

  /** Queue IPI work on `cpu` (the sender announces a write to its queue object). */
  queueIpi(cpu: number, work: IrqWork): void {
    work.readyStep = this.steps - 1;
    this.ipiq[cpu].push(work);
  }

  /**
   * A synchronous IPI has reached `cpu` (timed mode: its latency has passed). Delivery is prompt: target steps
   * between the send and the handler commute with the send while the sender waits, so no state is lost.
   */
  private syncIpiArrived(cpu: number): boolean {
    const q = this.ipiq[cpu];
    for (let i = 0; i < q.length; i++) if (q[i].sync === true && (!this.timed || this.clock[cpu] >= q[i].readyAt)) return true;
    return false;
  }

  pendingIpis(cpu: number): number {
    return this.ipiq[cpu].length;
  }

  inInterrupt(): boolean {
    return this.cur.irq && this.cur.gen !== null;
  }

  // ---- RCU-sched --------------------------------------------------------------------------------------

  /** A CPU is quiescent when its task runs with IRQs and preemption enabled outside interrupts, or is idle. */
  quiescent(cpu: number): boolean {
    if (this.ctxs[2 * cpu + 1].gen !== null) return false;
    const t = this.ctxs[2 * cpu];
    return t.done || (!t.irqsOff && t.preempt === 0);
  }

  /** Start a grace period for `cb`: it must wait for every CPU not quiescent right now. */
  rcuQueue(cpu: number, work: IrqWork | null): RcuCallback {
    if (!this.rcuMode) throw new ModelError("RCU-sched used by a scenario that did not set rcu: true in its machine config");
    let need = 0;
    for (let c = 0; c < this.ncpu; c++) if (!this.quiescent(c)) need |= 1 << c;
    const cb: RcuCallback = { cpu, need, work, gpDone: false, queuedAt: this.clock[cpu] };
    this.rcuPending.push(cb);
    this.rcuWaitMask |= need;
    if (need === 0) this.endGracePeriods();
    return cb;
  }

  private reportQs(cpu: number): void {
    const bit = 1 << cpu;
    let mask = 0;
    for (const cb of this.rcuPending) {
      cb.need &= ~bit;
      mask |= cb.need;
    }
    this.rcuWaitMask = mask;
    this.endGracePeriods();
  }

  private endGracePeriods(): void {
    const still: RcuCallback[] = [];
    for (const cb of this.rcuPending) {
      if (cb.need !== 0) {
        still.push(cb);
        continue;
      }
      cb.gpDone = true;
      this.gracePeriods++;
      if (this.timed) this.count("grace periods");
      if (cb.work !== null) {
        if (this.timed) cb.work.readyAt = Math.max(cb.work.readyAt, cb.queuedAt + this.gpLatency);
        cb.work.readyStep = this.steps - 1;
        this.rcuReady[cb.cpu].push(cb.work);
      }
    }
    this.rcuPending = still;
  }

  /** Virtual time a grace period takes at the least (timed mode). */
  gpLatency = 0;
  /** Virtual time from sending an IPI to its handler starting (timed mode). */
  ipiLatency = 0;

  rcuPendingCount(): number {
    return this.rcuPending.length;
  }

  // ---- metrics (timed mode) ---------------------------------------------------------------------------

  count(name: string, n = 1): void {
    if (this.counters === EMPTY_COUNTERS) this.counters = new Map();
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  sample(name: string, value: number): void {
    if (this.samples === EMPTY_SAMPLES) this.samples = new Map();
    let a = this.samples.get(name);
    if (!a) this.samples.set(name, (a = []));
    a.push(value);
  }
}
