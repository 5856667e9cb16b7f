// Per-CPU variables (include/linux/percpu-defs.h): one instance per CPU, each its own shared object, because
// a CPU's own interrupt handlers and remote readers may touch it too.

import { Machine } from "./machine";
import { KernelBase } from "./kernel";

export class PerCpu<T> {
  readonly ids: number[] = [];
  private readonly vals: T[] = [];
  constructor(
    m: Machine,
    readonly name: string,
    init: (cpu: number) => T,
  ) {
    for (let c = 0; c < m.ncpu; c++) {
      this.ids.push(m.newObj(`${name}@cpu${c}`));
      this.vals.push(init(c));
    }
  }
  /** per_cpu(var, cpu) */
  on(cpu: number): T {
    return this.vals[cpu];
  }
  /** this_cpu_ptr(var): the instance of the CPU the current context runs on. */
  this_cpu(k: KernelBase): T {
    return this.vals[k.m.cur.cpu];
  }
  /** Object id of the instance on `cpu`, for step announcements. */
  id(cpu: number): number {
    return this.ids[cpu];
  }
}

/** DEFINE_PER_CPU */
export function DEFINE_PER_CPU<T>(m: Machine, name: string, init: (cpu: number) => T): PerCpu<T> {
  return new PerCpu(m, name, init);
}
