// Pending hardware accesses (no kernel counterpart: it keeps the explorer's view exact). A user load or store is
// one atomic step that touches the core's TLB, the translation sources and the frame it reaches; which frame
// that is depends on state other CPUs may change while the access waits to be scheduled. So every write to a
// translation source re-announces the waiting accesses of other contexts with their current object lists.

import type { MmStruct, MmWorld, HwModel } from "../mm/mm_types";
import type { Context, Gen } from "../sim/machine";
import type { KernelBase } from "../sim/kernel";
import type { SimEvent } from "../sim/event";

interface Pending {
  mm: MmStruct;
  ea: number;
  write: boolean;
}

/** R: what an architecture's translate returns (a status for ppc, fault-or-not for x86). K: its kernel type. */
export abstract class PendingHwAccesses<K extends KernelBase, R> implements HwModel {
  private readonly pending: (Pending | null)[];
  private npending = 0;
  constructor(readonly w: MmWorld) {
    this.pending = new Array(w.m.ctxs.length).fill(null);
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
    const c = k.m.cur;
    k.multi(this.announceList(c.cpu, mm, ea, write), write ? this.storeEvent : this.loadEvent);
    this.markPending(c, mm, ea, write);
    yield;
    this.clearPending(c);
    return this.translate(k, mm, ea, write);
  }

  /** The access of context `c` is announced and waiting to run. */
  protected markPending(c: Context, mm: MmStruct, ea: number, write: boolean): void {
    this.pending[c.proc] = { mm, ea, write };
    this.npending++;
  }

  protected clearPending(c: Context): void {
    this.pending[c.proc] = null;
    this.npending--;
  }

  reannounce(): void {
    if (this.npending === 0) return;
    const m = this.w.m;
    for (let p = 0; p < this.pending.length; p++) {
      const a = this.pending[p];
      if (a === null) continue;
      const c = m.ctxs[p];
      const list = this.announceList(c.cpu, a.mm, a.ea, a.write);
      c.obj = list[0];
      c.kind = list[1];
      c.obj2 = -1;
      c.extra = list.length > 2 ? list.slice(2) : null;
    }
  }
}
