// The model's own source: functionSource finds each function by identity, and variantDiff shows, on each
// side, the function that variant actually installs (kernel names repeat across eras and architectures).
import { describe, it, expect } from "vitest";
import "../../lib/fixes/index";
import "../../lib/examples/index";
import { scenarios, Session } from "../../lib/explore/scenario";
import { functionSource, variantDiff } from "../../lib/explore/source";
import { sourceFileOf } from "../../lib/sim/sources";
import * as ppcBatch from "../../lib/powerpc/tlb_batch";
import * as generic from "../../lib/mm/memory";
import { x86Ops } from "../../lib/x86/index";
import { powerpcHashOps } from "../../lib/powerpc/index";
import { lazyMmuBatch } from "../../lib/fixes/lazy-mmu-batch/scenario";

describe("functionSource", () => {
  it("tells same-named functions apart by identity", () => {
    expect(functionSource(ppcBatch.arch_enter_lazy_mmu_mode).file).toBe("lib/powerpc/tlb_batch.ts");
    expect(functionSource(generic.arch_enter_lazy_mmu_mode).file).toBe("lib/mm/memory.ts");
    expect(functionSource(x86Ops.tlb_flush).file).toBe("lib/x86/tlb.ts");
    expect(functionSource(powerpcHashOps.tlb_flush).file).toBe("lib/powerpc/tlb_batch.ts");
  });
  it("refuses an ambiguous name and finds a unique one", () => {
    expect(() => functionSource("tlb_flush")).toThrow(
      /defined in .*lib\/powerpc\/tlb_batch\.ts.*lib\/x86\/tlb\.ts|defined in .*lib\/x86\/tlb\.ts/,
    );
    expect(functionSource("hpte_need_flush").file).toBe("lib/powerpc/tlb_batch.ts");
  });
  it("shows a function defined outside lib/ as its own text", () => {
    function* my_leave(): Generator<void, void, unknown> {}
    const s = functionSource(my_leave);
    expect(s.file).toBe("");
    expect(s.text).toContain("my_leave");
  });
});

describe("variantDiff", () => {
  it("each side is the source of the function that variant installs, for every scenario and variant pair", () => {
    let pairs = 0;
    for (const def of scenarios()) {
      const names = Object.keys(def.variants);
      for (const a of names) {
        for (const b of names) {
          if (a === b) continue;
          const ia = new Session(def, { variant: a }).k.installed;
          const ib = new Session(def, { variant: b }).k.installed;
          for (const c of variantDiff(def, a, b)) {
            pairs++;
            for (const [side, inst] of [
              [c.a, ia[c.name]],
              [c.b, ib[c.name]],
            ] as const) {
              const abs = sourceFileOf(inst);
              expect(abs, `${def.id} ${a}/${b} ${c.name}: installed function has no registered source`).not.toBeNull();
              expect(side.file).not.toBe("");
              expect(abs!.split("\\").join("/").endsWith(side.file)).toBe(true);
              expect(side.text).toMatch(new RegExp(`export function\\*? ${inst.name.replace(/\$/g, "\\$")}\\(`));
            }
          }
        }
      }
    }
    expect(pairs).toBeGreaterThan(10);
  });
  it("shows powerpc's lazy-MMU hooks against the generic no-ops for fix 000", () => {
    const d = variantDiff(lazyMmuBatch, "before", "after");
    const enter = d.find((c) => c.name === "arch_enter_lazy_mmu_mode")!;
    expect(enter.a.file).toBe("lib/mm/memory.ts");
    expect(enter.b.file).toBe("lib/powerpc/tlb_batch.ts");
    expect(enter.diff).toMatch(/\+ .*batch->active = 1|\+ .*active = 1/);
  });
});
