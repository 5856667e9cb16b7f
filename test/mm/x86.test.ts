import { describe, it, expect } from "vitest";
import { simOps } from "../../lib/sim/index";
import type { Gen } from "../../lib/sim/machine";
import { defineScenario } from "../../lib/explore/scenario";
import { bool } from "../../lib/explore/params";
import { explore } from "../../lib/explore/explore";
import { mmOps, MmWorld, PAGE_SIZE, populate, check_lost_writes } from "../../lib/mm/index";
import { X86 } from "../../lib/x86/index";
import { TLB_W, TLB_C } from "../../lib/hw/index";
import type { K } from "../../lib/mm/index";
import { x86Ops, x86Mmu } from "../../lib/x86/index";

const ops = { ...simOps, ...mmOps, ...x86Ops };
const BASE = 0x10000000;

function build(k: any, m: any, withWriteback: boolean) {
  const w = new MmWorld(m, { frames: 12, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2, layout: X86 });
  const hw = x86Mmu(w, { tlbEntries: 2 });
  const file = w.newFile("f", 1);
  const mm = w.mm_alloc();
  const vma = w.mmap_file(mm, BASE, 1, file);
  const pfn = populate(mm, BASE, { write: true, data: 5 }); // dirty, writable: a store already happened
  mm.cpu_vm_mask = 0b11;
  hw.tlb.fill(1, mm.contextId * 2 ** 20 + BASE / PAGE_SIZE, pfn, w.pa.frames[pfn].gen, TLB_W | TLB_C);
  const kk = k as K;
  m.spawn(
    0,
    "munmap",
    (function* (): Gen {
      yield* kk.zap_page_range(vma, BASE, PAGE_SIZE);
    })(),
  );
  m.spawn(
    1,
    "user",
    (function* (): Gen {
      yield* kk.user_access(mm, BASE, true);
    })(),
  );
  if (withWriteback)
    m.spawn(
      2,
      "writeback",
      (function* (): Gen {
        yield* kk.write_one_page(w.pa.frames[pfn]);
      })(),
    );
  return { final: () => check_lost_writes(k, w) };
}

const s = defineScenario({
  id: "test-x86-dirty-tlb-vs-writeback",
  title: "x86: a dirty TLB entry outlives a zap while writeback cleans the page",
  ops,
  variants: { v314: {} },
  machine: { cpus: 3 },
  params: { writeback: bool(true) },
  bounds: { preemptions: 2, maxSteps: 400 },
  setup: (k, m, p: { writeback: boolean }) => build(k, m, p.writeback),
});

describe("x86-like TLB", () => {
  it("without writeback, a store through the stale dirty entry is not lost (the zap dirtied the page)", () => {
    const r = explore(s, { strategy: "dfs", params: { writeback: false }, timeLimitMs: 20000 });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  });
  it("with writeback, the v3.14 zap loses a store (fix 002's race, on the last mapping)", () => {
    const r = explore(s, { strategy: "dfs", timeLimitMs: 20000 });
    expect(r.violation?.invariant).toBe("lost-write");
  });
});
