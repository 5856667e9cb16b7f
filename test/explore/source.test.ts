// The model's own source: functionSource finds each function by identity, and variantDiff shows, on each
// side, the function that variant actually installs (kernel names repeat across eras and architectures).
import { describe, it, expect } from "vitest";
import "../../lib/fixes/index";
import "../../lib/examples/index";
import { scenarios, Session } from "../../lib/explore/scenario";
import * as fs from "fs";
import { compareFunctions, diffHunks, functionSource, unifiedDiff, variantDiff } from "../../lib/explore/source";
import { diffHtml, sideBySide } from "../../kernel/display/diff";
import { sourceFileOf } from "../../lib/sim/sources";
import { extract } from "../../lib/explore/model_text";
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

describe("unifiedDiff (jsdiff)", () => {
  const body = (changed: string) =>
    ["function f() {", ...Array.from({ length: 20 }, (_, i) => `  line${i};`), `  ${changed};`, "}"].join("\n");

  it("prints @@ hunks with three lines of context, not the whole function", () => {
    const d = unifiedDiff(body("old"), body("new"), "a", "b");
    const lines = d.split("\n");
    expect(lines.slice(0, 2)).toEqual(["--- a", "+++ b"]);
    expect(lines[2]).toBe("@@ -19,5 +19,5 @@");
    expect(lines).toContain("-  old;");
    expect(lines).toContain("+  new;");
    expect(d).not.toMatch(/line0;/); // far from the change: outside the context
    expect(lines.filter((l) => l.startsWith(" "))).toHaveLength(4);
  });

  it("numbers each hunk by the lines of the function's own file", () => {
    for (const c of variantDiff(lazyMmuBatch, "before", "after")) {
      for (const h of diffHunks(c.a.text, c.b.text)) expect(h.oldStart).toBeGreaterThan(0);
      const [abs] = [sourceFileOf(new Session(lazyMmuBatch, { variant: "after" }).k.installed[c.name])];
      const file = fs.readFileSync(abs!, "utf8").split("\n");
      for (const h of c.hunks) {
        // The first line a hunk shows on the after side is the file's line newStart.
        const first = h.lines.find((l) => !l.startsWith("-"));
        if (first) expect(file[h.newStart - 1], `${c.name} ${c.b.file}:${h.newStart}`).toBe(first.slice(1));
      }
      expect(c.diff).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@$/m);
    }
  });

  it("the side-by-side view pairs removals with additions and keeps context on both sides", () => {
    const c = compareFunctions(
      { name: "f", file: "", line: 0, text: body("old") },
      { name: "f", file: "", line: 0, text: body("new") },
    );
    const rows = sideBySide(c.hunks);
    expect(rows[0].kind).toBe("hunk");
    const change = rows.filter((r) => r.kind === "change");
    expect(change).toHaveLength(1);
    expect(change[0].left).toMatchObject({ text: "  old;", removed: true, n: 22 });
    expect(change[0].right).toMatchObject({ text: "  new;", added: true, n: 22 });
    const html = diffHtml([c]);
    expect(html).toMatch(/<td class="del"> {2}old;<\/td>/);
    expect(html).toMatch(/<td class="add"> {2}new;<\/td>/);
    expect(html).toMatch(/white-space:pre-wrap/); // long lines wrap instead of scrolling
  });
});

describe("extract (the declaration of a name in one file)", () => {
  it("ends a declaration at its own closing brace, even one on its first line", () => {
    const f = {
      rel: "lib/x.ts",
      text: "/** a */\nexport function* a(_k: K): Gen {}\n/** b */\nexport function* b(k: K): Gen<{ c: 1 }> {\n  yield;\n}\n",
    };
    expect(extract(f, "a")?.text).toBe("/** a */\nexport function* a(_k: K): Gen {}");
    expect(extract(f, "b")?.text).toBe("/** b */\nexport function* b(k: K): Gen<{ c: 1 }> {\n  yield;\n}");
  });
});
