// DFS with dynamic partial-order reduction, as a strategy: stateless search over schedules and choose()
// values with source-set DPOR (Abdulla, Aronis, Jonsson & Sagonas, POPL 2014: vector clocks find the steps each
// pending step races with, and one initial of the reversing sequence is added to the backtrack set before it)
// and sleep sets (Godefroid 1996). Each execution replays the decision prefix on a fresh machine, then runs on;
// the deepest unexplored alternative picks the next prefix.
//
// A preemption bound (Musuvathi & Qadeer, PLDI 2007) cuts schedules with more than N switches away from a
// context that could have continued. Bounding and DPOR do not compose for free: a reversal DPOR asks for may
// need a preemption the bound forbids while the same reversal at an earlier context switch would not. As in
// bounded POR (Coons, Musuvathi & McKinley, OOPSLA 2013) we also add each backtrack point at the start of the
// run of steps it falls in, and sleep sets are used only when there is no bound.

import { Machine, READ, WRITE, LOCAL, ViolationInfo } from "../../sim/machine";
import type { Session } from "../scenario";
import type { Decision } from "../schedule";
import type { ExecEnd, Strategy, SearchStrategy, SearchOptions, SearchOutcome } from "../strategy";
import { lowestBit, runExecution } from "../exec";
import { StateTable } from "../state_cache";
import type { CacheStats, StateCacheMode } from "../state_cache";
import { StateHasher, mix, mix2, strHash } from "../state_hash";
import type { CallHook } from "../../sim/kernel";

/** A call a context is inside: its caller's history when it was made. */
interface Frame {
  readonly h1: number;
  readonly h2: number;
  readonly up: Frame | null;
}

export interface DfsOptions {
  /** DPOR + sleep sets (true) or every interleaving (false). */
  reduce: boolean;
  /** Maximum preemptions per execution (Infinity: unbounded). */
  preemptionBound: number;
  maxSteps: number;
  maxExecutions: number;
  /** performance.now() value after which the search stops. */
  deadline: number;
  stopOnViolation: boolean;
  /** With stopOnViolation: stop only on a violation of this invariant (others count as ordinary leaves). */
  target?: string;
  /** Called at every complete execution (terminal or violating). */
  onExecution?: (e: DfsLeaf) => void;
  /** Called every few hundred executions, with the fraction of the tree done so far (estimate.ts). */
  onProgress?: (executions: number, fraction: number) => void;
  /**
   * Sharding (shard.ts): above `depth` steps branch fully (no DPOR; sleep sets stay, being the same in every
   * shard); the prefixes reaching that depth are numbered in DFS order (0, 1, …) and only those `keep` accepts
   * are searched below it.
   */
  split?: {
    depth: number;
    keep: (prefix: number) => boolean;
    /** Under a bound, a path with no preemption yet ends its prefix here instead (it holds the most work). */
    firstDepth?: number;
  };
  /**
   * Work stealing (steal.ts): search only the subtree below these decisions (a stolen branch: the last is the
   * stolen alternative), with the sleep set and done set its victim had at that state.
   */
  root?: DfsRoot;
  /** Stateful search (unbounded, with reduction): never explore a state twice (state_hash.ts, state_cache.ts). */
  stateCache?: { maxMemoryMb: number; mode?: StateCacheMode };
  /** Tests only: break one soundness rule (the state cache's, or work stealing's), to show the property test catches it. */
  unsound?: "sleep-subset" | "summary" | "history" | "result" | "args" | "given-done";
}

/** A subtree handed from one worker's DFS to another (work stealing): its path and the state's sets there. */
export interface DfsRoot {
  decisions: Decision[];
  sleep: number;
  done: number;
}

export interface DfsLeaf {
  violation: ViolationInfo | null;
  observation: string | null;
  decisions: () => Decision[];
  steps: number;
  preemptions: number;
}

export interface DfsResult {
  /** Complete executions (terminal or violating). */
  executions: number;
  /** Executions abandoned because every runnable context was asleep (already covered). */
  sleepBlocked: number;
  /** Branches cut by the preemption bound. */
  pruned: number;
  /** The bounded, reduced space was searched to the end. */
  exhaustive: boolean;
  violation: { info: ViolationInfo; decisions: Decision[]; steps: number; preemptions: number } | null;
  /** Longest execution seen, in steps. */
  maxSteps: number;
  /** Executions cut at a state the cache had explored (0 without a cache). */
  cacheHits: number;
  /** The state cache's figures, or null without one. */
  cache: CacheStats | null;
}

const SCHED = 0;
const CHOICE = 1;

/** A copy of `a` with twice the room (the per-search tables grow on demand). */
const popcount = (x: number): number => {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
};

function doubled(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The DFS strategy's state between executions, read by the search driver. */
export interface DfsState {
  executions: number;
  sleepBlocked: number;
  pruned: number;
  maxSeen: number;
  /** No unexplored alternative is left: the bounded, reduced space is exhausted. */
  exhausted: boolean;
  violation: DfsResult["violation"];
  /** With a split: prefixes numbered so far, and executions left to other shards (not counted above). */
  prefixes: number;
  skipped: number;
  /** The prefix the current execution belongs to (-1: none yet, or no split). */
  prefix: number;
  /** Fraction of the (reduced) tree behind the current path, from its branching so far (estimate.ts). */
  fraction(): number;
  /** An IPI queue was written (or about to be) without the tasks' queue reads recorded: dfs() starts over. */
  restart: boolean;
  cacheHits: number;
  cache: StateTable | null;
}

/** The DFS strategy: a Strategy whose state the driver reads, and which can give a branch away. */
export interface DfsSearcher extends Strategy {
  readonly state: DfsState;
  /**
   * Work stealing: the shallowest alternative not yet explored on the current path, handed out as a root
   * (null: none). The states above it then branch fully, so a backtrack point the thief's subtree would add
   * there is already set here (as above a shard's split depth).
   */
  donate(): DfsRoot | null;
}

/**
 * The DFS+DPOR strategy for `session` (one search: create a new one to search again). `ipiReads` false leaves
 * out each task step's read of its CPU's IPI queue (what makes a prompt synchronous IPI disable the task): inert
 * until some IPI queue is written, and the first execution that writes one, or analyses a pending write, sets
 * `state.restart` and is not counted, so the search is redone with them and equals the one that had them.
 */
export function dfsStrategy(session: Session, o: DfsOptions, ipiReads = true): DfsSearcher {
  const probe = session.fresh();
  const isIpiq = new Uint8Array(probe.objectCount);
  for (const x of probe.ipiqObj) isIpiq[x] = 1;
  const ipiWrite = (x: number): void => {
    if (!ipiReads && x < isIpiq.length && isIpiq[x] === 1) state.restart = true;
  };
  const P = probe.ctxs.length;
  const useSleep = o.reduce && o.preemptionBound === Infinity;
  const bound = o.preemptionBound;
  const cap = o.maxSteps + 1;

  // The decision stack: every scheduling decision and choose() value of the current execution.
  const tType: number[] = [];
  const tVal: number[] = [];
  const tN: number[] = [];
  const tStep: number[] = [];
  // Per state i (before step i): enabled, backtrack, done and sleep sets; the process run; preemptions so far.
  const en = new Int32Array(cap);
  const bt = new Int32Array(cap);
  const dn = new Int32Array(cap);
  const sl = new Int32Array(cap);
  const pr = new Int32Array(cap);
  const pc = new Int32Array(cap);
  const runStart = new Int32Array(cap);
  // Alternatives handed to another worker (donate()): done for the siblings explored after the current one,
  // not for the current one's subtree (whose sleep sets, recomputed at a choose() below, must not change).
  const given = new Int32Array(cap);
  // Happens-before: a vector clock per step; per object the last write and the reads since.
  const clk = o.reduce ? new Int32Array(cap * P) : new Int32Array(0);
  let objCap = Math.max(64, probe.objectCount * 2);
  let lastW: Int32Array = new Int32Array(objCap);
  let lastR: Int32Array = new Int32Array(objCap);
  let recStep: Int32Array = new Int32Array(1024);
  let recPrev: Int32Array = new Int32Array(1024);
  let nrec = 0;
  // Accesses of each step, flat: step i's pairs are accObj/accKind[accStart[i] .. accStart[i+1]).
  const accStart = new Int32Array(cap + 1);
  let accObj: Int32Array = new Int32Array(4096);
  let accKind: Int32Array = new Int32Array(4096);
  let nacc = 0;
  const lastStepOf = new Int32Array(P);
  const lastCpuStep = new Int32Array(P);

  let pruned = 0;
  let branchStep = -1;
  const split = o.split;
  const sd = split !== undefined ? split.depth : -1;
  const sd0 = split !== undefined && bound !== Infinity ? Math.max(sd, split.firstDepth ?? sd) : sd;
  // The step where the current path's prefix ends (-1: not reached yet; always past the states replayed).
  let splitAt = -1;
  // 0: the current execution's prefix is not numbered yet; 1: ours; 2: another shard's.
  let owned = 0;

  const join = (dst: number, src: number): void => {
    const d = dst * P;
    const s = src * P;
    for (let x = 0; x < P; x++) if (clk[s + x] > clk[d + x]) clk[d + x] = clk[s + x];
  };

  const growObj = (need: number): void => {
    let n = objCap;
    while (n <= need) n *= 2;
    const w = new Int32Array(n).fill(-1);
    w.set(lastW);
    const r = new Int32Array(n).fill(-1);
    r.set(lastR);
    lastW = w;
    lastR = r;
    objCap = n;
  };

  const recordAccess = (i: number, x: number, kind: number): void => {
    if (kind === LOCAL || x < 0) return;
    if (x >= objCap) growObj(x);
    if (nacc >= accObj.length) {
      accObj = doubled(accObj);
      accKind = doubled(accKind);
    }
    accObj[nacc] = x;
    accKind[nacc++] = kind;
    const w = lastW[x];
    if (w >= 0) join(i, w);
    if (kind === WRITE) {
      ipiWrite(x);
      for (let r = lastR[x]; r >= 0; r = recPrev[r]) join(i, recStep[r]);
      lastW[x] = i;
      lastR[x] = -1;
    } else {
      if (nrec >= recStep.length) {
        recStep = doubled(recStep);
        recPrev = doubled(recPrev);
      }
      recStep[nrec] = i;
      recPrev[nrec] = lastR[x];
      lastR[x] = nrec++;
    }
  };

  /** Vector clock of step i by process p: program order, same CPU, and every conflicting earlier access. */
  const updateClock = (m: Machine, i: number, p: number): void => {
    const base = i * P;
    const lp = lastStepOf[p];
    // element loops: for a few processes, copyWithin/fill cost more as builtin calls than the copy
    if (lp >= 0) for (let x = 0, from = lp * P; x < P; x++) clk[base + x] = clk[from + x];
    else for (let x = 0; x < P; x++) clk[base + x] = 0;
    const cpu = m.ctxs[p].cpu;
    if (lastCpuStep[cpu] >= 0) join(i, lastCpuStep[cpu]);
    accStart[i] = nacc;
    recordAccess(i, m.eObj, m.eKind);
    if (m.eObj2 >= 0) recordAccess(i, m.eObj2, m.eKind2);
    const ex = m.eExtra;
    if (ex !== null) for (let a = 0; a < ex.length; a += 2) recordAccess(i, ex[a], ex[a + 1]);
    for (let a = 0; a < m.xn; a++) recordAccess(i, m.xObj[a], m.xKind[a]);
    if (ipiReads && !m.ctxs[p].irq) recordAccess(i, m.ipiqObj[cpu], READ); // as in conflictsWithNext
    accStart[i + 1] = nacc;
    clk[base + p] = i + 1;
    lastStepOf[p] = i;
    lastCpuStep[cpu] = i;
  };

  /** Step x happens-before step y (x < y). */
  const hb = (x: number, y: number): boolean => clk[y * P + pr[x]] >= x + 1;

  /**
   * Source-set backtracking (Abdulla, Aronis, Jonsson & Sagonas, POPL 2014): to reverse the race between step s
   * and q's next step, some process must run at state s that starts the sequence v = (steps after s that do not
   * depend on s) · q. Add one of v's initials unless the backtrack set already holds one. (FG-DPOR's "add q, or
   * every enabled process" misses orderings when q is in the sleep set there.)
   */
  /** Step y conflicts with context q's announced next step (same CPU, or an object one of them writes). */
  const conflictsWithNext = (m: Machine, y: number, q: number): boolean => {
    const c = m.ctxs[q];
    if (m.ctxs[pr[y]].cpu === c.cpu) return true;
    for (let a = accStart[y]; a < accStart[y + 1]; a++) {
      const x = accObj[a];
      const kx = accKind[a];
      if (x === c.obj && c.kind !== LOCAL && (kx === WRITE || c.kind === WRITE)) return true;
      if (x === c.obj2 && c.kind2 !== LOCAL && (kx === WRITE || c.kind2 === WRITE)) return true;
      const ex = c.extra;
      if (ex !== null)
        for (let b = 0; b < ex.length; b += 2) if (x === ex[b] && (kx === WRITE || ex[b + 1] === WRITE)) return true;
      // a task's next step reads its CPU's IPI queue: a synchronous IPI queued there disables it until taken
      if (!c.irq && x === m.ipiqObj[c.cpu] && kx === WRITE) return true;
    }
    return false;
  };

  const addSourceBacktrack = (m: Machine, s: number, q: number, qClock: number, i: number): void => {
    const init: number[] = [];
    const notdep: number[] = [];
    for (let x = s + 1; x < i; x++) {
      if (hb(s, x)) continue;
      let initial = true;
      for (const y of notdep) {
        if (hb(y, x)) {
          initial = false;
          break;
        }
      }
      notdep.push(x);
      if (initial && !init.includes(pr[x])) init.push(pr[x]);
    }
    let qInitial = true;
    for (const y of notdep) {
      if ((qClock >= 0 && clk[qClock * P + pr[y]] >= y + 1) || conflictsWithNext(m, y, q)) {
        qInitial = false;
        break;
      }
    }
    if (qInitial && !init.includes(q)) init.push(q);
    let mask = 0;
    for (const p of init) mask |= 1 << p;
    mask &= en[s];
    if (mask === 0) mask = en[s]; // no initial can run there: fall back to every runnable process
    addAt(s, mask);
    if (bound !== Infinity) {
      const j = runStart[s] !== s ? runStart[s] : s > 0 ? runStart[s - 1] : s;
      if (j !== s) addAt(j, init.reduce((mk, p) => mk | (1 << p), 0) & en[j] || en[j]);
    }
  };

  /** Add one process of `mask` to backtrack(s) unless one is there already; prefer one not asleep. */
  const addAt = (s: number, mask: number): void => {
    if ((bt[s] & mask) !== 0) return;
    const awake = useSleep ? mask & ~sl[s] : mask;
    bt[s] |= 1 << lowestBit(awake !== 0 ? awake : mask);
  };

  /** Whether a context has a next step worth racing against (an idle interrupt context with no work has none). */
  const hasNext = (m: Machine, q: number): boolean => {
    const c = m.ctxs[q];
    if (!c.irq) return !c.done;
    return c.gen !== null || m.irqReadyAt(c.cpu) !== Infinity;
  };

  // The context race analysis is at (module-level closures, not two new ones per context and state).
  let rm = probe;
  let ri = 0;
  let rq = 0;
  let rlq = -1;
  let rEnabler = -1;
  const consider = (s: number): void => {
    if (pr[s] === rq || s === rEnabler) return;
    if (rlq >= 0 && clk[rlq * P + pr[s]] >= s + 1) return; // s happens-before q
    addSourceBacktrack(rm, s, rq, rlq, ri);
  };
  const scan = (x: number, kind: number): void => {
    if (kind === LOCAL || x < 0 || x >= objCap) return;
    const w = lastW[x];
    if (w >= 0) consider(w);
    if (kind === WRITE) {
      ipiWrite(x);
      for (let r = lastR[x]; r >= 0; r = recPrev[r]) consider(recStep[r]);
    }
  };

  /** At state i: every direct race between an earlier step and a context's next step gets a backtrack point. */
  const raceAnalysis = (m: Machine, i: number): void => {
    rm = m;
    ri = i;
    for (let q = 0; q < P; q++) {
      if (!hasNext(m, q)) continue;
      const c = m.ctxs[q];
      rq = q;
      rlq = lastStepOf[q];
      // Taking an interrupt is never co-enabled with the step that made its work runnable.
      rEnabler = c.irq && c.gen === null ? m.irqReadyStep(c.cpu) : -1;
      const ls = lastCpuStep[c.cpu];
      if (ls >= 0) consider(ls);
      scan(c.obj, c.kind);
      if (c.obj2 >= 0) scan(c.obj2, c.kind2);
      const ex = c.extra;
      if (ex !== null) for (let a = 0; a < ex.length; a += 2) scan(ex[a], ex[a + 1]);
      if (ipiReads && !c.irq) scan(m.ipiqObj[c.cpu], READ); // as in conflictsWithNext
    }
    rm = probe; // hold no finished machine
  };

  const conflicts = (x: number, kx: number, y: number, ky: number): boolean =>
    x === y && x >= 0 && kx !== LOCAL && ky !== LOCAL && (kx === WRITE || ky === WRITE);

  /** Whether q's next step is independent of the step just executed (by p on `cpu`). */
  const independent = (m: Machine, q: number, cpu: number): boolean => {
    const c = m.ctxs[q];
    if (c.cpu === cpu) return false;
    const ex: number[] = [m.eObj, m.eKind];
    if (m.eObj2 >= 0) ex.push(m.eObj2, m.eKind2);
    if (m.eExtra !== null) ex.push(...m.eExtra);
    for (let a = 0; a < m.xn; a++) ex.push(m.xObj[a], m.xKind[a]);
    if (!m.cur.irq) ex.push(m.ipiqObj[cpu], READ); // as in conflictsWithNext
    const pend: number[] = [c.obj, c.kind];
    if (c.obj2 >= 0) pend.push(c.obj2, c.kind2);
    if (c.extra !== null) pend.push(...c.extra);
    if (!c.irq) pend.push(m.ipiqObj[c.cpu], READ); // as in conflictsWithNext
    for (let a = 0; a < ex.length; a += 2) {
      for (let b = 0; b < pend.length; b += 2) if (conflicts(ex[a], ex[a + 1], pend[b], pend[b + 1])) return false;
    }
    return true;
  };

  /** Knuth's measure of the tree behind the current path: Σ per decision (alternatives taken before / width). */
  const fraction = (): number => {
    let f = 0;
    let w = 1;
    for (let t = 0; t < tType.length; t++) {
      let width: number;
      let before: number;
      if (tType[t] === CHOICE) {
        width = tN[t];
        before = tVal[t];
      } else {
        // the alternatives that will run: backtracked, awake, and within the preemption bound
        const i = tStep[t];
        let alive = bt[i] & en[i] & (useSleep ? ~sl[i] : -1);
        if (bound !== Infinity && i > 0 && pc[i - 1] + 1 > bound && (en[i] & (1 << pr[i - 1])) !== 0)
          alive &= 1 << pr[i - 1]; // a switch here would preempt one too many
        alive |= 1 << pr[i];
        width = popcount(alive);
        before = popcount(dn[i] & alive) - 1;
      }
      w *= width;
      f += before / w;
    }
    return f;
  };
  // ---- the state cache (stateful DPOR; only unbounded, with reduction, when o.stateCache) -------------
  // A state is the walked world (state_hash.ts: runtime structures and m.ext) plus each context's
  // continuation, which stands as the hash of its history: per step, its site, what it could read (the own
  // hashes of objects earlier steps changed under an object it announces) and its choose() values. A task that
  // returned and an idle interrupt context have no continuation. A state explored before with a sleep set
  // that is a subset of the current one, at no greater depth, is not explored again (Godefroid); its
  // subtree's accesses (stored with it) are raced against the current prefix (Yang, Chen, Gopalakrishnan &
  // Kirby, SPIN 2008), conservatively: every process that might start the reversal is added.
  const sc = o.stateCache !== undefined && o.reduce && bound === Infinity;
  const table = sc ? new StateTable(o.stateCache!.maxMemoryMb * 2 ** 20, o.stateCache!.mode) : null;
  const hasher = new StateHasher();
  // Each context's history: the running hash of its innermost call, over the frames of the calls it is in
  // (machines come from the session's traced kernel: a call that returns folds into its caller as what it
  // returned, and the callee's own observations are forgotten — its effects are in the world or in that).
  const hist1 = new Int32Array(P);
  const hist2 = new Int32Array(P);
  const frames: (Frame | null)[] = new Array<Frame | null>(P).fill(null);
  // Per state on the path: the hasher's undo-log mark and the histories there (a replayed prefix is not walked).
  const markAt = new Int32Array(sc ? cap + 1 : 0);
  const histAt1 = new Int32Array(sc ? (cap + 1) * P : 0);
  const histAt2 = new Int32Array(sc ? (cap + 1) * P : 0);
  const framesAt: (Frame | null)[] = new Array<Frame | null>(sc ? (cap + 1) * P : 0).fill(null);
  const saveAt = (d: number): void => {
    markAt[d] = hasher.mark;
    histAt1.set(hist1, d * P);
    histAt2.set(hist2, d * P);
    for (let q = 0; q < P; q++) framesAt[d * P + q] = frames[q];
  };
  /** At state d of a fresh machine that replayed the prefix: the cells and histories as they were there. */
  const restoreAt = (mm: Machine, d: number): void => {
    hasher.rollback(markAt[d]);
    hasher.walk(roots(mm), mm.ctxs);
    hist1.set(histAt1.subarray(d * P, d * P + P));
    hist2.set(histAt2.subarray(d * P, d * P + P));
    for (let q = 0; q < P; q++) frames[q] = framesAt[d * P + q];
  };
  // The step under way: what it could read, not yet in its context's history (a call or return inside the
  // step puts it there first, in the frame the step began in); histories move only past the replayed prefix.
  let pending = -1;
  let tracking = false;
  const flush = (): void => {
    const p = pending;
    if (p < 0) return;
    pending = -1;
    if (o.unsound === "history") return;
    hist1[p] = mix(hist1[p] ^ 0x51, obs1);
    hist2[p] = mix2(hist2[p] ^ 0x51, obs2);
  };
  const hook: CallHook = {
    enter(fn: number): void {
      if (!tracking) return;
      flush();
      const p = m.cur.proc;
      frames[p] = { h1: hist1[p], h2: hist2[p], up: frames[p] };
      hist1[p] = mix(hist1[p] ^ 0xca11, fn);
      hist2[p] = mix2(hist2[p] ^ 0xca11, fn);
    },
    leave(fn: number, result: unknown, args: readonly unknown[]): void {
      if (!tracking) return;
      flush();
      const p = m.cur.proc;
      const f = frames[p];
      if (f === null) return;
      frames[p] = f.up;
      const v1 = hasher.valueHash(o.unsound === "result" ? undefined : result, o.unsound === "args" ? [] : args);
      hist1[p] = mix(mix(f.h1 ^ 0x7e7, fn), v1);
      hist2[p] = mix2(mix2(f.h2 ^ 0x7e7, fn), hasher.v2);
    },
  };
  /** A choose() value, into the history of the context making it. */
  const noteChoice = (v: number): void => {
    if (!tracking) return;
    flush();
    const p = m.cur.proc;
    hist1[p] = mix(hist1[p] ^ 0xc4, v);
    hist2[p] = mix2(hist2[p] ^ 0xc4, v);
  };
  let obs1 = 0; // what the step about to run could read, and its choose() values
  let obs2 = 0;
  const key1 = new Int32Array(sc ? cap + 1 : 0);
  const key2 = new Int32Array(sc ? cap + 1 : 0);
  const keyed = new Uint8Array(sc ? cap + 1 : 0);
  const hit = new Uint8Array(sc ? cap + 1 : 0);
  // Per state on the path, the accesses its subtree announced or ran: bits per (kind, process, object) in
  // W words each, then the processes present and the processes that touched objects beyond the row's width.
  const W = sc ? Math.max(4, Math.ceil((probe.objectCount * 2) / 32)) : 0;
  const stride = 2 * P * W + 2;
  const PROCS = stride - 1;
  const WILD = stride - 2;
  const rows = new Int32Array(sc ? (cap + 1) * stride : 0);
  const roots = (mm: Machine): unknown[] => [mm.ext, mm.rcu, mm.irqs];
  const idsBuf: number[] = [];
  /** Objects a step of context c announces (or ran: `executed`), and its CPU as a pseudo-object (-1 - cpu). */
  const stepIds = (mm: Machine, cpu: number, executed: boolean): number[] => {
    const ids = idsBuf;
    ids.length = 0;
    ids.push(-1 - cpu);
    if (executed) {
      if (mm.eObj >= 0 && mm.eKind !== LOCAL) ids.push(mm.eObj);
      if (mm.eObj2 >= 0 && mm.eKind2 !== LOCAL) ids.push(mm.eObj2);
      const ex = mm.eExtra;
      if (ex !== null) for (let a = 0; a < ex.length; a += 2) ids.push(ex[a]);
      for (let a = 0; a < mm.xn; a++) ids.push(mm.xObj[a]);
    }
    return ids;
  };
  /** Before context p's step: what it could read (its announced objects, its CPU). */
  const noteObservation = (mm: Machine, p: number): void => {
    const c = mm.ctxs[p];
    const ids = stepIds(mm, c.cpu, false);
    if (c.obj >= 0 && c.kind !== LOCAL) ids.push(c.obj);
    if (c.obj2 >= 0 && c.kind2 !== LOCAL) ids.push(c.obj2);
    const ex = c.extra;
    if (ex !== null) for (let a = 0; a < ex.length; a += 2) ids.push(ex[a]);
    if (!c.irq) ids.push(mm.ipiqObj[c.cpu]);
    if (c.irq && c.gen === null) ids.push(mm.ipiqObj[c.cpu], mm.rcuqObj[c.cpu]);
    const site = strHash(c.ev.fn + "\u0000" + c.ev.what);
    obs1 = mix(hasher.observe(ids), site);
    obs2 = mix2(hasher.o2, site);
    pending = p;
  };
  /** After step i of p: walk the world, attribute what changed, extend p's history, key state i + 1. */
  const hashStep = (mm: Machine, i: number, p: number): void => {
    hasher.walk(roots(mm), mm.ctxs);
    const c = mm.ctxs[p];
    const ids = stepIds(mm, c.cpu, true);
    if (!c.irq) ids.push(mm.ipiqObj[c.cpu]);
    hasher.attribute(ids);
    flush();
    if (c.irq ? c.gen === null : c.done) {
      hist1[p] = 0;
      hist2[p] = 0;
      frames[p] = null;
    }
    keyState(mm, i + 1);
  };
  const keyState = (mm: Machine, d: number): void => {
    let k1 = hasher.h1;
    let k2 = hasher.h2;
    for (let q = 0; q < P; q++) {
      k1 = mix(k1, hist1[q] ^ q);
      k2 = mix2(k2, hist2[q] ^ q);
    }
    key1[d] = k1;
    key2[d] = k2;
    keyed[d] = mm.violation ? 0 : 1; // a violating state is a leaf whose message may name its history
    hit[d] = 0;
  };
  const note = (d: number, q: number, x: number, kind: number): void => {
    if (kind === LOCAL || x < 0) return;
    const base = d * stride;
    rows[base + PROCS] |= 1 << q;
    if (x >= W * 32) {
      rows[base + WILD] |= 1 << q;
      return;
    }
    rows[base + ((kind === WRITE ? P : 0) + q) * W + (x >> 5)] |= 1 << (x & 31);
  };
  /** Row d gets every context's announced next step at state d (what race analysis there looks at). */
  const noteAnnounced = (mm: Machine, d: number): void => {
    for (let q = 0; q < P; q++) {
      if (!hasNext(mm, q)) continue;
      const c = mm.ctxs[q];
      rows[d * stride + PROCS] |= 1 << q;
      note(d, q, c.obj, c.kind);
      if (c.obj2 >= 0) note(d, q, c.obj2, c.kind2);
      const ex = c.extra;
      if (ex !== null) for (let a = 0; a < ex.length; a += 2) note(d, q, ex[a], ex[a + 1]);
      if (!c.irq) note(d, q, mm.ipiqObj[c.cpu], READ);
      else if (c.gen === null) {
        note(d, q, mm.ipiqObj[c.cpu], WRITE);
        note(d, q, mm.rcuqObj[c.cpu], WRITE);
      }
    }
  };
  /** Row i gets step i's accesses (as updateClock recorded them). */
  const noteExecuted = (i: number, p: number): void => {
    rows[i * stride + PROCS] |= 1 << p;
    for (let a = accStart[i]; a < accStart[i + 1]; a++) note(i, p, accObj[a], accKind[a]);
  };
  /**
   * State i is cut because the cache explored it: every step s of the prefix that an access of that subtree
   * by another process q races with (not ordered before q's last step, touching an object s touches with
   * one of them writing, or on s's CPU) gets, as backtrack points, every process that may start the reversing
   * sequence: q's subtree processes and the prefix steps after s that do not depend on s.
   */
  const summaryRaces = (mm: Machine, i: number, slot: number): void => {
    const { pool, off, len } = table!.summary(slot);
    const d = i * stride;
    let procs: number;
    let wild: number;
    if (off < 0) {
      procs = (1 << P) - 1;
      wild = procs;
    } else {
      for (let a = 0; a < len; a += 2) rows[d + pool[off + a]] |= pool[off + a + 1];
      procs = rows[d + PROCS];
      wild = rows[d + WILD];
    }
    if (o.unsound === "summary") return;
    for (let s = 0; s < i; s++) {
      const ps = pr[s];
      const cpuS = mm.ctxs[ps].cpu;
      let racing = 0;
      for (let q = 0; q < P; q++) {
        if (q === ps || (procs & (1 << q)) === 0) continue;
        const lq = lastStepOf[q];
        if (lq >= 0 && clk[lq * P + ps] >= s + 1) continue; // s happens-before every later step of q
        let r = (wild & (1 << q)) !== 0 || mm.ctxs[q].cpu === cpuS;
        for (let a = accStart[s]; !r && a < accStart[s + 1]; a++) {
          const x = accObj[a];
          if (x >= W * 32) {
            r = true;
            break;
          }
          const bit = 1 << (x & 31);
          const wq = rows[d + (P + q) * W + (x >> 5)] & bit;
          const rq = rows[d + q * W + (x >> 5)] & bit;
          r = wq !== 0 || (accKind[a] === WRITE && rq !== 0);
        }
        if (r) racing |= 1 << q;
      }
      if (racing === 0) continue;
      let init = procs;
      for (let x = s + 1; x < i; x++) if (!hb(s, x)) init |= 1 << pr[x];
      bt[s] |= init & en[s] || en[s];
    }
  };
  /** States deeper than the new branch point are explored to the end: fold each row up, store each state. */
  const completeStates = (last: number, b: number): void => {
    for (let d = last; d > b; d--) {
      const base = d * stride;
      if (d > 0) for (let w = 0; w < stride; w++) rows[base - stride + w] |= rows[base + w];
      if (keyed[d] === 1 && hit[d] === 0) table!.store(key1[d], key2[d], d, useSleep ? sl[d] : 0, rows, base, stride);
      rows.fill(0, base, base + stride);
      keyed[d] = 0;
    }
  };

  const state: DfsState = {
    executions: 0,
    sleepBlocked: 0,
    pruned: 0,
    maxSeen: 0,
    exhausted: false,
    violation: null,
    prefixes: 0,
    skipped: 0,
    prefix: -1,
    fraction,
    restart: false,
    cacheHits: 0,
    cache: table,
  };
  // A stolen root: its decisions are followed, never backtracked (the victim owns their alternatives).
  const rootLen = o.root?.decisions.length ?? 0;
  const rootType = (o.root?.decisions ?? []).map((d) => (d.choice ? CHOICE : SCHED));
  const rootVal = (o.root?.decisions ?? []).map((d) => d.value);
  const decisionsNow = (): Decision[] => tType.map((t, x) => ({ choice: t === CHOICE, value: tVal[x] }));
  let m = probe;
  let tp = 0;
  let leaf: "end" | "blocked" | "pruned" | "skipped" | "cached" = "end";

  /** The deepest decision with an unexplored alternative becomes the next prefix; false if there is none. */
  const backtrack = (): boolean => {
    for (let t = tType.length - 1; t >= rootLen; t--) {
      if (tType[t] === CHOICE) {
        if (tVal[t] + 1 < tN[t]) {
          tVal[t]++;
          tType.length = tVal.length = tN.length = tStep.length = t + 1;
          branchStep = tStep[t];
          return true;
        }
        continue;
      }
      const i = tStep[t];
      dn[i] |= given[i]; // the current alternative is done: what was handed out counts as explored before the next
      given[i] = 0;
      let cand = bt[i] & ~dn[i] & en[i] & (useSleep ? ~sl[i] : -1);
      while (cand !== 0) {
        const q = lowestBit(cand);
        cand &= ~(1 << q);
        dn[i] |= 1 << q;
        const last = i > 0 ? pr[i - 1] : -1;
        const pre = last >= 0 && q !== last && (en[i] & (1 << last)) !== 0 ? 1 : 0;
        const before = i > 0 ? pc[i - 1] : 0;
        if (before + pre > bound) {
          pruned++;
          continue;
        }
        tVal[t] = q;
        pr[i] = q;
        pc[i] = before + pre;
        runStart[i] = i > 0 && pr[i - 1] === q ? runStart[i - 1] : i;
        tType.length = tVal.length = tN.length = tStep.length = t + 1;
        branchStep = i;
        return true;
      }
    }
    return false;
  };

  /** A root's step at state i: taken as the victim took it (it was within the bound there, and awake). */
  const forced = (i: number, enabled: number): number => {
    if (rootType[tp] !== SCHED || (enabled & (1 << rootVal[tp])) === 0)
      throw new Error("internal: a stolen root does not replay");
    const p = rootVal[tp];
    const last = i > 0 ? pr[i - 1] : -1;
    pc[i] = (i > 0 ? pc[i - 1] : 0) + (last >= 0 && p !== last && (enabled & (1 << last)) !== 0 ? 1 : 0);
    pr[i] = p;
    runStart[i] = i > 0 && pr[i - 1] === p ? runStart[i - 1] : i;
    bt[i] = 1 << p;
    dn[i] = 1 << p;
    given[i] = 0;
    if (tp === rootLen - 1) {
      // the stolen state: the victim's sets, so the subtree sleeps what the victim explores itself
      if (useSleep) sl[i] = o.root!.sleep;
      dn[i] |= o.root!.done;
    } else if (useSleep) sl[i] = 0;
    tType.push(SCHED);
    tVal.push(p);
    tN.push(0);
    tStep.push(i);
    tp++;
    return p;
  };

  /** An alternative at state i a switch to q would take within the bound (as backtrack() checks). */
  const withinBound = (i: number, q: number): boolean => {
    const last = i > 0 ? pr[i - 1] : -1;
    const pre = last >= 0 && q !== last && (en[i] & (1 << last)) !== 0 ? 1 : 0;
    return (i > 0 ? pc[i - 1] : 0) + pre <= bound;
  };

  const donate = (): DfsRoot | null => {
    if (sc || split !== undefined) return null; // a cache's or a shard's states are not handed out
    for (let t = rootLen; t < tType.length; t++) {
      if (tType[t] !== SCHED) continue;
      const i = tStep[t];
      let cand = en[i] & ~dn[i] & ~given[i] & (useSleep ? ~sl[i] : -1);
      let q = -1;
      while (cand !== 0 && q < 0) {
        const c = lowestBit(cand);
        cand &= ~(1 << c);
        if (withinBound(i, c)) q = c;
      }
      if (q < 0) continue;
      for (let u = rootLen; u <= t; u++) if (tType[u] === SCHED) bt[tStep[u]] = en[tStep[u]];
      const root: DfsRoot = {
        decisions: tType.slice(0, t + 1).map((ty, x) => ({ choice: ty === CHOICE, value: x === t ? q : tVal[x] })),
        sleep: useSleep ? sl[i] : 0,
        done: dn[i] | given[i], // explored before the stolen one: asleep in its subtree where independent
      };
      if (o.unsound === "given-done") dn[i] |= 1 << q;
      else given[i] |= 1 << q;
      return root;
    }
    return null;
  };

  return {
    state,
    donate,
    traced: sc,
    beginExecution(fresh: Machine): number {
      m = fresh;
      if (o.reduce) {
        if (m.objectCount > objCap) growObj(m.objectCount);
        lastW.fill(-1);
        lastR.fill(-1);
        nrec = 0;
        nacc = 0; // every step's accesses are recorded again, prefix included
        lastStepOf.fill(-1);
        lastCpuStep.fill(-1);
        if (branchStep < 0) raceAnalysis(m, 0);
      }
      if (sc) {
        hasher.reset();
        m.callHook = hook;
        pending = -1;
        tracking = branchStep < 0;
        if (branchStep < 0) {
          hasher.rollback(0);
          hasher.walk(roots(m), m.ctxs);
          hist1.fill(0);
          hist2.fill(0);
          frames.fill(null);
          saveAt(0);
          keyState(m, 0);
          noteAnnounced(m, 0);
        }
      }
      tp = 0;
      leaf = "end";
      if (split !== undefined && branchStep < splitAt) {
        owned = 0; // a new prefix: numbered where it reaches the split depth
        splitAt = -1;
      }
      return branchStep + 1;
    },

    pick(_m: Machine, enabled: number): number {
      const i = m.steps;
      if (i <= branchStep) {
        // replaying the prefix
        if (tType[tp] !== SCHED) throw new Error("internal: replay diverged (schedule expected)");
        if (sc && i === branchStep) {
          restoreAt(m, i);
          tracking = true;
          noteObservation(m, tVal[tp]);
        }
        return tVal[tp++];
      }
      if (split !== undefined && splitAt < 0 && i >= ((i > 0 ? pc[i - 1] : 0) === 0 ? sd0 : sd)) {
        splitAt = i;
        state.prefix = state.prefixes++;
        owned = split!.keep(state.prefix) ? 1 : 2;
        if (owned === 2) {
          leaf = "skipped";
          return -1;
        }
      }
      en[i] = enabled;
      if (!useSleep) sl[i] = 0;
      if (tp < rootLen) return forced(i, enabled);
      if (sc && keyed[i] === 1) {
        const slot = table!.lookup(key1[i], key2[i], i, o.unsound === "sleep-subset" ? -1 : sl[i]);
        if (slot >= 0) {
          summaryRaces(m, i, slot);
          hit[i] = 1;
          leaf = "cached";
          return -1;
        }
      }
      const cand = enabled & ~sl[i];
      if (cand === 0) {
        leaf = "blocked";
        return -1;
      }
      const last = i > 0 ? pr[i - 1] : -1;
      const p = last >= 0 && (cand & (1 << last)) !== 0 ? last : lowestBit(cand);
      const pre = last >= 0 && p !== last && (enabled & (1 << last)) !== 0 ? 1 : 0;
      const before = i > 0 ? pc[i - 1] : 0;
      if (before + pre > bound) {
        pruned++;
        leaf = "pruned";
        return -1;
      }
      pc[i] = before + pre;
      pr[i] = p;
      runStart[i] = i > 0 && pr[i - 1] === p ? runStart[i - 1] : i;
      bt[i] = o.reduce && (split === undefined || splitAt >= 0) ? 1 << p : enabled;
      dn[i] = 1 << p;
      given[i] = 0;
      tType.push(SCHED);
      tVal.push(p);
      tN.push(0);
      tStep.push(i);
      tp++;
      if (sc) noteObservation(m, p);
      return p;
    },

    choose(n: number): number {
      if (tp < tType.length) {
        if (tType[tp] !== CHOICE) throw new Error("internal: replay diverged (choice expected)");
        if (sc) noteChoice(tVal[tp] + 1);
        return tVal[tp++];
      }
      const v = tp < rootLen ? rootVal[tp] : 0; // a stolen root's value, never backtracked
      if (tp < rootLen && rootType[tp] !== CHOICE) throw new Error("internal: a stolen root does not replay");
      if (sc) noteChoice(v + 1);
      tType.push(CHOICE);
      tVal.push(v);
      tN.push(n);
      tStep.push(m.steps - 1);
      tp++;
      return v;
    },

    afterStep(_m: Machine, p: number): void {
      const i = m.steps - 1;
      if (o.reduce) updateClock(m, i, p);
      if (useSleep && i >= branchStep) {
        let s = sl[i] | (dn[i] & ~(1 << p));
        if (s !== 0) {
          const cpu = m.ctxs[p].cpu;
          for (let q = 0; q < P; q++) if ((s & (1 << q)) !== 0 && !independent(m, q, cpu)) s &= ~(1 << q);
        }
        sl[i + 1] = s;
      }
      // The next state's races, before anything decides whether it is the last (as for every new state).
      if (o.reduce && i + 1 > branchStep && !m.violation) raceAnalysis(m, i + 1);
      if (sc && i >= branchStep) {
        hashStep(m, i, p);
        saveAt(i + 1);
        noteExecuted(i, p);
        if (i + 1 > branchStep && !m.violation) noteAnnounced(m, i + 1);
      }
    },

    endExecution(_m: Machine, end: ExecEnd): void {
      if (state.restart) return;
      const steps = end.steps;
      if (steps > state.maxSeen) state.maxSeen = steps;
      if (split !== undefined && owned === 0 && !end.abandoned) {
        // ended above the split depth: this whole execution is a prefix
        splitAt = steps;
        state.prefix = state.prefixes++;
        owned = split.keep(state.prefix) ? 1 : 2;
      }
      if (owned === 2) state.skipped++;
      else if (!end.abandoned) {
        state.executions++;
        const lastPc = steps > 0 ? pc[steps - 1] : 0;
        if (o.onExecution) {
          const obs = !m.violation && session.instance.observe ? session.instance.observe() : null;
          o.onExecution({
            violation: m.violation,
            observation: obs,
            decisions: decisionsNow,
            steps,
            preemptions: lastPc,
          });
        }
        if (m.violation && !state.violation && (o.target === undefined || m.violation.invariant === o.target)) {
          state.violation = { info: m.violation, decisions: decisionsNow(), steps, preemptions: lastPc };
        }
        if (o.onProgress && state.executions % 256 === 0) o.onProgress(state.executions, fraction());
      } else if (leaf === "blocked") state.sleepBlocked++;
      else if (leaf === "cached") state.cacheHits++;
      m = probe; // let the finished machine die young (a scavenge copies every live one)
      // A found violation that stops the search leaves the stack as it is.
      if (o.stopOnViolation && state.violation) return;
      if (!backtrack()) {
        state.exhausted = true;
        branchStep = -1;
      }
      if (sc) completeStates(steps, branchStep);
      state.pruned = pruned;
    },
  };
}

/** Search `session` exhaustively (within the bounds) with DFS+DPOR. */
/**
 * One DFS search, as every driver runs it (dfs(), a shard's part, a parallel worker's root): to its end, its
 * first violation (with stopOnViolation) or until `more` says stop; without the tasks' IPI-queue reads until
 * an IPI queue is written, then from the start with them (`restarted` first: drop what the first run reported).
 * `wrap` puts an observer around each strategy the search runs.
 */
export function dfsRun(
  session: Session,
  o: DfsOptions,
  more: (st: DfsState, s: DfsSearcher) => boolean,
  restarted?: () => void,
  ipiReads = false,
  wrap: (s: DfsSearcher) => Strategy = (s) => s,
): DfsSearcher {
  let s = dfsStrategy(session, o, ipiReads);
  let w = wrap(s);
  for (;;) {
    runExecution(session, w, { maxSteps: o.maxSteps, record: false, observe: false });
    if (s.state.restart) {
      restarted?.();
      s = dfsStrategy(session, o, true);
      w = wrap(s);
      continue;
    }
    if ((o.stopOnViolation && s.state.violation) || s.state.exhausted || !more(s.state, s)) return s;
  }
}

export function dfs(session: Session, o: DfsOptions): DfsResult {
  const s = dfsRun(
    session,
    o,
    (st) => st.executions + st.sleepBlocked + st.cacheHits < o.maxExecutions && performance.now() <= o.deadline,
  );
  const st = s.state;
  const result = (exhaustive: boolean): DfsResult => ({
    executions: st.executions,
    sleepBlocked: st.sleepBlocked,
    pruned: st.pruned,
    exhaustive,
    violation: st.violation,
    maxSteps: st.maxSeen,
    cacheHits: st.cacheHits,
    cache: st.cache?.stats() ?? null,
  });
  return result(st.exhausted && !(o.stopOnViolation && st.violation !== null));
}

/** Preemption bounds searched, each to its end, before the requested one (iterative context bounding). */
const FIRST_BOUNDS = 2;

/** The bounds the default DFS searches in turn for `preemptions` (every driver: serial, shards, workers). */
export function boundsOf(preemptions: number): number[] {
  const bounds: number[] = [];
  if (preemptions !== Infinity) for (let b = 0; b < FIRST_BOUNDS && b < preemptions; b++) bounds.push(b);
  bounds.push(preemptions);
  return bounds;
}

/**
 * `--strategy dfs`: the bounded space, exhaustively, with DPOR. Under a finite bound, bounds 0 and 1 are searched
 * first, each to its end (Musuvathi & Qadeer's iterative context bounding): most races need one preemption, and
 * those spaces are small. Only the search at the requested bound can claim the space exhausted; a violation
 * found below it is a real one. Executions count every search run (stats.lowerBoundExecutions those below).
 * Unbounded (`--preemptions inf`) is one search, as asked.
 */
export const dfsSearch: SearchStrategy = {
  name: "dfs",
  summary: "exhaustive DFS with partial-order reduction (DPOR, sleep sets) under a preemption bound",
  search(session: Session, o: SearchOptions): SearchOutcome {
    const maxExecutions = o.maxExecutions ?? Infinity;
    const bounds = boundsOf(o.preemptions);
    let executions = 0;
    let used = 0; // executions and sleep-blocked ones, as dfs() counts them against maxExecutions
    let longest = 0;
    let last: DfsResult | null = null;
    let exhaustive = false; // only the search at the requested bound can exhaust the space
    let lower = 0;
    for (let i = 0; i < bounds.length && used < maxExecutions; i++) {
      const before = executions;
      const r = dfs(session, {
        reduce: o.reduce,
        preemptionBound: bounds[i],
        maxSteps: o.maxSteps,
        maxExecutions: maxExecutions - used,
        deadline: o.deadline,
        stopOnViolation: true,
        ...(o.stateCacheMb !== undefined
          ? { stateCache: { maxMemoryMb: o.stateCacheMb, mode: o.stateCacheMode } }
          : {}),
        // the estimate is of the search at the requested bound: its fraction, rescaled to count the ones before it
        onProgress: (n, f) =>
          i === bounds.length - 1 && f !== undefined && f > 0
            ? o.onProgress(before + n, (before + n) / (before + n / f))
            : o.onProgress(before + n),
      });
      executions += r.executions;
      if (i < bounds.length - 1) lower += r.executions;
      used += r.executions + r.sleepBlocked;
      longest = Math.max(longest, r.maxSteps);
      last = r;
      if (r.violation || !r.exhaustive) break;
      exhaustive = i === bounds.length - 1;
    }
    return {
      found: last?.violation ?? null,
      executions,
      exhaustive,
      stats: {
        sleepBlocked: last?.sleepBlocked ?? 0,
        prunedByBound: last?.pruned ?? 0,
        longestExecution: longest,
        ...(bounds.length > 1 ? { lowerBoundExecutions: lower } : {}),
        ...(last?.cache
          ? {
              stateCache: {
                mode: last.cache.mode,
                hits: last.cacheHits,
                states: last.cache.states,
                bytes: last.cache.bytes,
                missProbability: last.cache.missProbability,
              },
            }
          : {}),
      },
      bounds: {
        preemptions: o.preemptions,
        depth: null,
        maxExecutions: maxExecutions === Infinity ? null : maxExecutions,
        seed: null,
      },
    };
  },
};
