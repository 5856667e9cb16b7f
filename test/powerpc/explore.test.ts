import { describe, it, expect } from "vitest";
import { simOps } from "../../lib/sim/index";
import type { Gen } from "../../lib/sim/machine";
import { defineScenario } from "../../lib/explore/scenario";
import { explore } from "../../lib/explore/explore";
import { mmOps, MmWorld, PAGE_SIZE, check_lost_writes } from "../../lib/mm/index";
import { powerpcHashOps, powerpcHash, prefault, get_vsid, va_to_vpn, PPC64 } from "../../lib/powerpc/index";
import type { PK } from "../../lib/powerpc/index";

const ops = { ...simOps, ...mmOps, ...powerpcHashOps };
const BASE = 0x10000000;

/** A zap that skips the hash flush entirely: the HPTE and TLB entries outlive the PTE and the page. */
function* hpte_need_flush_never(_k: PK): Gen {}

const zapVsStore = defineScenario({
  id: "test-ppc-zap-vs-store",
  title: "MADV_DONTNEED of a hashed page while another thread stores to it",
  ops,
  variants: { correct: {}, "no-hash-flush": { hpte_need_flush: hpte_need_flush_never } },
  machine: { cpus: 2 },
  params: {},
  bounds: { preemptions: 2, maxSteps: 400 },
  setup(k, m) {
    const w = new MmWorld(m, { layout: PPC64, frames: 12, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2 });
    powerpcHash(w, { ptegs: 2, tlbEntries: 2 });
    const mm = w.mm_alloc();
    const vma = w.mmap_anon(mm, BASE, 2);
    prefault(mm, BASE, { tlbCores: [1] });
    const kk = k as unknown as PK;
    m.spawn(
      0,
      "madvise",
      (function* (): Gen {
        yield* kk.switch_mm(mm);
        yield* kk.zap_page_range(vma, BASE, PAGE_SIZE);
      })(),
    );
    m.spawn(
      1,
      "user",
      (function* (): Gen {
        yield* kk.switch_mm(mm);
        yield* kk.user_access(mm, BASE, true);
        yield* kk.user_access(mm, BASE, false);
      })(),
    );
  },
});

describe("two CPUs on a hash MMU under the explorer", () => {
  it("correct locking: zap vs fault/store is clean in the whole bounded space", () => {
    const r = explore(zapVsStore, { strategy: "dfs", timeLimitMs: 20000 });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
    expect(r.executions).toBeGreaterThan(1);
  });
  it("a zap that skips the hash flush is caught, with a named invariant", () => {
    const r = explore(zapVsStore, { strategy: "dfs", variant: "no-hash-flush", timeLimitMs: 20000 });
    expect(r.violation).not.toBeNull();
    expect(["stale-translation", "hpte-multi-hit", "use-after-free"]).toContain(r.violation!.invariant);
  });
});

const fileWriteback = defineScenario({
  id: "test-ppc-writeback-vs-store",
  title: "writeback of a shared file page while a thread stores to it",
  ops,
  variants: { correct: {} },
  machine: { cpus: 2 },
  params: {},
  bounds: { preemptions: 2, maxSteps: 400 },
  setup(k, m) {
    const w = new MmWorld(m, { layout: PPC64, frames: 12, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2 });
    powerpcHash(w, { ptegs: 2, tlbEntries: 2 });
    const file = w.newFile("f", 1);
    const mm = w.mm_alloc();
    w.mmap_file(mm, BASE, 1, file);
    const pfn = prefault(mm, BASE, { write: true, data: 7, tlbCores: [1] });
    const kk = k as unknown as PK;
    m.spawn(
      0,
      "writeback",
      (function* (): Gen {
        yield* kk.write_one_page(w.pa.frames[pfn]);
      })(),
    );
    m.spawn(
      1,
      "user",
      (function* (): Gen {
        yield* kk.switch_mm(mm);
        yield* kk.user_access(mm, BASE, true);
      })(),
    );
    return { final: () => check_lost_writes(k) };
  },
});

describe("writeback vs a store on a hash MMU", () => {
  it("page_mkclean + writeback never loses the store", () => {
    const r = explore(fileWriteback, { strategy: "dfs", timeLimitMs: 20000 });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });
});

// Fix 000's pre-fix shape, minimally: hpte_need_flush queues, and only tlb_flush (at tlb_finish_mmu) drains.
const batches = new WeakMap<object, { id: number; q: [number, number][] }>();
function* hpte_need_flush_deferred(k: PK, mm: any, addr: number, _ptep: unknown, pte: number): Gen {
  const b = batches.get(k.m)!;
  k.W(b.id, { id: -1, fn: "hpte_update", what: "queue in batch", cost: "mem", counter: null });
  yield;
  b.q.push([va_to_vpn(get_vsid(mm.contextId, addr), addr), pte]);
}
function* tlb_flush_pending(k: PK): Gen {
  const b = batches.get(k.m)!;
  k.W(b.id, { id: -1, fn: "flush_tlb_pending", what: "take batch", cost: "mem", counter: null });
  yield;
  const q = b.q.splice(0);
  for (const [vpn, pte] of q) yield* k.flush_hash_page(vpn, pte, false);
}

const deferred = defineScenario({
  id: "test-ppc-deferred-flush",
  title: "hash flush deferred past the PTL (fix 000 before the fix)",
  ops,
  variants: { deferred: { hpte_need_flush: hpte_need_flush_deferred, tlb_flush: tlb_flush_pending }, immediate: {} },
  machine: { cpus: 2 },
  params: {},
  bounds: { preemptions: 2, maxSteps: 400 },
  setup(k, m) {
    batches.set(m, { id: m.newObj("ppc64_tlb_batch"), q: [] });
    const w = new MmWorld(m, { layout: PPC64, frames: 12, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2 });
    powerpcHash(w, { ptegs: 2, tlbEntries: 2 });
    const mm = w.mm_alloc();
    const vma = w.mmap_anon(mm, BASE, 2);
    prefault(mm, BASE, { write: false }); // clean: its HPTE is read-only, so a store takes a hash fault
    const kk = k as unknown as PK;
    m.spawn(
      0,
      "madvise",
      (function* (): Gen {
        yield* kk.switch_mm(mm);
        yield* kk.zap_page_range(vma, BASE, PAGE_SIZE);
      })(),
    );
    m.spawn(
      1,
      "user",
      (function* (): Gen {
        yield* kk.switch_mm(mm);
        yield* kk.user_access(mm, BASE, true);
      })(),
    );
  },
});

describe("the invariants name fix 000's harm", () => {
  it("a flush deferred to tlb_finish_mmu lets a new PTE coexist with the old translation", () => {
    const r = explore(deferred, { strategy: "dfs", variant: "deferred", timeLimitMs: 20000 });
    expect(r.violation).not.toBeNull();
    expect(["stale-translation", "hpte-multi-hit"]).toContain(r.violation!.invariant);
  });
  it("the immediate flush (default hpte_need_flush) is clean", () => {
    const r = explore(deferred, { strategy: "dfs", variant: "immediate", timeLimitMs: 20000 });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });
});
