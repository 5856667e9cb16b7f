// x86's TLB shootdown is an IPI that waits (v3.14 flush_tlb_mm_range → native_flush_tlb_others →
// smp_call_function_many(flush_tlb_func, wait=1)): a lockless walker with IRQs off holds the unmapper's
// shootdown off, so the page-table page freed after it is never read by the walker. The controls show the
// same scenario failing when the shootdown does not wait for the walker. Fix 001 reuses this scenario.

import { describe, it, expect } from "vitest";
import { simOps, event, READ } from "../../lib/sim/index";
import type { Gen, Machine } from "../../lib/sim/index";
import { defineScenario, explore, outcomes, runTimed } from "../../lib/explore/index";
import { int } from "../../lib/explore/params";
import { mmOps, MmWorld, PAGE_SIZE, populate, checkTable, pte_present } from "../../lib/mm/index";
import type { MmStruct, PtPage } from "../../lib/mm/index";
import { WRITE } from "../../lib/sim/index";
import { x86Ops, x86Mmu, x86Hw, FlushTlbInfo, TLB_FLUSH_ALL, X86 } from "../../lib/x86/index";
import type { XK } from "../../lib/x86/index";
import { tagOf } from "../../lib/hw/index";

const BASE = 0x10000000;
const ops = { ...simOps, ...mmOps, ...x86Ops };

const E_PGD = event("pgd_offset", "read pgd entry (IRQs off)");
const E_PMD = event("pmd_offset", "read pmd entry (IRQs off)");
const E_PTE = event("pte_offset_map", "read PTE (IRQs off)");

/** One entry of `t` for addr, read as one step that checks `t` is still live; the child table, or null. */
function* readEntry(k: XK, t: PtPage, addr: number, ev: ReturnType<typeof event>): Gen<number | null> {
  const i = t.w.index(t.level, addr);
  k.RW2(t.base + i, READ, t.frame.id, READ, ev);
  yield;
  return checkTable(k, t, "irq-off walker") ? t.ent[i] : null;
}

/** The walk: pgd entry, pmd entry, PTE; "pte", "pte none" or "no table". */
function* walk(k: XK, mm: MmStruct, addr: number): Gen<string> {
  const w = mm.w;
  const g = yield* readEntry(k, mm.pgd, addr, E_PGD);
  const pmd = g === null ? null : w.child(g);
  if (pmd === null) return "no table";
  const e = yield* readEntry(k, pmd, addr, E_PMD);
  const pt = e === null ? null : w.child(e); // the pointer the walker keeps: its table may be freed under it
  if (pt === null) return "no table";
  const pte = yield* readEntry(k, pt, addr, E_PTE);
  return pte !== null && pte_present(pte, w.L) ? "pte" : "pte none";
}

/** CPU 1: a gup_fast-style lockless walk with IRQs off (the minimal version; fix 001 brings the real one). */
function* irqoff_walker(k: XK, mm: MmStruct, addr: number, out: { seen: string }): Gen {
  yield* k.local_irq_disable();
  out.seen = yield* walk(k, mm, addr);
  yield* k.local_irq_enable();
}

/** CPU 0: munmap of the vma: unmap_region frees its PTE table after tlb_flush (the shootdown). */
function* munmap(k: XK, mm: MmStruct): Gen {
  const vma = mm.vmas[0];
  yield* k.unmap_region(vma, vma.start, vma.end, vma.start, vma.end);
}

function build(k: XK, m: Machine) {
  const w = new MmWorld(m, { frames: 8, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2, layout: X86 });
  x86Mmu(w, { tlbEntries: 2 });
  const mm = w.mm_alloc("a");
  w.mmap_anon(mm, BASE, 2); // one PTE table's worth, so free_pgtables frees it
  populate(mm, BASE);
  mm.cpu_vm_mask = 0b11; // both CPUs run the mm: the unmapper's flush must reach the walker
  const out = { seen: "" };
  m.spawn(0, "munmap", munmap(k, mm));
  m.spawn(1, "walker", irqoff_walker(k, mm, BASE, out));
  return { observe: () => out.seen };
}

const walkerVsFree = defineScenario({
  id: "test-x86-irqoff-walk-vs-table-free",
  title: "x86: an IRQ-off page-table walker against munmap freeing the PTE table",
  ops,
  variants: { v314: {} },
  machine: { cpus: 2 },
  bounds: { preemptions: Infinity, maxSteps: 400 },
  setup: (k, m) => build(k as unknown as XK, m),
});

/** Control: native_flush_tlb_others that does not wait for its handlers (wait=0). */
function* flush_tlb_others_nowait(k: XK, cpumask: number, mm: MmStruct, start: number, end: number): Gen {
  yield* k.smp_call_function_many(cpumask, "flush_tlb_func", flush_ipi, new FlushTlbInfo(mm, start, end), false);
}
function* flush_ipi(k: unknown, info: unknown): Gen {
  yield* (k as XK).flush_tlb_func(info as FlushTlbInfo);
}

/** Control: the model's old shootdown, one atomic step invalidating every core's TLB, waiting for nobody. */
const E_OLD = event("flush_tlb_mm_range", "shootdown: every core's TLB (old one-step model)");
function* flush_tlb_mm_range_one_step(k: XK, mm: MmStruct, start: number, end: number): Gen {
  const hw = x86Hw(mm.w);
  const pairs: number[] = [];
  for (let c = 0; c < hw.tlb.cores; c++) pairs.push(hw.tlb.obj(c), WRITE);
  k.multi(pairs, E_OLD);
  yield;
  for (let a = start; a < end; a += PAGE_SIZE) hw.tlb.invalidateAll(tagOf(mm, a));
}

describe("x86 TLB shootdown by IPI", () => {
  it("an IRQ-off walker never reads the freed PTE table: exhaustive, clean", () => {
    const r = explore(walkerVsFree, { strategy: "dfs" });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });

  it("the walk races for real: it reads the PTE in some schedules and finds the table gone in others", () => {
    const o = outcomes(walkerVsFree, { reduce: true });
    expect(o.exhaustive).toBe(true);
    expect(o.counts["use-after-free"]).toBeUndefined();
    expect(o.counts.pte).toBeGreaterThan(0);
    expect(o.counts["no table"]).toBeGreaterThan(0);
  });

  for (const [name, overrides] of [
    ["flush_tlb_others that does not wait (wait=0)", { flush_tlb_others: flush_tlb_others_nowait }],
    ["the old one-step shootdown", { flush_tlb_mm_range: flush_tlb_mm_range_one_step }],
  ] as const) {
    it(`control, ${name}: the walker reads the freed table`, () => {
      const r = explore(walkerVsFree, { strategy: "dfs", overrides });
      const v = r.violation!;
      expect(v).not.toBeNull();
      expect(v.invariant).toBe("use-after-free");
      expect(v.message).toMatch(/irq-off walker \(page-table walk\)/);
      expect(v.trace[v.at].fn).toBe("pte_offset_map");
      expect(v.trace.map((t) => t.fn)).toEqual(
        expect.arrayContaining(["free_pgtables", "__free_pages", "local_irq_disable"]),
      );
    });
  }
});

describe("flush_tlb_mm_range (v3.14): INVLPG per page up to the tlb_flushall_shift ceiling, CR3 reload above", () => {
  const E = event("test", "flush");
  function* flusher(k: XK, mm: MmStruct, pages: number): Gen {
    k.local(E);
    yield;
    yield* k.flush_tlb_mm_range(mm, BASE, pages === -1 ? TLB_FLUSH_ALL : BASE + pages * PAGE_SIZE, 0);
  }
  const s = defineScenario({
    id: "test-x86-flush-range",
    title: "x86: one flush_tlb_mm_range of N pages, mm on `cpus` CPUs",
    ops,
    variants: { v314: {} },
    machine: (p) => ({ cpus: Math.max(p.cpus, 1) }),
    params: { pages: int(-1, 512, 1, "pages to flush; -1: TLB_FLUSH_ALL"), cpus: int(1, 8, 2) },
    setup(k, m, p) {
      const w = new MmWorld(m, { frames: 64, ptrsPerPte: 512, ptrsPerPmd: 2, ptrsPerPgd: 2, layout: X86 });
      x86Mmu(w, { tlbEntries: 4 });
      const mm = w.mm_alloc("a");
      w.mmap_anon(mm, BASE, 32);
      mm.cpu_vm_mask = (1 << p.cpus) - 1;
      m.spawn(0, "flusher", flusher(k as unknown as XK, mm, p.pages));
    },
  });
  const run = (pages: number, cpus: number) => runTimed(s, { params: { pages, cpus } }).counters;

  it("8 pages (512 >> 6) are 8 INVLPGs here and 8 in the handler; 9 pages are one CR3 reload on each side", () => {
    expect(run(8, 2)).toMatchObject({ invlpg: 16, "tlb shootdowns": 1, "tlb flush IPIs received": 1 });
    expect(run(8, 2)["full tlb flushes"]).toBeUndefined();
    expect(run(9, 2)).toMatchObject({ "full tlb flushes": 2, "tlb shootdowns": 1 });
    expect(run(9, 2).invlpg).toBeUndefined();
    expect(run(-1, 2)).toMatchObject({ "full tlb flushes": 2 });
  });

  it("an mm on this CPU alone is a local flush, no IPI; on 4 CPUs one round of 3 IPIs", () => {
    const alone = run(1, 1);
    expect(alone).toMatchObject({ "local tlb flushes": 1, invlpg: 1 });
    expect(alone["tlb shootdowns"]).toBeUndefined();
    expect(alone.IPIs).toBeUndefined();
    expect(run(1, 4)).toMatchObject({
      "tlb shootdowns": 1,
      IPIs: 3,
      "IPI rounds": 1,
      "tlb flush IPIs received": 3,
      invlpg: 4,
    });
  });

  it("timed: the initiator pays the IPI latency, interrupt entry and the handler's flush", () => {
    const r = runTimed(s, { params: { pages: 9, cpus: 2 } });
    expect(r.waitNs[0]).toBeGreaterThanOrEqual(1800 + 300 + 3300);
  });
});
