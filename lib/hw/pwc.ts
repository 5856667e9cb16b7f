// A page-walk cache (no kernel file: the hardware's rules, as Linux relies on them). An MMU that walks Linux's page
// tables itself — x86 (its paging-structure caches), POWER9 radix (its PWC), ARM — caches upper-level entries per
// CPU: the pointer a pgd or pmd entry held, so a later walk starts at the lower table without rereading the upper
// ones. The hardware walks whenever it likes (speculatively, on TLB misses) on every CPU that has the mm loaded
// (CR3, the radix PID), a lazy-TLB kernel thread's CPU included, and keeps a cached pointer until an invalidate
// drops it: INVLPG or a CR3 reload on x86, tlbie with RIC=1/2 on radix, both complete only once walks in flight
// are done. A table freed while a CPU's cache still points at it is walked after it is freed or reused: that is
// the harm reported here. The hash MMU has no such walker: it searches the HPT, never Linux's tables.
//
// A walk is one atomic step (the architecture's guarantee that an invalidate waits for walks in flight), pulled:
// its objects are the path it would take in the current state. Only the PWC is modelled, not the TLB it fills.

import { READ, WRITE } from "../sim/machine";
import type { Context, Gen, Machine, PulledAccess } from "../sim/machine";
import { event } from "../sim/event";
import { defineCosts } from "../sim/cost";
import "./costs";
import type { KernelBase } from "../sim/kernel";
import { PGD_LEVEL, PMD_LEVEL, PTE_LEVEL } from "../mm/mm_types";
import type { MmStruct, MmWorld, PtPage } from "../mm/mm_types";

defineCosts({
  /** Invalidating a context's page-walk-cache entries on every CPU: priced as a broadcast tlbie. (E) */
  pwc_invalidate: 550,
});

const E_WALK = event("(hw) page walk", "speculative walk: page-walk cache, then the tables", { cost: "tlb_miss" });
const E_INVAL = event("(hw) pwc invalidate", "every CPU's page-walk cache entries of the context", {
  cost: "pwc_invalidate",
  counter: "page-walk cache invalidates",
});

/** Per-CPU caches of upper-level entries: (context, level, the entry's span) → the table it points to. */
export class PageWalkCache implements PulledAccess {
  /** One object per CPU: its cache (a walk fills it, an invalidate clears it). */
  readonly objs: number[] = [];
  private readonly ent: Map<string, PtPage>[] = [];
  private readonly pMm: (MmStruct | null)[];
  private readonly pEa: number[];
  constructor(readonly w: MmWorld) {
    const m = w.m;
    for (let c = 0; c < m.ncpu; c++) {
      this.objs.push(m.newObj(`cpu${c}.pwc`));
      this.ent.push(new Map());
    }
    this.pMm = new Array<MmStruct | null>(m.ctxs.length).fill(null);
    this.pEa = new Array<number>(m.ctxs.length).fill(0);
  }

  private key(mm: MmStruct, level: number, ea: number): string {
    return `${mm.contextId}:${level}:${Math.floor(ea / this.w.span(level))}`;
  }

  /** The lowest table a walk of `ea` by `cpu` can start at: a cached PTE page, a cached pmd table, or the pgd. */
  start(cpu: number, mm: MmStruct, ea: number): { t: PtPage; cached: boolean } {
    const c = this.ent[cpu];
    const pt = c.get(this.key(mm, PMD_LEVEL, ea));
    if (pt !== undefined) return { t: pt, cached: true };
    const pmd = c.get(this.key(mm, PGD_LEVEL, ea));
    if (pmd !== undefined) return { t: pmd, cached: true };
    return { t: mm.pgd, cached: false };
  }

  /** Cached entries of `cpu` (for tests and state tables). */
  size(cpu: number): number {
    return this.ent[cpu].size;
  }

  /** PulledAccess: this CPU's cache, then each table entry on the path the walk would take now. */
  objects(ctx: Context): readonly number[] {
    const mm = this.pMm[ctx.proc]!;
    const ea = this.pEa[ctx.proc];
    const out = [this.objs[ctx.cpu], WRITE];
    let t: PtPage | null = this.start(ctx.cpu, mm, ea).t;
    while (t !== null) {
      const i = this.w.index(t.level, ea);
      out.push(t.base + i, READ, t.frame.id, READ);
      if (t.level === PTE_LEVEL || !t.live) break;
      t = this.w.child(t.ent[i]);
    }
    return out;
  }

  /**
   * One speculative walk of `ea` by the current CPU: start at the lowest cached table, read down to the PTE,
   * caching each upper-level entry read. The PTE (0 when none), or -1 after a walk through a freed table.
   */
  *walk(k: KernelBase, mm: MmStruct, ea: number): Gen<number> {
    const p = k.m.cur.proc;
    this.pMm[p] = mm;
    this.pEa[p] = ea;
    k.pulled(this, E_WALK);
    yield;
    const cpu = k.cpu();
    const s = this.start(cpu, mm, ea);
    let t: PtPage | null = s.t;
    let via = s.cached ? "a pointer from its page-walk cache" : "the tables";
    while (t !== null) {
      if (!k.frameLive(t.frame, t.gen, `cpu${cpu}'s hardware page walk of 0x${ea.toString(16)} through ${via}`))
        return -1;
      const e = t.ent[this.w.index(t.level, ea)];
      if (t.level === PTE_LEVEL) return e;
      const child = this.w.child(e);
      if (child !== null) this.ent[cpu].set(this.key(mm, t.level, ea), child);
      t = child;
      via = "the tables";
    }
    return 0;
  }

  /** Invalidate `mm`'s entries in every CPU's cache, in one step (a broadcast tlbie, or each CPU's INVLPG). */
  *invalidate_mm(k: KernelBase, mm: MmStruct): Gen {
    const pairs: number[] = [];
    for (const o of this.objs) pairs.push(o, WRITE);
    k.multi(pairs, E_INVAL);
    yield;
    const prefix = `${mm.contextId}:`;
    for (const c of this.ent) for (const key of [...c.keys()]) if (key.startsWith(prefix)) c.delete(key);
  }
}

/** Give a machine's MmWorld a page-walk cache (m.ext.pwc). */
export function installPwc(w: MmWorld): PageWalkCache {
  const pwc = new PageWalkCache(w);
  w.m.ext.pwc = pwc;
  return pwc;
}

/** The machine's page-walk cache, or null on an MMU without one (hash). */
export function pwcOf(m: Machine): PageWalkCache | null {
  return (m.ext.pwc as PageWalkCache | undefined) ?? null;
}
