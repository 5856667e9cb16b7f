// The hardware access path (no kernel counterpart: it keeps the explorer's view exact). A user load or store is
// one atomic step that touches the core's TLB, the translation sources and the frame it reaches; which frame
// that is depends on state other CPUs may change while the access waits to be scheduled. So the access is
// announced as *pulled*: the machine asks `announceList` for its objects whenever it reads the announcement,
// and no write to a PTE, table, HPTE or TLB has to re-announce anything.

import type { MmStruct, MmWorld, HwModel } from "../mm/mm_types";
import type { Context, Gen, PulledAccess } from "../sim/machine";
import type { KernelBase } from "../sim/kernel";
import type { SimEvent } from "../sim/event";

/** The access's name to a call hook (modelled functions are numbered from 0). */
const HW_ACCESS = 0x4877_0000;
const NO_ARGS: readonly unknown[] = [];

/** R: what an architecture's translate returns (a status for ppc, fault-or-not for x86). K: its kernel type. */
export abstract class HwAccessPath<K extends KernelBase, R> implements HwModel, PulledAccess {
  // The access each context has announced (by explorer process); read only while that announcement stands.
  private readonly pMm: (MmStruct | null)[];
  private readonly pEa: number[];
  private readonly pWrite: boolean[];
  constructor(readonly w: MmWorld) {
    const n = w.m.ctxs.length;
    this.pMm = new Array<MmStruct | null>(n).fill(null);
    this.pEa = new Array<number>(n).fill(0);
    this.pWrite = new Array<boolean>(n).fill(false);
  }

  /** [obj, kind, obj, kind, …]: every object an access by `cpu` to `ea` would touch now. */
  abstract announceList(cpu: number, mm: MmStruct, ea: number, write: boolean): number[];

  /** The hardware's translation and access, inside one step. */
  abstract translate(k: K, mm: MmStruct, ea: number, write: boolean): R;

  /** Trace sites of a user load and store on this architecture. */
  protected abstract readonly loadEvent: SimEvent;
  protected abstract readonly storeEvent: SimEvent;

  /** One user load or store by the current context: announce, wait to be scheduled, translate and access. */
  *access(k: K, mm: MmStruct, ea: number, write: boolean): Gen<R> {
    const p = k.m.cur.proc;
    this.pMm[p] = mm;
    this.pEa[p] = ea;
    this.pWrite[p] = write;
    // to a state cache, the access is a call whose result is all its caller keeps (lib/sim/kernel.ts CallHook)
    const hook = k.m.callHook;
    if (hook !== null) hook.enter(HW_ACCESS);
    k.pulled(this, write ? this.storeEvent : this.loadEvent);
    yield;
    const r = this.translate(k, mm, ea, write);
    if (hook !== null) hook.leave(HW_ACCESS, r, NO_ARGS);
    return r;
  }

  /** PulledAccess: the objects of the access `c` announced, in the current state. */
  objects(c: Context): readonly number[] {
    return this.announceList(c.cpu, this.pMm[c.proc]!, this.pEa[c.proc], this.pWrite[c.proc]);
  }
}
