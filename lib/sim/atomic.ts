// Atomics (include/linux/atomic.h): each operation is one indivisible step on its object.

import { Gen, Machine } from "./machine";
import { KernelBase } from "./kernel";
import { event } from "./event";

export class Atomic {
  constructor(
    readonly id: number,
    public v: number,
  ) {}
}

export function ATOMIC_INIT(m: Machine, name: string, v = 0): Atomic {
  return new Atomic(m.newObj(name), v);
}

const E_READ = event("atomic_read", "load", { cost: "mem" });
const E_SET = event("atomic_set", "store", { cost: "mem" });
const E_ADD = event("atomic_add_return", "atomic add", { cost: "atomic" });
const E_CMPXCHG = event("cmpxchg", "compare and exchange", { cost: "atomic" });

export function* atomic_read(k: KernelBase, a: Atomic): Gen<number> {
  k.R(a, E_READ);
  yield;
  return a.v;
}

export function* atomic_set(k: KernelBase, a: Atomic, v: number): Gen {
  k.W(a, E_SET);
  yield;
  a.v = v;
}

export function* atomic_add_return(k: KernelBase, a: Atomic, d: number): Gen<number> {
  k.W(a, E_ADD);
  yield;
  a.v += d;
  return a.v;
}

export function* atomic_inc(k: KernelBase, a: Atomic): Gen {
  yield* atomic_add_return(k, a, 1);
}

export function* atomic_dec_and_test(k: KernelBase, a: Atomic): Gen<boolean> {
  return (yield* atomic_add_return(k, a, -1)) === 0;
}

/** cmpxchg: store `nv` if the value is `old`; returns the value found. */
export function* cmpxchg(k: KernelBase, a: Atomic, old: number, nv: number): Gen<number> {
  k.W(a, E_CMPXCHG);
  yield;
  const cur = a.v;
  if (cur === old) a.v = nv;
  return cur;
}
