import { describe, it, expect } from "vitest";
import { simOps } from "../../lib/sim/index";
import type { Gen } from "../../lib/sim/machine";
import { defineScenario } from "../../lib/explore/scenario";
import { explore } from "../../lib/explore/explore";
import { mmOps, MmWorld, PAGE_SIZE, check_lost_writes } from "../../lib/mm/index";
import { powerpcHashOps, powerpcHash, prefault } from "../../lib/powerpc/index";
import type { PK } from "../../lib/powerpc/index";

const ops = { ...simOps, ...mmOps, ...powerpcHashOps };
const BASE = 0x10000000;

/** A zap that skips the hash flush entirely: the HPTE and TLB entries outlive the PTE and the page. */
function* hpte_need_flush_never(k: PK): Gen {
  void k;
}

const zapVsStore = defineScenario({
  id: "test-ppc-zap-vs-store",
  title: "MADV_DONTNEED of a hashed page while another thread stores to it",
  ops,
  variants: { correct: {}, "no-hash-flush": { hpte_need_flush: hpte_need_flush_never } },
  machine: { cpus: 2 },
  params: {},
  bounds: { preemptions: 2, maxSteps: 400 },
  setup(k, m) {
    const w = new MmWorld(m, { frames: 12, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2 });
    powerpcHash(w, { ptegs: 2, tlbEntries: 2 });
    const mm = w.mm_alloc();
    const vma = w.mmap_anon(mm, BASE, 2);
    prefault(mm, BASE, { tlbCores: [1] });
    const kk = k as unknown as PK;
    m.spawn(0, "madvise", (function* (): Gen {
      yield* kk.switch_mm(mm);
      yield* kk.zap_page_range(vma, BASE, PAGE_SIZE);
    })());
    m.spawn(1, "user", (function* (): Gen {
      yield* kk.switch_mm(mm);
      yield* kk.user_access(mm, BASE, true);
      yield* kk.user_access(mm, BASE, false);
    })());
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
    const w = new MmWorld(m, { frames: 12, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2 });
    powerpcHash(w, { ptegs: 2, tlbEntries: 2 });
    const file = w.newFile("f", 1);
    const mm = w.mm_alloc();
    w.mmap_file(mm, BASE, 1, file);
    const pfn = prefault(mm, BASE, { write: true, data: 7, tlbCores: [1] });
    const kk = k as unknown as PK;
    m.spawn(0, "writeback", (function* (): Gen {
      yield* kk.write_one_page(w.pa.frames[pfn]);
    })());
    m.spawn(1, "user", (function* (): Gen {
      yield* kk.switch_mm(mm);
      yield* kk.user_access(mm, BASE, true);
    })());
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
