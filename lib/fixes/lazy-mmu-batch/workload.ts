// Fix 000 in timed mode: what a741e679 costs. One CPU unmaps N hashed pages of an mm that `cpus` CPUs have
// run (so flushes are global tlbie unless the mm ran on this CPU alone), or ages them (page_referenced_one:
// PTE updates outside any lazy-MMU section). Same modelled functions and variants as lazy-mmu-batch.

import { defineScenario } from "../../explore/scenario";
import { int, oneOf, defaultParams } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import type { Gen } from "../../sim/machine";
import { MmWorld, PAGE_SIZE } from "../../mm/index";
import { powerpcHash, prefault, PPC64 } from "../../powerpc/index";
import type { PK } from "../../powerpc/kernel";
import type { MmStruct, Vma } from "../../mm/mm_types";
import { lazyMmuOps, lazyMmuBefore, BASE } from "./scenario";
import { runTimed, TimedResult } from "../../explore/timed";

/** FREE_PTE_NR: pages a v2.6.22 per-CPU mmu_gather holds before it must flush. */
export const FREE_PTE_NR = 506;

/** Largest munmap the workload models (4 GiB of 4K pages; memory, not PTE width, is the limit). */
export const MAX_WORKLOAD_PAGES = 1_048_576;

export const lazyMmuWorkloadParams = {
  pages: int(1, MAX_WORKLOAD_PAGES, 1024, "pages unmapped or aged"),
  cpus: int(1, 8, 2, "CPUs that ran the mm (global tlbie unless 1)"),
  op: oneOf(["munmap", "aging"], "munmap", "munmap the range, or age every page (page_referenced_one)"),
  batchNr: int(1, 192, 192, "PPC64_TLB_BATCH_NR"),
};

export type LazyMmuWorkloadParams = ParamsOf<typeof lazyMmuWorkloadParams>;

export const lazyMmuWorkload = defineScenario({
  id: "lazy-mmu-workload",
  modes: ["timed"],
  sampleUnits: { "batch size at flush": "pages" },
  fix: "lazy-mmu-batch",
  title: "munmap / page aging of N hashed pages, before and after the lazy-MMU batch (timed mode)",
  ops: lazyMmuOps,
  variants: { before: lazyMmuBefore, after: {} },
  machine: (p) => ({ cpus: p.cpus }),
  params: lazyMmuWorkloadParams,
  bounds: { maxSteps: 100_000_000 },
  setup(k, m, p) {
    const ptePages = Math.ceil(p.pages / 512);
    const w = new MmWorld(m, {
      layout: PPC64,
      frames: p.pages + ptePages + 16,
      ptrsPerPte: 512,
      ptrsPerPmd: 512,
      ptrsPerPgd: 512,
      gatherMax: FREE_PTE_NR,
    });
    let ptegs = 2;
    while (ptegs * 2 < p.pages) ptegs *= 2; // the kernel sizes the HPT for about 2 pages per PTEG
    powerpcHash(w, { ptegs, tlbEntries: 64, batchNr: p.batchNr });
    const mm = w.mm_alloc();
    const vma = w.mmap_anon(mm, BASE, p.pages);
    const pfns: number[] = [];
    for (let i = 0; i < p.pages; i++) pfns.push(prefault(mm, BASE + i * PAGE_SIZE, { write: true }));
    mm.cpu_vm_mask = (1 << p.cpus) - 1; // every CPU ran a thread of this mm
    const end = BASE + p.pages * PAGE_SIZE;
    m.spawn(0, p.op, p.op === "munmap" ? timed_munmap(k, mm, vma, BASE, end) : timed_aging(k, mm, vma, BASE, pfns));
  },
});

/** munmap of [start, end): unmap_region, its latency sampled. */
export function* timed_munmap(k: PK, mm: MmStruct, vma: Vma, start: number, end: number): Gen {
  yield* k.switch_mm(mm);
  const t0 = k.now();
  yield* k.unmap_region(vma, start, end, start, end);
  k.sample("munmap", k.now() - t0);
}

/** Page aging over every page (page_referenced_one): PTE updates outside any lazy-MMU section. */
export function* timed_aging(k: PK, mm: MmStruct, vma: Vma, start: number, pfns: readonly number[]): Gen {
  yield* k.switch_mm(mm);
  const t0 = k.now();
  const w = mm.w;
  for (let i = 0; i < pfns.length; i++) yield* k.page_referenced_one(w.pa.frames[pfns[i]], vma, start + i * PAGE_SIZE);
  k.sample("aging", k.now() - t0);
}

export interface LazyMmuCost {
  variant: string;
  op: string;
  pages: number;
  cpus: number;
  /** Operation latency, ns. */
  latencyNs: number;
  tlbie: number;
  tlbiel: number;
  hashFlushes: number;
  batchFlushes: number;
  meanBatch: number;
  /** Mean and max PTE-lock hold time, ns. */
  ptlHoldMeanNs: number;
  ptlHoldMaxNs: number;
  steps: number;
  wallMs: number;
}

/** Run one workload in virtual time and summarise it for plots. */
export function lazyMmuCost(variant: "before" | "after", params: Partial<LazyMmuWorkloadParams>): LazyMmuCost {
  const r: TimedResult = runTimed(lazyMmuWorkload, { variant, params });
  if (r.violation) throw new Error(`workload hit ${r.violation.invariant}: ${r.violation.message}`);
  const p = { ...defaultParams(lazyMmuWorkloadParams), ...params };
  const c = r.counters;
  const hold = r.samples["lock hold: ptl"];
  const batch = r.samples["batch size at flush"];
  return {
    variant,
    op: p.op,
    pages: p.pages,
    cpus: p.cpus,
    latencyNs: r.samples[p.op]?.max ?? 0,
    tlbie: c.tlbie ?? 0,
    tlbiel: c.tlbiel ?? 0,
    hashFlushes: c["hash flushes"] ?? 0,
    batchFlushes: c["batch flushes"] ?? 0,
    meanBatch: batch ? batch.mean : 0,
    ptlHoldMeanNs: hold ? hold.mean : 0,
    ptlHoldMaxNs: hold ? hold.max : 0,
    steps: r.steps,
    wallMs: r.wallMs,
  };
}
