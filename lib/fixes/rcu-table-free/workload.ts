// Fix 001 in timed mode: what deferring table frees costs. CPU 0 munmaps (or, as the last user, exits) an mm
// with `tables` PTE pages (one mapped page each, 512 PTE slots per page as on ppc64 4K) while CPUs 1.. run
// other threads of the mm, each doing `walks` get_user_pages_fast calls on a page that stays mapped (their
// IRQ-off time is sampled). The batch page allocation fails with probability `failRate` (seeded), which sends
// tables down the IPI fallback. Same modelled functions and variants as rcu-table-free.

import { PPC64 } from "../../powerpc/pgtable_ppc64";
import { int, real, oneOf, defaultParams } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import type { Gen, Machine } from "../../sim/machine";
import type { PageFrame } from "../../sim/page_alloc";
import { Rng } from "../../explore/rng";
import { MmWorld, PAGE_SIZE, populate } from "../../mm/index";
import type { MmStruct, Vma } from "../../mm/mm_types";
import { powerpcHash } from "../../powerpc/index";
import { runTimed } from "../../explore/timed";
import { rcuTableFreeOps, rcuTableFreeVariants } from "./scenario";
import type { RK } from "./era";

/** Largest teardown the workload builds (10^5 PTE pages: 10^5 mapped pages plus their tables). */
export const MAX_WORKLOAD_TABLES = 100_000;
const PTRS = 512;
const WBASE = 2 ** 30; // pgd entry 1 (a pgd entry spans 512 × 512 × 4K): the walkers' page stays in entry 0
const WALK_ADDR = 0x1000;

export const rcuTableFreeWorkloadParams = {
  tables: int(1, MAX_WORKLOAD_TABLES, 64, "PTE tables of the mm"),
  cpus: int(1, 8, 2, "CPUs; CPU 0 unmaps or exits, the others walk with get_user_pages_fast"),
  op: oneOf(["munmap", "exit"] as const, "munmap", "what CPU 0 does"),
  failRate: real(0, 1, 0, "probability that a batch-page allocation fails (memory pressure)"),
  seed: int(0, 2 ** 31 - 1, 1, "seed of the allocation failures"),
  walks: int(0, 1_000_000, 4, "get_user_pages_fast calls per walker CPU"),
  batchMax: int(1, 509, 509, "batch capacity"),
};

export type RcuTableFreeWorkloadParams = ParamsOf<typeof rcuTableFreeWorkloadParams>;

export const rcuTableFreeWorkload = defineScenario({
  id: "rcu-table-free-workload",
  modes: ["timed"],
  sampleUnits: { "tables awaiting a grace period": "tables", "bytes awaiting a grace period": "B" },
  fix: "rcu-table-free",
  title: "munmap / exit of an mm with N page tables: grace periods, batches, IPIs, memory held back (timed mode)",
  ops: rcuTableFreeOps,
  variants: rcuTableFreeVariants,
  machine: (p) => ({ cpus: p.cpus, rcu: true }),
  params: rcuTableFreeWorkloadParams,
  bounds: { maxSteps: 200_000_000 },
  setup(k, m, p) {
    m.ext.rcuTableBatchMax = p.batchMax;
    const pmds = Math.ceil(p.tables / PTRS) + 1;
    const w = new MmWorld(m, {
      frames: 2 * p.tables + pmds + 64 + Math.ceil(p.tables / 8),
      ptrsPerPte: PTRS,
      ptrsPerPmd: PTRS,
      ptrsPerPgd: 512,
      allocMayFail: p.failRate > 0,
      layout: PPC64,
    });
    powerpcHash(w, { ptegs: 2, tlbEntries: 2 });
    const mm = w.mm_alloc("mm");
    const span = PTRS * PAGE_SIZE;
    const vma = w.mmap_anon(mm, WBASE, p.tables * PTRS);
    for (let i = 0; i < p.tables; i++) populate(mm, WBASE + i * span, { write: true });
    w.mmap_anon(mm, WALK_ADDR, 1);
    populate(mm, WALK_ADDR, { write: true });
    installFailures(m, p.failRate, p.seed);
    const kk: RK = k;
    if (p.op === "exit") {
      mm.mm_users = 1;
      w.current_mm[0] = mm;
      m.spawn(0, "exit", timed_exit(kk, mm));
    } else {
      mm.mm_users = p.cpus;
      for (let c = 0; c < p.cpus; c++) w.current_mm[c] = mm;
      m.spawn(0, "munmap", timed_munmap(kk, mm, vma));
      for (let c = 1; c < p.cpus; c++) m.spawn(c, `gup${c}`, timed_gup(kk, mm, p.walks));
    }
  },
});

/** Allocation failures at the given rate, from a seeded generator (timed mode decides choose() this way). */
function installFailures(m: Machine, rate: number, seed: number): void {
  const rng = new Rng(seed);
  m.chooser = (n, label) => (label === "allocation fails" && rng.next() / 4294967296 < rate ? 1 : 0) % n;
}

export function* timed_munmap(k: RK, mm: MmStruct, vma: Vma): Gen {
  yield* k.switch_mm(mm);
  const t0 = k.now();
  k.m.ext.rcuTableT0 = t0;
  yield* k.unmap_region(vma, vma.start, vma.end, 0, 0);
  k.sample("munmap", k.now() - t0);
  k.sample("memory back after", k.now() - t0); // what was freed at once is back now
}

/**
 * The last thread exits (kernel/exit.c exit_mm, v3.0): a lazy reference for the active_mm it keeps running on
 * (mm_count++), current->mm = NULL, mmput (the last: exit_mmap), and the reference goes when the dead task is
 * switched out (finish_task_switch: mmdrop).
 */
export function* timed_exit(k: RK, mm: MmStruct): Gen {
  yield* k.switch_mm(mm);
  const t0 = k.now();
  k.m.ext.rcuTableT0 = t0;
  yield* k.mmgrab(mm);
  mm.w.current_mm[k.cpu()] = null;
  yield* k.mmput(mm);
  k.sample("exit", k.now() - t0);
  k.sample("memory back after", k.now() - t0);
  mm.w.current[k.cpu()] = null; // switched to the idle task
  yield* k.mmdrop(mm);
}

export function* timed_gup(k: RK, mm: MmStruct, walks: number): Gen {
  yield* k.switch_mm(mm);
  for (let i = 0; i < walks; i++) {
    const pages: PageFrame[] = [];
    const t0 = k.now();
    yield* k.get_user_pages_fast(WALK_ADDR, 1, false, pages);
    k.sample("gup_fast IRQ-off", k.now() - t0);
    for (const page of pages) yield* k.put_page(page);
  }
}

export interface RcuTableFreeCost {
  variant: string;
  op: string;
  tables: number;
  cpus: number;
  failRate: number;
  tablesFreed: number;
  batchesSubmitted: number;
  gracePeriods: number;
  /** IPI rounds of the fallback (smp_call_function calls) and IPIs delivered. */
  ipiRounds: number;
  ipis: number;
  peakTablesAwaiting: number;
  peakBytesAwaiting: number;
  /** From the start of the teardown until the last table is back with the allocator, ns. */
  memoryBackNs: number;
  /** The teardown's own latency (munmap or exit), ns. */
  latencyNs: number;
  gupIrqOffMaxNs: number;
  steps: number;
  wallMs: number;
}

/** Run one workload in virtual time and summarise it for plots. */
export function rcuTableFreeCost(
  variant: keyof typeof rcuTableFreeVariants,
  params: Partial<RcuTableFreeWorkloadParams>,
): RcuTableFreeCost {
  const r = runTimed(rcuTableFreeWorkload, { variant, params });
  if (r.violation) throw new Error(`workload hit ${r.violation.invariant}: ${r.violation.message}`);
  const p = { ...defaultParams(rcuTableFreeWorkloadParams), ...params };
  const c = r.counters;
  return {
    variant,
    op: p.op,
    tables: p.tables,
    cpus: p.cpus,
    failRate: p.failRate,
    tablesFreed: c["tables freed"] ?? 0,
    batchesSubmitted: c["table batches submitted"] ?? 0,
    gracePeriods: c["grace periods"] ?? 0,
    ipiRounds: c["IPI rounds"] ?? 0,
    ipis: c.IPIs ?? 0,
    peakTablesAwaiting: r.samples["tables awaiting a grace period"]?.max ?? 0,
    peakBytesAwaiting: r.samples["bytes awaiting a grace period"]?.max ?? 0,
    memoryBackNs: r.samples["memory back after"]?.max ?? 0,
    latencyNs: r.samples[p.op]?.max ?? 0,
    gupIrqOffMaxNs: r.samples["gup_fast IRQ-off"]?.max ?? 0,
    steps: r.steps,
    wallMs: r.wallMs,
  };
}
