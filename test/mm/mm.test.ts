import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { Machine } from "../../lib/sim/machine";
import type { Gen } from "../../lib/sim/machine";
import { makeKernel } from "../../lib/sim/kernel";
import { simOps } from "../../lib/sim/index";
import { PAGE_FREE } from "../../lib/sim/page_alloc";
import {
  mmOps,
  MmWorld,
  PAGE_SIZE,
  pfn_pte,
  pte_pfn,
  pte_present,
  pte_dirty,
  pte_write,
  pte_mkclean,
  pte_wrprotect,
  PMD_LEVEL,
  check_lost_writes,
} from "../../lib/mm/index";
import {
  powerpcHashOps,
  powerpcHash,
  PPC64,
  pte_hidx,
  pte_set_hidx,
  _PAGE_HASHPTE,
  _PAGE_BUSY,
  _PAGE_HPTEFLAGS,
} from "../../lib/powerpc/index";
import { X86 } from "../../lib/x86/index";
import type { PK } from "../../lib/powerpc/index";

const BASE = 0x10000000;

function runSerial(m: Machine): void {
  for (let n = 0; n < 50000; n++) {
    if (m.violation) return;
    const en = m.enabledMask();
    if (en === 0) return;
    m.step(31 - Math.clz32(en & -en));
  }
  throw new Error("did not finish");
}

describe("PTE bit helpers", () => {
  it("ppc64 2007 layout: pfn at bit 17, hidx nibble at 12-15, HPTEFLAGS", () => {
    const v = pfn_pte(5, PPC64.RW | PPC64.DIRTY, PPC64);
    expect(v).toBe((5 << 17) | 0x1 | 0x2 | 0x200 | 0x80);
    expect(pte_pfn(v, PPC64)).toBe(5);
    expect(pte_present(v, PPC64) && pte_write(v, PPC64) && pte_dirty(v, PPC64)).toBe(true);
    expect(pte_dirty(pte_mkclean(v, PPC64), PPC64)).toBe(false);
    expect(pte_write(pte_wrprotect(v, PPC64), PPC64)).toBe(false);
    const h = pte_set_hidx(v | _PAGE_HASHPTE, 0xb);
    expect(pte_hidx(h)).toBe(0xb);
    expect(h & 0xf000).toBe(0xb000);
    expect(_PAGE_HPTEFLAGS).toBe(0x800 | 0x400 | 0x8000 | 0x7000);
    expect(_PAGE_BUSY).toBe(0x800);
  });
  it("x86 layout: pfn at bit 12, dirty 0x40, RW 0x2", () => {
    const v = pfn_pte(7, X86.RW | X86.DIRTY, X86);
    expect(v).toBe((7 << 12) | 0x1 | 0x4 | 0x2 | 0x40);
    expect(pte_pfn(v, X86)).toBe(7);
    expect(pte_dirty(v, X86)).toBe(true);
  });
});

const ops = { ...simOps, ...mmOps, ...powerpcHashOps };
function world(frames = 32) {
  const k = makeKernel(ops) as unknown as PK;
  const m = new Machine({ cpus: 1 }, k);
  k.m = m;
  const w = new MmWorld(m, { layout: PPC64, frames, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2 });
  powerpcHash(w, { ptegs: 2, tlbEntries: 2 });
  return { k, m, w };
}

describe("page-table page lifecycle", () => {
  it("a fault allocates pmd and pte pages; free_pgtables unlinks and frees the pte page after the flush", () => {
    const { k, m, w } = world();
    const mm = w.mm_alloc();
    const vma = w.mmap_anon(mm, BASE, 2);
    const free0 = w.pa.freeCount;
    m.spawn(
      0,
      "t",
      (function* (): Gen {
        yield* k.switch_mm(mm);
        yield* k.user_access(mm, BASE, true);
      })(),
    );
    runSerial(m);
    expect(m.violation).toBeNull();
    expect(w.pa.freeCount).toBe(free0 - 3); // pmd page, pte page, data page
    const pt = w.lookup(mm, BASE)!.pt;
    m.spawn(
      0,
      "u",
      (function* (): Gen {
        const tlb = yield* k.tlb_gather_mmu(mm, false);
        yield* k.unmap_vmas(tlb, vma, vma.start, vma.end);
        yield* k.free_pgtables(tlb, vma, 0, 2 ** 31);
        yield* k.tlb_finish_mmu(tlb, vma.start, vma.end);
      })(),
    );
    runSerial(m);
    expect(m.violation).toBeNull();
    expect(pt.frame.state).toBe(PAGE_FREE);
    expect(pt.live).toBe(false);
    expect(w.lookup(mm, BASE)).toBeNull();
    expect(w.pa.freeCount).toBe(free0 - 1); // only the pmd page remains
    expect(w.span(PMD_LEVEL)).toBe(2 * PAGE_SIZE);
  });
});

type Op = { kind: "load" | "store" | "zap" | "writeback" | "reclaim"; page: number };
const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom<Op["kind"]>("load", "store", "zap", "writeback", "reclaim"),
  page: fc.integer({ min: 0, max: 3 }),
});

describe("property: single-CPU sequences never break an invariant", () => {
  it("random map/fault/access/unmap/writeback/reclaim on anon and shared-file memory", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 25 }), fc.boolean(), (seq, fileBacked) => {
        const { k, m, w } = world(40);
        const mm = w.mm_alloc();
        const file = w.newFile("f", 4);
        const vma = fileBacked ? w.mmap_file(mm, BASE, 4, file) : w.mmap_anon(mm, BASE, 4);
        const stores: number[] = [];
        m.spawn(
          0,
          "t",
          (function* (): Gen {
            yield* k.switch_mm(mm);
            for (const op of seq) {
              const ea = BASE + op.page * PAGE_SIZE;
              if (op.kind === "load" || op.kind === "store") {
                const ok = yield* k.user_access(mm, ea, op.kind === "store");
                if (!ok) throw new Error("SIGSEGV inside the vma");
                if (op.kind === "store") stores.push(w.storeSeq);
              } else if (op.kind === "zap") yield* k.zap_page_range(vma, ea, PAGE_SIZE);
              else if (op.kind === "writeback") {
                const pfn = file.pages[op.page];
                if (fileBacked && pfn >= 0) yield* k.write_one_page(w.pa.frames[pfn]);
              } else if (fileBacked) yield* k.shrink_page(file, op.page);
            }
          })(),
        );
        runSerial(m);
        if (m.violation === null) check_lost_writes(k, w);
        expect(m.violation).toBeNull();
        // every store is still visible: through a mapped page, the page cache or the disk
        if (fileBacked) {
          for (let i = 0; i < 4; i++) {
            const pfn = file.pages[i];
            const v = pfn >= 0 ? w.pa.frames[pfn].data : file.disk[i];
            if (pfn < 0) expect(v).toBe(file.disk[i]);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
