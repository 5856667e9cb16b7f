// The sealed runtime: only lib/sim writes a context's announced step, and a pulled access (a hardware
// translation) is always announced with the objects it would touch in the current state.

import { describe, it, expect } from "vitest";
import * as fs from "fs";
import * as path from "path";
import { outcomes, defineScenario, Session } from "../../lib/explore/index";
import { simOps, event, READ, WRITE, PageAllocator, GFP_KERNEL } from "../../lib/sim/index";
import type { Context, Gen, PulledAccess } from "../../lib/sim/machine";

const E = event("test", "step");
const LIB = path.join(__dirname, "../../lib");

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Two threads: T1 repoints `target` from A to B, then writes B; T0's pulled access reads whatever `target` is. */
function pulledScenario(id: string) {
  return defineScenario({
    id,
    title: "pulled access",
    ops: simOps,
    variants: { base: {} },
    machine: { cpus: 2 },
    setup(k, m) {
      const X = m.newObj("X");
      const A = m.newObj("A");
      const B = m.newObj("B");
      const st = { target: A, valB: 0, seen: -1 };
      // Announces the pointer it follows and the object it reaches now: no write site re-announces it.
      const access: PulledAccess = { objects: () => [X, READ, st.target, READ] };
      m.spawn(
        0,
        "reader",
        (function* (): Gen {
          k.pulled(access, E);
          yield;
          st.seen = st.target === B ? st.valB : -2;
        })(),
      );
      m.spawn(
        1,
        "writer",
        (function* (): Gen {
          k.W(X, E);
          yield;
          st.target = B;
          k.W(B, E);
          yield;
          st.valB = 1;
        })(),
      );
      return { observe: () => String(st.seen) };
    },
  });
}

describe("sealed runtime", () => {
  it("no file outside lib/sim reaches the runtime's writable context", () => {
    const offenders: string[] = [];
    for (const f of tsFiles(LIB)) {
      if (path.dirname(f) === path.join(LIB, "sim")) continue;
      const src = fs.readFileSync(f, "utf8");
      if (/\bRtContext\b|\brt\(|\.(aObj2?|aKind2?|aExtra|setPull)\b|sim\/context"/.test(src))
        offenders.push(path.relative(LIB, f));
    }
    expect(offenders).toEqual([]);
  });

  it("a pulled access is announced with the objects of the current state after every step", () => {
    const sess = new Session(pulledScenario("test-pulled-now"));
    const m = sess.fresh();
    const reader: Context = m.ctxs[0];
    const before = [reader.obj, reader.kind, ...(reader.extra ?? [])];
    m.step(2); // writer: repoint target
    const after = [reader.obj, reader.kind, ...(reader.extra ?? [])];
    expect(before.map((o, i) => (i % 2 === 0 ? m.objName(o) : o))).toEqual(["X", READ, "A", READ]);
    expect(after.map((o, i) => (i % 2 === 0 ? m.objName(o) : o))).toEqual(["X", READ, "B", READ]);
  });

  it("DPOR reaches every final state of a pulled access that changes what it touches", () => {
    const s = pulledScenario("test-pulled-dpor");
    const full = outcomes(s);
    const red = outcomes(s, { reduce: true });
    expect(Object.keys(full.counts).sort()).toEqual(["-2", "0", "1"]);
    expect(Object.keys(red.counts).sort()).toEqual(Object.keys(full.counts).sort());
  });

  it("k.inFrame announces the word and its page; k.frameLive reports an access through a freed page", () => {
    const seen: string[] = [];
    const s = defineScenario({
      id: "test-in-frame",
      title: "in frame",
      ops: simOps,
      variants: { base: {} },
      machine: { cpus: 1 },
      setup(k, m) {
        const pa = new PageAllocator(m, { frames: 1 });
        const word = m.newObj("word");
        m.spawn(
          0,
          "t",
          (function* (): Gen {
            const f = (yield* k.alloc_page(pa, GFP_KERNEL, "table"))!;
            const gen = f.gen;
            k.inFrame(word, WRITE, f, E);
            seen.push(`${m.objName(m.cur.obj)}:${m.cur.kind}`, `${m.objName(m.cur.obj2)}:${m.cur.kind2}`);
            yield;
            seen.push(String(k.frameLive(f, gen, "walker")));
            yield* k.free_page(pa, f);
            k.inFrame(word, READ, f, E);
            yield;
            seen.push(String(k.frameLive(f, gen, "walker")));
          })(),
        );
      },
    });
    const m = new Session(s).fresh();
    while (m.enabledMask() !== 0 && !m.violation) m.step(0);
    expect(seen).toEqual(["word:1", "pfn[0]:0", "true", "false"]);
    expect(m.violation?.invariant).toBe("use-after-free");
    expect(m.violation?.message).toMatch(/walker touched pfn 0 after it was freed/);
  });
});
