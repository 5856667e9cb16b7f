// Fix 002 in timed mode: what 1cf35d47 (and v6.2's delayed rmap) cost. One CPU munmaps N pages of an mm that
// `cpus` CPUs have run (so on x86 every flush is an IPI shootdown unless the mm ran on this CPU alone): dirty
// MAP_SHARED file pages (each PTE table that holds one gets a forced flush under its PTE lock after the fix),
// clean shared file pages, or anonymous pages (neither forces anything). Same modelled functions and variants
// as split-tlb-flush.

import { defineScenario } from "../../explore/scenario";
import { int, oneOf, defaultParams } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import type { Gen } from "../../sim/machine";
import { MmWorld, PAGE_SIZE, populate } from "../../mm/index";
import { PPC64 } from "../../powerpc/pgtable_ppc64";
import { X86 } from "../../x86/pgtable_types";
import type { K, MmStruct, Vma } from "../../mm/index";
import { x86Mmu } from "../../x86/index";
import { powerpcHash, prefault } from "../../powerpc/index";
import { runTimed, TimedResult } from "../../explore/timed";
import { splitTlbFlushOps, splitTlbFlushVariants, SPLIT_BASE } from "./scenario";
import { SPLIT_ARCHES } from "./scenario";
import type { SplitArch } from "./scenario";

/** Pages a v3.14 mmu_gather holds before it must flush: MAX_GATHER_BATCH_COUNT batches, "about 10k pages". */
export const GATHER_PAGES_V314 = 10_000;

export const SPLIT_WORKLOAD_KINDS = ["dirty-shared", "clean-shared", "anon"] as const;
export type SplitWorkloadKind = (typeof SPLIT_WORKLOAD_KINDS)[number];

export const splitTlbFlushWorkloadParams = {
  pages: int(1, 8192, 1024, "pages unmapped"),
  cpus: int(1, 8, 2, "CPUs that ran the mm (an IPI shootdown on x86 unless 1)"),
  kind: oneOf(
    SPLIT_WORKLOAD_KINDS,
    "dirty-shared",
    "dirty MAP_SHARED file pages, clean shared ones, or anonymous pages",
  ),
  arch: oneOf(SPLIT_ARCHES, "x86", "the x86-like TLB or the ppc64 hash MMU"),
  ptrsPerPte: int(2, 512, 512, "PTRS_PER_PTE: pages per PTE table (512 on x86-64 and ppc64 4K)"),
};

export type SplitTlbFlushWorkloadParams = ParamsOf<typeof splitTlbFlushWorkloadParams>;

export const splitTlbFlushWorkload = defineScenario({
  id: "split-tlb-flush-workload",
  modes: ["timed"],
  sampleUnits: { "batch size at flush": "pages" },
  fix: "split-tlb-flush",
  title: "munmap of N dirty shared, clean shared or anonymous pages, v3.14 / 1cf35d47 / v6.2 (timed mode)",
  ops: splitTlbFlushOps,
  variants: splitTlbFlushVariants,
  machine: (p) => ({ cpus: p.cpus }),
  params: splitTlbFlushWorkloadParams,
  bounds: { maxSteps: 100_000_000 },
  setup(k, m, p) {
    const x86 = p.arch === "x86";
    const ptePages = Math.ceil(p.pages / p.ptrsPerPte);
    const w = new MmWorld(m, {
      frames: p.pages + ptePages + 16,
      ptrsPerPte: p.ptrsPerPte,
      ptrsPerPmd: 512,
      ptrsPerPgd: 512,
      layout: x86 ? X86 : PPC64,
      gatherMax: GATHER_PAGES_V314,
    });
    if (x86) x86Mmu(w, { tlbEntries: 64 });
    else {
      let ptegs = 2;
      while (ptegs * 2 < p.pages) ptegs *= 2;
      powerpcHash(w, { ptegs, tlbEntries: 64 });
    }
    const mm = w.mm_alloc();
    const end = SPLIT_BASE + p.pages * PAGE_SIZE;
    const vma =
      p.kind === "anon"
        ? w.mmap_anon(mm, SPLIT_BASE, p.pages)
        : w.mmap_file(mm, SPLIT_BASE, p.pages, w.newFile("f", p.pages));
    const write = p.kind !== "clean-shared";
    for (let i = 0; i < p.pages; i++) {
      const ea = SPLIT_BASE + i * PAGE_SIZE;
      if (x86) populate(mm, ea, { write });
      else prefault(mm, ea, { write });
    }
    mm.cpu_vm_mask = (1 << p.cpus) - 1; // every CPU ran a thread of this mm
    m.spawn(0, "munmap", timed_munmap(k, mm, vma, SPLIT_BASE, end));
  },
});

export interface SplitTlbFlushCost {
  variant: string;
  kind: SplitWorkloadKind;
  arch: SplitArch;
  pages: number;
  cpus: number;
  /** PTE tables the range spans (zap_pte_range calls). */
  pteTables: number;
  /** munmap latency, ns. */
  latencyNs: number;
  /** TLB flush operations: x86 shootdowns + local flushes; hash batch flushes (each a tlbie/tlbiel run). */
  flushes: number;
  /** x86: IPI shootdowns / local INVLPG flushes. */
  shootdowns: number;
  localFlushes: number;
  /** hash: global and local invalidations. */
  tlbie: number;
  tlbiel: number;
  /** Mean and max PTE-lock hold time, ns. */
  ptlHoldMeanNs: number;
  ptlHoldMaxNs: number;
  steps: number;
  wallMs: number;
}

/** Run one munmap in virtual time and summarise it for plots. */
export function splitTlbFlushCost(
  variant: "before" | "after" | "later",
  params: Partial<SplitTlbFlushWorkloadParams> = {},
): SplitTlbFlushCost {
  const r: TimedResult = runTimed(splitTlbFlushWorkload, { variant, params });
  if (r.violation) throw new Error(`workload hit ${r.violation.invariant}: ${r.violation.message}`);
  const p = { ...defaultParams(splitTlbFlushWorkloadParams), ...params };
  const c = r.counters;
  const hold = r.samples["lock hold: ptl"];
  const shootdowns = c["tlb shootdowns"] ?? 0;
  const localFlushes = c["local tlb flushes"] ?? 0;
  return {
    variant,
    kind: p.kind,
    arch: p.arch,
    pages: p.pages,
    cpus: p.cpus,
    pteTables: Math.ceil(p.pages / p.ptrsPerPte),
    latencyNs: r.samples.munmap?.max ?? 0,
    flushes: p.arch === "x86" ? shootdowns + localFlushes : (c["batch flushes"] ?? 0),
    shootdowns,
    localFlushes,
    tlbie: c.tlbie ?? 0,
    tlbiel: c.tlbiel ?? 0,
    ptlHoldMeanNs: hold ? hold.mean : 0,
    ptlHoldMaxNs: hold ? hold.max : 0,
    steps: r.steps,
    wallMs: r.wallMs,
  };
}

/** splitTlbFlushCost for every variant × 1..maxCpus CPUs (a notebook sweep). */
export function splitTlbFlushSweep(
  params: Partial<Omit<SplitTlbFlushWorkloadParams, "cpus">> = {},
  maxCpus = 8,
): SplitTlbFlushCost[] {
  const out: SplitTlbFlushCost[] = [];
  for (const variant of ["before", "after", "later"] as const) {
    for (let cpus = 1; cpus <= maxCpus; cpus++) out.push(splitTlbFlushCost(variant, { ...params, cpus }));
  }
  return out;
}

/** munmap of [start, end): unmap_region, its latency sampled. */
function* timed_munmap(k: K, mm: MmStruct, vma: Vma, start: number, end: number): Gen {
  yield* k.switch_mm(mm);
  const t0 = k.now();
  yield* k.unmap_region(vma, start, end, start, end);
  k.sample("munmap", k.now() - t0);
}
