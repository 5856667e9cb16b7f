// A schedule string found by the CLI (dist/, compiled by tsc) or by this vitest process (esbuild) replays in a
// tslab notebook cell, and one found with an override written in a cell replays there with that override:
// fingerprints hash the model's TS, not the JS a compiler printed.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runNotebook } from "../../kernel/run-notebook";
import { explore } from "../../lib/explore/explore";
import { lazyMmuBatch } from "../../lib/fixes/lazy-mmu-batch/scenario";
import { ROOT, scratch, settings, streamText } from "./helpers";

/** The first violation `flushlab explore` finds (exit 1), from dist/ as a user runs it. */
function cliFinds(id: string, variant: string): { schedule: string; invariant: string; steps: number } {
  try {
    execFileSync(
      process.execPath,
      [path.join(ROOT, "dist", "lib", "cli", "main.js"), "explore", id, "--variant", variant, "--json"],
      { encoding: "utf8" },
    );
  } catch (e) {
    return JSON.parse((e as { stdout: string }).stdout).violation;
  }
  throw new Error(`${id}/${variant}: the CLI found no violation`);
}

const code = (source: string, tags?: string[]) => ({
  cell_type: "code",
  metadata: tags ? { tags } : {},
  source,
  outputs: [],
  execution_count: null,
});

const NOTEBOOK = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
  cells: [
    code('let lostUpdate = "";\nlet split = "";\nlet lazy = "";', ["parameters"]),
    code('import * as fl from "flushlab";'),
    code(
      [
        'const a = fl.replay("lost-update", { schedule: lostUpdate });',
        'const b = fl.replay("split-tlb-flush", { schedule: split });',
        'const c = fl.replay("lazy-mmu-batch", { schedule: lazy });',
        "console.log(JSON.stringify([a.violation?.invariant, a.violation?.steps, b.violation?.invariant, b.violation?.steps, c.violation?.invariant, c.violation?.steps]));",
      ].join("\n"),
    ),
    code(
      [
        'const E_LOAD = fl.event("my_counter_inc", "load");',
        'const E_STORE = fl.event("my_counter_inc", "store");',
        "// A student's counter_inc, written in the cell: the same race.",
        "function* my_counter_inc(k: fl.sim.KernelBase, x: fl.examples.Counter, _lock: fl.sim.Spinlock): fl.Gen {",
        "  k.R(x, E_LOAD);",
        "  yield;",
        "  const old = x.v;",
        "  k.W(x, E_STORE);",
        "  yield;",
        "  x.v = old + 1;",
        "}",
        "const overrides = { counter_inc: my_counter_inc };",
        'const mine = fl.explore(fl.examples.lostUpdate, { variant: "racy", overrides: overrides }).violation!;',
        "const again = fl.replay(fl.examples.lostUpdate, { schedule: mine.schedule, overrides: overrides });",
        'let refused = "";',
        "try {",
        "  fl.replay(fl.examples.lostUpdate, { schedule: mine.schedule });",
        "} catch (e) {",
        "  refused = (e as Error).message;",
        "}",
        'const fp = (s: string) => s.split(".")[3];',
        "console.log(JSON.stringify([again.violation?.invariant, fp(mine.schedule) !== fp(lostUpdate), refused]));",
      ].join("\n"),
    ),
  ],
};

describe("schedule strings across compilers", () => {
  it("strings found by the CLI and under vitest replay in a notebook cell; one found with a cell's override replays with it", async () => {
    const lost = cliFinds("lost-update", "racy");
    const split = cliFinds("split-tlb-flush", "before");
    const lazy = explore(lazyMmuBatch, { variant: "before" }).violation!;
    const dir = scratch("fingerprint");
    const file = path.join(dir, "fingerprint.ipynb");
    fs.writeFileSync(file, JSON.stringify(NOTEBOOK, null, 1));
    const r = await runNotebook({
      settings: settings(),
      file,
      rootDir: ROOT,
      cellTimeoutMs: 60_000,
      params: { lostUpdate: lost.schedule, split: split.schedule, lazy: lazy.schedule },
    });
    const out = r.notebook!.cells.map((c) => c.outputs ?? []);
    expect(
      r.cells.map((c) => c.status),
      JSON.stringify(out.map((o) => streamText(o, "stderr"))),
    ).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    // cells: parameters, injected parameters, import, the CLI strings, the override
    expect(JSON.parse(streamText(out[3], "stdout"))).toEqual([
      lost.invariant,
      lost.steps,
      split.invariant,
      split.steps,
      lazy.invariant,
      lazy.steps,
    ]);
    const [invariant, differs, refused] = JSON.parse(streamText(out[4], "stdout"));
    expect(invariant).toBe("lost-update");
    expect(differs).toBe(true);
    expect(refused).toMatch(/recorded on a different model/);
  });
});
