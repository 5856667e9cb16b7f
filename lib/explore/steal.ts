// Work stealing for the parallel DFS (parallel.ts): worker 0 starts on the whole tree; a worker without work
// says so (an idle count in shared memory), and a busy one hands it the shallowest alternative not yet explored
// on its DFS path (dfs.ts donate(): the decisions to it, with the sleep and done sets there), through a small
// stack of roots in a SharedArrayBuffer. The donor's states above the stolen one then branch fully, so a
// backtrack point the thief would add above its root is already there: no backtrack information crosses threads
// and none is lost (the argument for a shard's fully branched prefix tree). Each search of the default DFS
// (bounds 0, 1, then N) is one round; a round ends when every worker is idle and no root is left.

import type { Session } from "./scenario";
import { dfsRun, boundsOf, DfsLeaf, DfsRoot, DfsSearcher } from "./strategies/dfs";
import type { Decision } from "./schedule";
import { TerminalTracker } from "./terminal";
import { CoverageCounter } from "./coverage";
import { emptyResult, observed, keepViolation, PartOptions, PartResult } from "./shard";

/** Header words of the shared root stack. */
const LOCK = 0;
const COUNT = 1; // roots on the stack
const IDLE = 2; // workers with no root (a worker not started yet counts)
const DONE = 3; // rounds finished
const SIGNAL = 4; // bumped at every push and round end (what idle workers wait on)
const STOP = 5; // 1: a violation stops the search; 2: interrupted, deadline or budget
const SLOTS = 6;
const SIZE = 7;
const HEAD = 8;

/** The shared root stack for `jobs` workers and executions of up to `maxSteps` steps. */
export function stealBuffer(jobs: number, maxSteps: number): SharedArrayBuffer {
  const slots = 2 * jobs;
  const size = 3 + 2 * (maxSteps + 8); // [decisions, sleep, done, then a word per decision], choices included
  const sab = new SharedArrayBuffer(4 * (HEAD + slots * size));
  const q = new Int32Array(sab);
  q[IDLE] = jobs - 1;
  q[SLOTS] = slots;
  q[SIZE] = size;
  return sab;
}

/** Stop every worker (1: a violation; 2: interrupted, deadline or execution budget). */
export function stopStealing(q: Int32Array, why: 1 | 2): void {
  Atomics.compareExchange(q, STOP, 0, why);
  Atomics.add(q, SIGNAL, 1);
  Atomics.notify(q, SIGNAL);
}

/** The rounds finished and why the search stopped (0: it did not), for the verdict. */
export function stealOutcome(q: Int32Array): { rounds: number; stopped: number } {
  return { rounds: Atomics.load(q, DONE), stopped: Atomics.load(q, STOP) };
}

function lock(q: Int32Array): void {
  while (Atomics.compareExchange(q, LOCK, 0, 1) !== 0) Atomics.wait(q, LOCK, 1, 1);
}

function unlock(q: Int32Array): void {
  Atomics.store(q, LOCK, 0);
  Atomics.notify(q, LOCK, 1);
}

/** Put `r` on the shared stack; false if it is full or `r` is longer than a slot. */
function push(q: Int32Array, r: DfsRoot): boolean {
  if (3 + r.decisions.length > q[SIZE]) return false;
  lock(q);
  const n = q[COUNT];
  if (n >= q[SLOTS]) {
    unlock(q);
    return false;
  }
  const at = HEAD + n * q[SIZE];
  q[at] = r.decisions.length;
  q[at + 1] = r.sleep;
  q[at + 2] = r.done;
  for (let x = 0; x < r.decisions.length; x++)
    q[at + 3 + x] = r.decisions[x].value * 2 + (r.decisions[x].choice ? 1 : 0);
  q[COUNT] = n + 1;
  Atomics.add(q, SIGNAL, 1);
  unlock(q);
  Atomics.notify(q, SIGNAL, 1);
  return true;
}

function read(q: Int32Array, slot: number): DfsRoot {
  const at = HEAD + slot * q[SIZE];
  const decisions: Decision[] = [];
  for (let x = 0; x < q[at]; x++) decisions.push({ choice: (q[at + 3 + x] & 1) === 1, value: q[at + 3 + x] >> 1 });
  return { decisions, sleep: q[at + 1], done: q[at + 2] };
}

export interface StealHooks {
  /** This worker (0: the calling thread, which starts each round on the whole tree) and how many there are. */
  me: number;
  jobs: number;
  queue: Int32Array;
  /** Executions so far by every worker (against maxExecutions); this worker's count is published by `note`. */
  total: () => number;
  note: (executions: number) => void;
  interrupted?: () => boolean;
}

/** This worker's part of a parallel DFS with work stealing. */
export function stealPart(session: Session, o: PartOptions, h: StealHooks): PartResult {
  const t0 = performance.now();
  const q = h.queue;
  const r = emptyResult();
  const tracker = o.terminal ? new TerminalTracker() : null;
  const cov = o.coverage ? new CoverageCounter() : null;
  const stop = o.stopOnViolation !== false;
  const bounds = stop ? boundsOf(o.preemptions) : [o.preemptions];
  const maxExecutions = o.maxExecutions ?? Infinity;
  const local: DfsRoot[] = []; // roots given away that did not fit the shared stack: searched here
  let idle = h.me !== 0; // counted in IDLE
  let reads = false; // the IPI-queue reads, once a root of this worker needed them (dfs.ts dfsRun)
  let lastPoll = performance.now();

  /** A root to search in round `round`, or null when the round (or the search) is over. */
  const take = (round: number): DfsRoot | null => {
    if (local.length > 0) return local.pop()!;
    for (;;) {
      lock(q);
      if (q[STOP] !== 0 || q[DONE] > round) {
        unlock(q);
        return null;
      }
      if (q[COUNT] > 0) {
        const root = read(q, --q[COUNT]);
        if (idle) q[IDLE]--;
        idle = false;
        unlock(q);
        return root;
      }
      if (!idle) q[IDLE]++;
      idle = true;
      if (q[IDLE] === h.jobs) {
        // nobody has work and none is left: the round is over; the next starts with worker 0 busy
        q[DONE] = round + 1;
        q[IDLE] = h.jobs - 1;
        Atomics.add(q, SIGNAL, 1);
        unlock(q);
        Atomics.notify(q, SIGNAL);
        return null;
      }
      const sig = Atomics.load(q, SIGNAL);
      unlock(q);
      Atomics.wait(q, SIGNAL, sig, 50);
    }
  };

  const searchRoot = (root: DfsRoot | null, bound: number): DfsSearcher => {
    const mark = { executions: r.executions, violations: r.violations.length, counts: { ...r.violationCounts } };
    const onExecution = (e: DfsLeaf): void => {
      r.executions++;
      if (e.violation) {
        const info = e.violation;
        keepViolation(r, info.invariant, () => ({
          info,
          decisions: e.decisions(),
          steps: e.steps,
          preemptions: e.preemptions,
          key: [e.preemptions, e.steps], // no schedule-independent order here: the fewest preemptions first
        }));
        if (stop) stopStealing(q, 1);
      } else if (tracker) r.terminalStates.add(tracker.stateOf(e.observation));
    };
    return dfsRun(
      session,
      {
        reduce: o.reduce,
        preemptionBound: bound,
        maxSteps: o.maxSteps,
        maxExecutions: Infinity,
        deadline: o.deadline,
        stopOnViolation: stop,
        onExecution,
        ...(root ? { root } : {}),
      },
      (st, s) => {
        h.note(r.executions);
        if (Atomics.load(q, STOP) !== 0) return false;
        if (h.total() + st.sleepBlocked >= maxExecutions || performance.now() > o.deadline) {
          stopStealing(q, 2);
          return false;
        }
        const now = performance.now();
        if (h.interrupted && now - lastPoll > 100) {
          lastPoll = now;
          if (h.interrupted()) {
            stopStealing(q, 2);
            return false;
          }
        }
        // someone waits and no root is there for it: give away the shallowest branch left on this path
        if (Atomics.load(q, COUNT) < Atomics.load(q, IDLE)) {
          const d = s.donate();
          if (d !== null && !push(q, d)) local.push(d);
        }
        return true;
      },
      () => {
        reads = true;
        r.executions = mark.executions;
        r.violations.length = mark.violations;
        r.violationCounts = { ...mark.counts };
      },
      reads,
      (inner) => observed(inner, tracker, cov),
    );
  };

  for (let round = Atomics.load(q, DONE); round < bounds.length && Atomics.load(q, STOP) === 0; round++) {
    idle = h.me !== 0;
    let root: DfsRoot | null = h.me === 0 ? null : take(round);
    let first = h.me === 0;
    while (first || root !== null) {
      const s = searchRoot(root, bounds[round]);
      r.searched++;
      r.sleepBlocked += s.state.sleepBlocked;
      r.prunedByBound += s.state.pruned;
      r.longestExecution = Math.max(r.longestExecution, s.state.maxSeen);
      if (Atomics.load(q, STOP) !== 0) break;
      first = false;
      root = take(round);
    }
    if (Atomics.load(q, STOP) !== 0) break;
    // wait for the round's end (a worker that left with no root may see it before the others finish)
    while (Atomics.load(q, DONE) <= round && Atomics.load(q, STOP) === 0) {
      const sig = Atomics.load(q, SIGNAL);
      if (Atomics.load(q, DONE) > round) break;
      Atomics.wait(q, SIGNAL, sig, 50);
    }
  }
  h.note(r.executions);
  r.prefixes = r.searched;
  r.exhaustive = Atomics.load(q, DONE) === bounds.length && Atomics.load(q, STOP) === 0;
  r.elapsedMs = Math.round(performance.now() - t0);
  if (cov) r.coverage = cov.named();
  return r;
}
