// A hardware TLB per core (the threads of a core share it, as on POWER7 and with x86 hyperthreads): a small
// FIFO-replaced array caching a translation, its permission and whether stores may go straight through (the
// cached changed/dirty state). Plain arrays, one shared object per core; driven by the kernel code of lib/powerpc and lib/x86.

import { Machine, filled } from "../sim/machine";
import { CELL_OBJECT } from "../sim/objects";

export const TLB_W = 1; // store permitted by the cached permission
export const TLB_C = 2; // changed/dirty already recorded: a store needs no table update

export class HwTlb {
  readonly cores: number;
  /** Object id of core c's TLB is `base + c`. */
  readonly base: number;
  /** Virtual page tag (ppc: VSID-based VPN; x86: context id × 2^20 + page). -1 = invalid. */
  readonly tag: number[];
  readonly pfn: number[];
  /** Frame generation when the entry was filled (a ghost, for use-after-free). */
  readonly gen: number[];
  readonly flags: number[];
  private readonly next: number[];
  constructor(
    m: Machine,
    readonly entries: number,
  ) {
    this.cores = m.ncpu / m.threadsPerCore;
    this.base = m.newObjs(this.cores, "tlb@core");
    const n = this.cores * entries;
    this.tag = filled(n, -1);
    this.pfn = filled(n);
    this.gen = filled(n);
    this.flags = filled(n);
    this.next = filled(this.cores);
  }
  /** Entry t is core ⌊t / entries⌋'s TLB; next[c] is core c's. */
  [CELL_OBJECT](field: string, index: number): number {
    if (index < 0) return -1;
    return this.base + (field === "next" ? index : Math.floor(index / this.entries));
  }
  obj(core: number): number {
    return this.base + core;
  }
  /** Entry index for tag on core, or -1. */
  lookup(core: number, tag: number): number {
    const b = core * this.entries;
    for (let i = b; i < b + this.entries; i++) if (this.tag[i] === tag) return i;
    return -1;
  }
  /** Fill (replacing any entry for tag, else the FIFO victim); returns the entry index. */
  fill(core: number, tag: number, pfn: number, gen: number, flags: number): number {
    let i = this.lookup(core, tag);
    if (i < 0) {
      i = core * this.entries + this.next[core];
      this.next[core] = (this.next[core] + 1) % this.entries;
    }
    this.tag[i] = tag;
    this.pfn[i] = pfn;
    this.gen[i] = gen;
    this.flags[i] = flags;
    return i;
  }
  /** Invalidate entries for tag on one core (tlbiel / invlpg); returns how many went. */
  invalidate(core: number, tag: number): number {
    let n = 0;
    const b = core * this.entries;
    for (let i = b; i < b + this.entries; i++) {
      if (this.tag[i] === tag) {
        this.tag[i] = -1;
        n++;
      }
    }
    return n;
  }
  /** Invalidate entries for tag on every core (tlbie). */
  invalidateAll(tag: number): number {
    let n = 0;
    for (let c = 0; c < this.cores; c++) n += this.invalidate(c, tag);
    return n;
  }
  /** Invalidate every entry of one core whose tag satisfies `pred` (full / context flush). */
  invalidateWhere(core: number, pred: (tag: number) => boolean): void {
    const b = core * this.entries;
    for (let i = b; i < b + this.entries; i++) if (this.tag[i] >= 0 && pred(this.tag[i])) this.tag[i] = -1;
  }
  /** Entries (core, tag, pfn) currently valid, for tests and display. */
  dump(): { core: number; tag: number; pfn: number; flags: number }[] {
    const out: { core: number; tag: number; pfn: number; flags: number }[] = [];
    for (let c = 0; c < this.cores; c++) {
      for (let i = c * this.entries; i < (c + 1) * this.entries; i++) {
        if (this.tag[i] >= 0) out.push({ core: c, tag: this.tag[i], pfn: this.pfn[i], flags: this.flags[i] });
      }
    }
    return out;
  }
}
