// Spinlocks (kernel/locking/spinlock.c, include/linux/spinlock.h). spin_lock disables preemption and busy-waits;
// here the wait is one step that is not runnable while the lock is held, so a waiter never burns steps.

import { Gen, Machine, WRITE, ModelError } from "./machine";
import { KernelBase } from "./kernel";
import { event } from "./event";
import { rt } from "./context";

export class Spinlock {
  /** Explorer process holding the lock, or -1. */
  owner = -1;
  /** Timed mode: when the holder took it, for the hold-time samples. */
  since = 0;
  private hold: string | null = null;
  /** Guard of a waiting spin_lock, allocated once. */
  readonly isFree = (): boolean => this.owner < 0;
  constructor(
    readonly id: number,
    readonly name: string,
  ) {}
  /** Sample name for hold times (timed mode): the lock's class, e.g. `lock hold: ptl`. */
  get holdSample(): string {
    return (this.hold ??= `lock hold: ${this.name.split(/[@[.]/)[0]}`);
  }
}

/** spin_lock_init: a new lock object on machine `m`. */
export function spin_lock_init(m: Machine, name: string): Spinlock {
  return new Spinlock(m.newObj(name), name);
}

const E_LOCK = event("spin_lock", "acquire", { cost: "spin_lock" });
const E_UNLOCK = event("spin_unlock", "release", { cost: "spin_unlock" });

export function* spin_lock(k: KernelBase, l: Spinlock): Gen {
  const m = k.m;
  // preempt_disable changes this CPU's quiescent state
  if (m.rcuMode) k.wait(l, WRITE, E_LOCK, l.isFree, m.cpuStateObj[m.cur.cpu], WRITE);
  else k.wait(l, WRITE, E_LOCK, l.isFree);
  yield;
  const c = rt(m.cur);
  l.owner = c.proc;
  c.locks++;
  c.preempt++;
  if (m.timed) l.since = k.now();
}

export function* spin_unlock(k: KernelBase, l: Spinlock): Gen {
  const m = k.m;
  if (m.rcuMode) k.RW2(l, WRITE, m.cpuStateObj[m.cur.cpu], WRITE, E_UNLOCK);
  else k.W(l, E_UNLOCK);
  yield;
  const c = rt(m.cur);
  if (l.owner !== c.proc) {
    k.violation(
      "unlock-not-held",
      `${c.name} released ${l.name}, held by ${l.owner < 0 ? "nobody" : m.ctxs[l.owner].name}`,
    );
    return;
  }
  if (c.preempt <= 0) throw new ModelError(`${c.name}: preempt_count underflow in spin_unlock(${l.name})`);
  if (m.timed) k.sample(l.holdSample, k.now() - l.since);
  l.owner = -1;
  c.locks--;
  c.preempt--;
}

/** spin_is_locked: a plain read of the lock word. */
export function* spin_is_locked(k: KernelBase, l: Spinlock): Gen<boolean> {
  k.R(l, E_IS_LOCKED);
  yield;
  return l.owner >= 0;
}
const E_IS_LOCKED = event("spin_is_locked", "read lock word");
