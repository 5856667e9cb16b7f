// The machine: CPUs grouped into cores, each CPU with a task context and an interrupt context, and the step
// that resumes one context by one step. Modelled kernel code is a generator that *announces* its next shared
// access (k.R / k.W / k.local …) and then yields; the explorer picks a context, the machine resumes it, and the
// context performs the announced access and runs on to its next announcement. So at every state each context's
// next access is known: what DPOR needs, at no extra cost. The other concerns live beside it: objects, watchers
// and invariants (objects.ts), IRQs and IPIs (interrupts.ts), RCU-sched (rcu_sched.ts), clock and metrics
// (metrics.ts).
//
// The model is sequentially consistent: a step's effects are visible to every CPU as soon as it runs.

import { EV, SimEvent } from "./event";
import type { TraceStep } from "./trace";
import type { KernelBase, CallHook } from "./kernel";
import { X86_IRQ } from "./irq_arch";
import type { IrqArch } from "./irq_arch";
import { Context, RtContext, READ as READ_, WRITE as WRITE_, LOCAL as LOCAL_ } from "./context";
import { ModelError } from "./model_error";
import { ObjectTable } from "./objects";
import { Interrupts } from "./interrupts";
import type { IrqWork } from "./interrupts";
import { RcuSched } from "./rcu_sched";
import type { RcuCallback } from "./rcu_sched";
import { Metrics } from "./metrics";

// Values, not `export { READ } from`: tsc makes a re-export a getter, a call at every use in modelled code.
export const READ = READ_;
export const WRITE = WRITE_;
export const LOCAL = LOCAL_;
export { ModelError };
export { filled } from "./objects";
export type { Gen, Context, PulledAccess } from "./context";
export type { IrqWork, Csd } from "./interrupts";
export type { RcuCallback } from "./rcu_sched";

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

const NOT_ANNOUNCED = -2;

export class Machine {
  readonly ncpu: number;
  readonly threadsPerCore: number;
  readonly rcuMode: boolean;
  private readonly rctx: RtContext[] = [];
  /** Every context: task of cpu c is process 2c, its interrupt context 2c + 1 (a field: the explorer's hot read). */
  readonly ctxs: readonly Context[] = this.rctx;
  private rcur: RtContext;
  steps = 0;
  violation: ViolationInfo | null = null;

  readonly objects = new ObjectTable();
  readonly irqs: Interrupts;
  /** Per CPU: the object of its IPI queue (the interrupts' own array, as a field: the explorer reads it per step). */
  readonly ipiqObj: readonly number[];
  /** Per CPU: the object of its ready RCU callbacks. */
  readonly rcuqObj: readonly number[];
  readonly rcu: RcuSched;
  readonly metrics: Metrics;

  /** Per CPU: the object whose writes change its RCU-sched quiescent state (IRQ flag, preempt count). */
  readonly cpuStateObj: number[] = [];
  /** (object, kind) pairs reading every CPU's state: what RCU grace-period decisions depend on. */
  readonly cpuStateReads: number[] = [];

  // The step being executed: the announced access plus any found while running it.
  eObj = -1;
  /** Told of calls and returns of a traced kernel's functions (the DFS state cache sets it), or null. */
  callHook: CallHook | null = null;
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
  /**
   * Per-machine state of modelled subsystems (the mm world, per-CPU batches…), by key. A plain slot object,
   * not WeakMaps keyed by machine: a machine per execution would leave the GC millions of dead ephemerons.
   */
  readonly ext: { [key: string]: unknown } = {};
  /** The arch's IRQ model (irq_arch.ts): x86's unless the scenario's arch layer registers another. */
  irqArch: IrqArch = X86_IRQ;

  constructor(
    cfg: MachineConfig,
    readonly k: KernelBase,
  ) {
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
    this.irqs = new Interrupts(this);
    this.ipiqObj = this.irqs.ipiqObj;
    this.rcuqObj = this.irqs.rcuqObj;
    this.rcu = new RcuSched(this);
    this.metrics = new Metrics(this.ncpu);
    for (let c = 0; c < this.ncpu; c++) {
      this.rctx.push(new RtContext(2 * c, c, false, this), new RtContext(2 * c + 1, c, true, this));
      this.cpuStateObj.push(this.newObj(`cpu${c}.state`));
      this.irqs.addCpu(c);
    }
    for (const o of this.cpuStateObj) this.cpuStateReads.push(o, READ);
    this.useIrqArch(X86_IRQ);
    for (let c = 0; c < this.ncpu; c++) {
      this.rctx[2 * c].done = true; // a CPU with no thread is idle
      this.irqs.idle(this.rctx[2 * c + 1]);
    }
    this.rcur = this.rctx[0];
  }

  /** Register the arch's IRQ model (a scenario's setup, before any step): every task starts in its initial state. */
  useIrqArch(a: IrqArch): void {
    if (this.steps !== 0) throw new ModelError(`useIrqArch(${a.name}) after the first step`);
    this.irqArch = a;
    for (const c of this.rctx) c.setIrqState(c.irq ? a.irqEntry : a.initial, a);
  }

  /** The context executing the current step. */
  get cur(): Context {
    return this.rcur;
  }

  // ---- objects, watchers, invariants (objects.ts) ------------------------------------------------------

  /** Register a shared object; its id is what steps announce. Ids are deterministic given the schedule. */
  newObj(name: string): number {
    return this.objects.newObj(name);
  }

  /** Register n shared objects named `${name}[i]`; returns the first id. */
  newObjs(n: number, name: string): number {
    return this.objects.newObjs(n, name);
  }

  get objectCount(): number {
    return this.objects.count;
  }

  objName(id: number): string {
    return this.objects.name(id);
  }

  renameObj(id: number, name: string): void {
    this.objects.rename(id, name);
  }

  /** Check `fn` after every step that writes object `id` (an invariant stated where the state lives). */
  watch(id: number, fn: () => void): void {
    this.objects.watch(id, fn);
  }

  /** A machine-wide invariant checked after every step; returns a message when broken. Use sparingly. */
  invariant(name: string, check: () => string | null): void {
    this.objects.invariant(name, check);
  }

  /** Report harm. The first violation of an execution stops it. */
  violate(invariant: string, message: string): void {
    if (!this.violation) this.violation = { invariant, message, step: this.steps - 1 };
  }

  // ---- contexts ---------------------------------------------------------------------------------------

  /** Run `body` as the task of `cpu`. Code before its first yield must not touch shared state. */
  spawn(cpu: number, name: string, body: Generator<void, unknown, unknown>): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.ncpu)
      throw new ModelError(`no cpu ${cpu} (machine has ${this.ncpu})`);
    const t = this.rctx[2 * cpu];
    if (!t.done || t.gen) throw new ModelError(`cpu ${cpu} already runs thread "${t.name}"`);
    t.done = false;
    t.name = name;
    t.gen = body;
    this.prime(t);
  }

  /** Run a new generator to its first announcement. */
  private prime(c: RtContext): void {
    const prev = this.rcur;
    this.rcur = c;
    c.aObj = NOT_ANNOUNCED;
    c.guard = null;
    c.pull = null;
    const r = c.gen!.next();
    this.rcur = prev;
    this.afterResume(c, r.done === true);
  }

  private afterResume(c: RtContext, done: boolean): void {
    if (done) {
      if (c.irq) this.irqs.finish(c);
      else this.finishTask(c);
    } else if (c.aObj === NOT_ANNOUNCED && c.pull === null) {
      throw new ModelError(`${c.name}: yielded without announcing a step (call k.R/k.W/k.local before yield)`);
    }
  }

  coreOf(cpu: number): number {
    return Math.floor(cpu / this.threadsPerCore);
  }

  /** Whether context `p` can take its next step now. */
  isEnabled(p: number): boolean {
    const c = this.rctx[p];
    if (!c.irq) {
      if (c.done || this.rctx[p + 1].gen !== null) return false;
      if (!c.irqsOff && this.irqs.queued !== 0 && this.irqs.syncIpiArrived(c.cpu)) return false;
      return c.guard === null || c.guard();
    }
    if (c.gen !== null) return c.guard === null || c.guard();
    const t = this.rctx[p - 1];
    if (!t.done && t.irqsOff) return false;
    return this.irqs.queued !== 0 && this.irqs.hasWork(c.cpu);
  }

  /** Bit mask of runnable contexts. */
  enabledMask(): number {
    let m = 0;
    const n = this.rctx.length;
    for (let p = 0; p < n; p++) if (this.isEnabled(p)) m |= 1 << p;
    return m;
  }

  allTasksDone(): boolean {
    for (let c = 0; c < this.ncpu; c++) if (!this.rctx[2 * c].done) return false;
    return true;
  }

  // ---- the step ---------------------------------------------------------------------------------------

  /** Execute one step of context `p`, which must be enabled. */
  step(p: number): void {
    const c = this.rctx[p];
    this.rcur = c;
    // Read the announcement before the step count moves: a pulled access evaluated at this state stays cached.
    if (c.pull !== null) c.refresh();
    this.eObj = c.aObj;
    this.eKind = c.aKind;
    this.eObj2 = c.aObj2;
    this.eKind2 = c.aKind2;
    this.eExtra = c.aExtra;
    this.eEv = c.ev;
    const idx = this.steps++;
    this.xn = 0;
    if (this.trace) this.traceStep(idx, c);
    if (this.metrics.timed && c.ev.counter !== null) this.metrics.count(c.ev.counter);
    if (c.irq && c.gen === null) {
      this.irqs.enter(c);
      this.prime(c);
    } else {
      c.aObj = NOT_ANNOUNCED;
      c.aObj2 = -1;
      c.aExtra = null;
      c.guard = null;
      c.pull = null;
      this.afterResume(c, c.gen!.next().done === true);
    }
    const cpu = c.cpu;
    if ((this.rcu.waitMask & (1 << cpu)) !== 0 && this.rcu.quiescent(cpu)) this.rcu.reportQs(cpu);
    const watchers = this.objects.watchers;
    if (this.eKind === WRITE) {
      const w = watchers[this.eObj];
      if (w !== undefined) w();
    }
    // obj2 is -1 when the step has no second object (its kind may be stale): never index watchers with -1
    if (this.eKind2 === WRITE && this.eObj2 >= 0) {
      const w = watchers[this.eObj2];
      if (w !== undefined) w();
    }
    if (this.eExtra !== null) {
      const x = this.eExtra;
      for (let i = 0; i < x.length; i += 2) {
        if (x[i + 1] === WRITE) {
          const w = watchers[x[i]];
          if (w !== undefined) w();
        }
      }
    }
    const inv = this.objects.invariants;
    for (let i = 0; i < inv.length; i++) {
      const msg = inv[i].check();
      if (msg !== null) this.violate(inv[i].name, msg);
    }
  }

  /** Record an access found while running a step (rare: completion of an IPI, for example). */
  noteAccess(obj: number, kind: number): void {
    this.xObj[this.xn] = obj;
    this.xKind[this.xn++] = kind;
  }

  private traceStep(idx: number, c: RtContext): void {
    const entering = c.irq && c.gen === null;
    const kind = this.eKind;
    this.trace!.push({
      i: idx,
      proc: c.proc,
      cpu: c.cpu,
      ctx: c.irq ? "irq" : "task",
      thread: entering ? this.irqs.peekName(c.cpu) : c.name,
      fn: c.ev.fn,
      what: entering ? "take interrupt" : c.ev.what,
      obj: kind === LOCAL ? "" : this.objName(this.eObj),
      kind: kind === LOCAL ? "-" : kind === WRITE ? "W" : "R",
      ...(this.metrics.timed ? { t: this.clock[c.cpu] } : {}),
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

  private finishTask(c: RtContext): void {
    c.done = true;
    c.gen = null;
    c.aObj = -1;
    c.aKind = LOCAL;
    c.aObj2 = -1;
    c.guard = null;
    c.pull = null;
    // lockdep-like balance checks on return to user space
    if (c.locks !== 0)
      this.violate("lock-held-at-return", `${c.name} returned to user space holding ${c.locks} spinlock(s)`);
    else if (this.irqArch.disabled(c.irqState))
      this.violate("irqs-off-at-return", `${c.name} returned to user space with IRQs disabled`);
    else if (c.preempt !== 0)
      this.violate("preempt-count-leak", `${c.name} returned to user space with preempt_count ${c.preempt}`);
  }

  // ---- interrupts (interrupts.ts) ---------------------------------------------------------------------

  /** Earliest time pending interrupt work on `cpu` may start (timed mode). */
  irqReadyAt(cpu: number): number {
    return this.irqs.readyAt(cpu);
  }

  /** Step that made the next interrupt work of `cpu` runnable: it can never be reordered with taking it. */
  irqReadyStep(cpu: number): number {
    return this.irqs.readyStep(cpu);
  }

  /** Queue IPI work on `cpu` (the sender announces a write to its queue object). */
  queueIpi(cpu: number, work: IrqWork): void {
    this.irqs.queueIpi(cpu, work);
  }

  pendingIpis(cpu: number): number {
    return this.irqs.pendingIpis(cpu);
  }

  inInterrupt(): boolean {
    return this.rcur.irq && this.rcur.gen !== null;
  }

  /** Virtual time from sending an IPI to its handler starting (timed mode). */
  get ipiLatency(): number {
    return this.irqs.ipiLatency;
  }
  set ipiLatency(ns: number) {
    this.irqs.ipiLatency = ns;
  }

  // ---- RCU-sched (rcu_sched.ts) -----------------------------------------------------------------------

  /** A CPU is quiescent when its task runs with IRQs and preemption enabled outside interrupts, or is idle. */
  quiescent(cpu: number): boolean {
    return this.rcu.quiescent(cpu);
  }

  /** Start a grace period for `work`: it must wait for every CPU not quiescent right now. */
  rcuQueue(cpu: number, work: IrqWork | null): RcuCallback {
    return this.rcu.queue(cpu, work);
  }

  rcuPendingCount(): number {
    return this.rcu.pendingCount;
  }

  get gracePeriods(): number {
    return this.rcu.gracePeriods;
  }

  /** Virtual time a grace period takes at the least (timed mode). */
  get gpLatency(): number {
    return this.rcu.gpLatency;
  }
  set gpLatency(ns: number) {
    this.rcu.gpLatency = ns;
  }

  // ---- clock and metrics (metrics.ts) -----------------------------------------------------------------

  /** Per-CPU virtual clocks, ns (timed mode). */
  get clock(): number[] {
    return this.metrics.clock;
  }
  get timed(): boolean {
    return this.metrics.timed;
  }
  set timed(on: boolean) {
    this.metrics.timed = on;
  }
  get counters(): Map<string, number> {
    return this.metrics.counters;
  }
  get samples(): Map<string, number[]> {
    return this.metrics.samples;
  }
  count(name: string, n = 1): void {
    this.metrics.count(name, n);
  }
  sample(name: string, value: number): void {
    this.metrics.sample(name, value);
  }
}
