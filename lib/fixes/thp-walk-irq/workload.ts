// Fix 004 in timed mode: what the IRQ-off walks and the IPIs that wait for them cost. On `cpus` CPUs:
//  - CPU 0, qemu tearing down a guest's RAM (qemu_ram_munmap): munmap of `pmds` huge pmds, each zap_huge_pmd →
//    pmdp_get_and_clear, which since 13bd817bb884 kicks every other CPU (variant before; 2020's after: no IPI).
//    That guest's memslots are gone by then, so no KVM notifier work;
//  - CPU 1, khugepaged: `collapses` collapses in a second, running guest's memory (pmdp_clear_flush's IPI,
//    kept in 2020 for hash: parallel hash inserts);
//  - CPU 2, qemu of that guest restoring `walks` HPTEs (kvm_htab_write → H_ENTER): an IRQ-off walk each since
//    691e95fd (before), under kvm->mmu_lock since 2020 (after). Its IRQ-off time delays the IPIs above;
//  - CPU 3 (if `splits`): splits of that guest's THPs (v4.1's split_huge_page: pmdp_splitting_flush's IPI).
// Samples: IRQ-off time per walk, virtual time per zapped pmd and per collapse, IPI rounds' wait.

import { int, defaultParams } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import { ModelError } from "../../sim/machine";
import type { Gen, Machine } from "../../sim/machine";
import { defineSources } from "../../sim/sources";
import { runTimed } from "../../explore/timed";
import type { TimedResult } from "../../explore/timed";
import { costModel } from "../../sim/cost";
import type { CostModel } from "../../sim/cost";
import { MmWorld, PMD_LEVEL } from "../../mm/mm_types";
import type { MmStruct } from "../../mm/mm_types";
import { pfn_pte, PAGE_SIZE } from "../../mm/pgtable";
import { _PAGE_PRESENT, _PAGE_USER, _PAGE_RW, _PAGE_ACCESSED, _PAGE_DIRTY } from "../../powerpc/pgtable_ppc64";
import { Kvm, KvmWorld, H_EXACT, GUEST_VSID } from "../../kvm/index";
import { HPTE_V_VALID, PP_RW, guest_vpn, hpte_encode_avpn } from "../../hw/power7";
import * as era from "./era";
import * as later from "./later";
import * as pgtable2015 from "./pgtable_64_2015";
import type { LK } from "./later";
import { thpPmdClearOps } from "./pmd_clear";

export const thpWorkloadParams = {
  cpus: int(2, 15, 4, "CPUs of the host (every IPI goes to all but the sender; the runtime has at most 15)"),
  pmds: int(0, 4096, 64, "huge pmds (THPs) qemu munmaps when it frees a guest's RAM"),
  collapses: int(0, 256, 4, "2-page ranges khugepaged collapses in the running guest's memory"),
  walks: int(0, 4096, 16, "H_ENTERs (kvm_htab_write) the running guest's qemu makes meanwhile"),
  splits: int(
    0,
    256,
    0,
    "THPs of the running guest split meanwhile, on CPU 3: v4.1's split_huge_page in either variant (the 2020 split, post-2016, sends no IPI since 'Avoid sending IPI on clearing PMD': not modelled here)",
  ),
};
export type ThpWorkloadParams = ParamsOf<typeof thpWorkloadParams>;

/** Host address of the running guest's memory (its memslot's userspace_addr). */
const GUEST_BASE = 0x400000;
const HPT_ORDER = 18;

/** Map [addr, +1 pmd) with a huge pmd and its deposited PTE page (no steps: the initial state). */
export function mapHuge(w: MmWorld, mm: MmStruct, addr: number): void {
  const deposit = w.buildTables(mm, addr).pt;
  const pmdt = w.child(mm.pgd.ent[w.index(0, addr)])!;
  const i = w.index(PMD_LEVEL, addr);
  const huge = w.pa.take("thp");
  w.page(huge).mapcount = 1;
  pmdt.ent[i] = era.mk_huge_pmd(huge);
  const s = era.thp(w.m);
  s.deposited.set(pmdt.base + i, deposit);
  s.depositedTables.add(deposit);
  deposit.frame.use = "deposited pgtable (THP hash-slot array)";
}

/** Instrumentation: arch_local_irq_save/restore that sample the IRQ-off time of each region they bracket. */
export function* irq_save_sampled(k: LK): Gen<bigint> {
  const f = yield* era.arch_local_irq_save(k);
  ((k.m.ext.irqOffSince ??= []) as number[])[k.cpu()] = k.now();
  return f;
}
export function* irq_restore_sampled(k: LK, en: bigint): Gen {
  const since = (k.m.ext.irqOffSince as number[] | undefined)?.[k.cpu()];
  yield* era.arch_local_irq_restore(k, en);
  if (since !== undefined && en !== 0n) k.sample("IRQ-off ns per walk", k.now() - since);
}

defineSources(__dirname, { workload: { irq_save_sampled, irq_restore_sampled } });

/** CPU 0: qemu_ram_munmap of the torn-down guest's RAM: notifiers around the range, zap_huge_pmd per pmd. */
export function* qemu_ram_munmap(k: LK, mm: MmStruct, start: number, n: number): Gen {
  if (n === 0) return;
  const w = mm.w;
  const span = w.span(PMD_LEVEL);
  yield* k.mmu_notifier_invalidate_range_start(mm, start, start + n * span);
  for (let j = 0; j < n; j++) {
    const addr = start + j * span;
    const pmdt = w.child(mm.pgd.ent[w.index(0, addr)])!;
    const t = k.now();
    yield* k.zap_huge_pmd(mm, pmdt, w.index(PMD_LEVEL, addr), addr);
    k.sample("ns per zapped pmd", k.now() - t);
  }
  yield* k.mmu_notifier_invalidate_range_end(mm, start, start + n * span);
}

/** CPU 1: khugepaged collapsing each 2-page range of the running guest's memory in turn. */
export function* khugepaged_ranges(k: LK, mm: MmStruct, n: number): Gen {
  const span = mm.w.span(PMD_LEVEL);
  for (let j = 0; j < n; j++) {
    const t = k.now();
    yield* k.collapse_huge_page(mm, GUEST_BASE + j * span);
    k.sample("ns per collapse", k.now() - t);
  }
}

/** CPU 3: splits of the running guest's THPs (ranges `from` on), each with pmdp_splitting_flush's IPI. */
export function* split_ranges(k: LK, mm: MmStruct, from: number, n: number): Gen {
  const span = mm.w.span(PMD_LEVEL);
  for (let j = from; j < from + n; j++) {
    const t = k.now();
    yield* k.split_huge_page(mm, GUEST_BASE + j * span);
    k.sample("ns per split", k.now() - t);
  }
}

/** CPU 2: the running guest's qemu restoring HPTEs, one H_ENTER per guest page in turn. */
export function* htab_write_loop(k: LK, kvm: Kvm, npages: number, n: number): Gen {
  for (let j = 0; j < n; j++) {
    const g = j % npages;
    const vpn = guest_vpn(GUEST_VSID, PAGE_SIZE * (g + 1));
    const pteh = hpte_encode_avpn(vpn) | HPTE_V_VALID;
    const ptel = (BigInt(g) << 12n) | PP_RW;
    yield* k.kvmppc_virtmode_do_h_enter(kvm, H_EXACT, kvm.arch.hpt.group(vpn, false), pteh, ptel);
  }
}

export const thpWalkIrqWorkload = defineScenario({
  id: "thp-walk-irq-workload",
  modes: ["timed"],
  fix: "thp-walk-irq",
  title: "THP on ppc64 hash: IRQ-off walks, IPIs per collapse and per pmd clear, a THP-backed guest's munmap (timed)",
  ops: { ...thpPmdClearOps, arch_local_irq_save: irq_save_sampled, arch_local_irq_restore: irq_restore_sampled },
  variants: {
    /** 691e95fd + 13bd817bb884 (v4.1 to v5.7): IRQ-off walks, an IPI for every huge pmd cleared. */
    before: { pmdp_get_and_clear: pgtable2015.pmdp_get_and_clear },
    /** The 2020 series (v5.8): no IPI on a pmd clear, KVM's walk under kvm->mmu_lock. */
    after: { kvmppc_do_h_enter: later.kvmppc_do_h_enter },
  },
  machine: (p) => ({ cpus: p.cpus }),
  params: thpWorkloadParams,
  bounds: { maxSteps: 20_000_000 },
  setup(k, m: Machine, p) {
    era.useLazyIrqs(m); // ppc64 of v4.x: lazy (soft) IRQ disabling
    const kk = k as unknown as LK;
    const frames = 2 * p.pmds + 4 * p.collapses + 2 * p.splits + Math.ceil(p.pmds / 512) + 16;
    const w = new MmWorld(m, { frames, ptrsPerPte: 2, ptrsPerPmd: 512, ptrsPerPgd: 16, layout: era.PPC64_64K });
    const torn = w.mm_alloc("qemu-a"); // the guest whose RAM is freed
    for (let j = 0; j < p.pmds; j++) mapHuge(w, torn, j * w.span(PMD_LEVEL));
    const mm = w.mm_alloc("qemu-b"); // the running guest
    const npages = Math.max(2, 2 * (p.collapses + p.splits));
    w.mmap_anon(mm, GUEST_BASE, npages);
    for (let g = 0; g < 2 * p.collapses; g++) {
      const f = w.pa.take("anon");
      const prot = _PAGE_PRESENT | _PAGE_USER | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
      w.buildTables(mm, GUEST_BASE + g * PAGE_SIZE).v = pfn_pte(f.pfn, prot, era.PPC64_64K);
      w.page(f).mapcount = 1;
    }
    for (let j = p.collapses; j < p.collapses + p.splits; j++) mapHuge(w, mm, GUEST_BASE + j * w.span(PMD_LEVEL));
    const kw = new KvmWorld(m, { frames: 1 });
    const kvm = new Kvm(kw, 1, 1, HPT_ORDER, npages);
    m.ext.thpKvm = { mm, kvm };
    m.ext.thpHvaBase = GUEST_BASE;
    w.current_mm[0] = torn;
    m.spawn(0, "qemu-a munmap", qemu_ram_munmap(kk, torn, 0, p.pmds));
    if (p.cpus > 1) m.spawn(1, "khugepaged", khugepaged_ranges(kk, mm, p.collapses));
    if (p.cpus > 2 && 2 * p.collapses > 0)
      m.spawn(2, "qemu-b htab_write", htab_write_loop(kk, kvm, 2 * p.collapses, p.walks));
    if (p.splits > 0) {
      if (p.cpus < 4) throw new ModelError("splits run on CPU 3: give the workload at least 4 CPUs");
      m.spawn(3, "split", split_ranges(kk, mm, p.collapses, p.splits));
    }
  },
});

/** What one timed run measured. */
export interface ThpWorkloadCost {
  variant: string;
  params: ThpWorkloadParams;
  makespanNs: number;
  ipis: number;
  ipiRounds: number;
  /** Mean virtual ns per zapped pmd (munmap), per collapse, and IRQ-off ns per walk (0 when none). */
  nsPerPmd: number;
  nsPerCollapse: number;
  nsPerSplit: number;
  irqOffNsPerWalk: number;
  irqOffMaxNs: number;
  violation: string | null;
}

/** Run the workload once in timed mode (cost overrides optional) and pick out its figures. */
export function thpWorkloadCost(
  variant: "before" | "after",
  params: Partial<ThpWorkloadParams> = {},
  costs: Partial<CostModel> = {},
): ThpWorkloadCost {
  const r: TimedResult = runTimed(thpWalkIrqWorkload, { variant, params, costs });
  const p = { ...defaultParams(thpWorkloadParams), ...params };
  const s = r.samples;
  return {
    variant,
    params: p,
    makespanNs: r.makespanNs,
    ipis: r.counters["IPIs"] ?? 0,
    ipiRounds: r.counters["IPI rounds"] ?? 0,
    nsPerPmd: s["ns per zapped pmd"]?.mean ?? 0,
    nsPerCollapse: s["ns per collapse"]?.mean ?? 0,
    nsPerSplit: s["ns per split"]?.mean ?? 0,
    irqOffNsPerWalk: s["IRQ-off ns per walk"]?.mean ?? 0,
    irqOffMaxNs: s["IRQ-off ns per walk"]?.max ?? 0,
    violation: r.violation ? r.violation.invariant : null,
  };
}

/** The primer's guest: 496 GiB of RAM in 2 MiB THPs (radix, as in the 2020 measurement): 253,952 pmds. */
export const PRIMER_GUEST_PMDS = (496 * 2 ** 30) / 2 ** 21;

/**
 * The runtime's cost of one IPI round that waits, beyond the first send: the other sends overlap the first IPI's
 * flight, so it is max(flight + handler entry, the remaining send loop). Used to carry the measured per-pmd cost
 * from the 15 CPUs the runtime allows to the primer's 128.
 */
export function ipiRoundNs(cpus: number, costs: Partial<CostModel> = {}): number {
  const c = costModel(costs);
  return Math.max(c.ipi + c.irq_entry, Math.max(0, cpus - 2) * c.ipi_send);
}

/**
 * The model's counterpart of the primer's munmap (82 s → 39 ms, 128 CPUs, 496 GiB): the per-pmd cost measured
 * at `measuredAt` CPUs, carried to `cpus` by ipiRoundNs, times the pmd count. Seconds, before and after.
 */
export function primerMunmap(
  cpus = 128,
  pmds = PRIMER_GUEST_PMDS,
  costs: Partial<CostModel> = {},
  measuredAt = 15,
  sample = 32,
): { before: number; after: number; perPmdNs: { before: number; after: number } } {
  const run = (v: "before" | "after") =>
    thpWorkloadCost(v, { cpus: measuredAt, pmds: sample, collapses: 0, walks: 0, splits: 0 }, costs).nsPerPmd;
  const beforeNs = run("before") - ipiRoundNs(measuredAt, costs) + ipiRoundNs(cpus, costs);
  const afterNs = run("after");
  return {
    before: (beforeNs * pmds) / 1e9,
    after: (afterNs * pmds) / 1e9,
    perPmdNs: { before: beforeNs, after: afterNs },
  };
}
