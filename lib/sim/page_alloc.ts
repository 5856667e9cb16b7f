// Page frames and the page allocator (mm/page_alloc.c). A frame has a lifecycle (free, allocated, freed and
// reused) and a generation that moves on every allocation, so a translation or pointer taken earlier can be
// recognised as stale: any access through it to a freed or reused frame is a use-after-free.

import { Gen, Machine, WRITE } from "./machine";
import { KernelBase } from "./kernel";
import { event } from "./event";
import { CELL_OBJECT } from "./objects";

/** Allocation flags: only the ones whose failure the kernel must handle are distinguished. */
export const GFP_KERNEL = 0;
export const GFP_NOWAIT = 1;
export const GFP_ATOMIC = 2;

export const PAGE_FREE = 0;
export const PAGE_ALLOCATED = 1;

export class PageFrame {
  state = PAGE_FREE;
  /** Bumped by every allocation: (frame, gen) names one lifetime of the frame. */
  gen = 0;
  /** What the frame is used for, for messages (`anon`, `pte table`, `page cache`…). */
  use = "";
  /** Contents, as a version number: enough to tell which store a reader sees. */
  data = 0;
  constructor(
    readonly id: number,
    readonly pfn: number,
  ) {}
  [CELL_OBJECT](): number {
    return this.id;
  }
}

export interface AllocatorOptions {
  /** Frames in the machine. */
  frames: number;
  /** Whether GFP_NOWAIT/GFP_ATOMIC allocations may fail (an explorable choice). */
  mayFail?: boolean;
}

export class PageAllocator {
  readonly id: number;
  readonly frames: PageFrame[] = [];
  readonly mayFail: boolean;
  /** Free list, most recently freed last: reuse is LIFO, like the per-CPU hot lists. */
  private readonly free: PageFrame[] = [];
  [CELL_OBJECT](): number {
    return this.id;
  }
  constructor(m: Machine, opts: AllocatorOptions) {
    this.id = m.newObj("page allocator");
    const base = m.newObjs(opts.frames, "pfn");
    for (let i = 0; i < opts.frames; i++) this.frames.push(new PageFrame(base + i, i));
    for (let i = opts.frames - 1; i >= 0; i--) this.free.push(this.frames[i]);
    this.mayFail = opts.mayFail ?? false;
  }
  get freeCount(): number {
    return this.free.length;
  }
  /** Take a frame (no step: for building the initial state). */
  take(use: string): PageFrame {
    const f = this.free.pop();
    if (!f) throw new Error("page allocator: out of frames while building the machine");
    f.state = PAGE_ALLOCATED;
    f.gen++;
    f.use = use;
    f.data = 0;
    return f;
  }
  /** Give a frame back (no step: used by free paths inside a step). */
  give(f: PageFrame): void {
    f.state = PAGE_FREE;
    f.use = "";
    this.free.push(f);
  }
}

const E_ALLOC = event("alloc_pages", "take a free page", { cost: "page_alloc", counter: "pages allocated" });
const E_FREE = event("__free_pages", "free a page", { cost: "page_free", counter: "pages freed" });

/** alloc_page: null when a GFP_NOWAIT/GFP_ATOMIC allocation fails (chosen by the explorer) or memory is out. */
export function* alloc_page(k: KernelBase, pa: PageAllocator, gfp: number, use: string): Gen<PageFrame | null> {
  k.W(pa, E_ALLOC);
  yield;
  if (gfp !== GFP_KERNEL && pa.mayFail && k.choose(2, "allocation fails") === 1) return null;
  if (pa.freeCount === 0) return null;
  return pa.take(use);
}

/** __free_page: the frame goes back to the free list and may be reused at once. */
export function* free_page(k: KernelBase, pa: PageAllocator, f: PageFrame): Gen {
  k.RW2(pa, WRITE, f, WRITE, E_FREE);
  yield;
  if (f.state !== PAGE_ALLOCATED) {
    k.violation("double-free", `pfn ${f.pfn} freed twice`);
    return;
  }
  pa.give(f);
}

/** Check an access through a translation or pointer taken when the frame had generation `gen`. */
export function checkFrameAccess(k: KernelBase, f: PageFrame, gen: number, who: string): boolean {
  if (f.state !== PAGE_ALLOCATED) {
    k.violation("use-after-free", `${who} touched pfn ${f.pfn} after it was freed`);
    return false;
  }
  if (f.gen !== gen) {
    k.violation("use-after-free", `${who} touched pfn ${f.pfn}, freed and reused since (now ${f.use})`);
    return false;
  }
  return true;
}
