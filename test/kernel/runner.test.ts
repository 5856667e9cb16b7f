// The runner against a real jupyter-server and real tslab kernels: streams, display data, records,
// parameters, failing cells, a kernel killed mid-run, and a cell timeout.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runNotebook } from "../../kernel/run-notebook";
import { sourceOf } from "../../kernel/notebook";
import { FIXTURES, ROOT, scratch, settings, streamText } from "./helpers";

const fixture = (name: string) => path.join(FIXTURES, "runner", name);
const run = (name: string, extra: Partial<Parameters<typeof runNotebook>[0]> = {}) =>
  runNotebook({ settings: settings(), file: fixture(name), rootDir: ROOT, cellTimeoutMs: 30_000, ...extra });

describe("runNotebook", () => {
  it("executes every cell and collects streams, display data and records", async () => {
    const r = await run("basic.ipynb");
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.cells.map((c) => c.status)).toEqual(["ok", "ok", "ok", "ok", "ok", "ok"]);
    // tslab sends no execute_input: the counts come from the replies.
    expect(r.cells.map((c) => c.executionCount)).toEqual([1, 2, 3, 4, 5, 6]);
    const cells = r.notebook!.cells;
    expect(streamText(cells[2].outputs!, "stdout")).toBe("hello from tslab\n");
    expect(streamText(cells[2].outputs!, "stderr")).toBe("a warning on stderr\n");
    expect(streamText(cells[3].outputs!, "stdout")).toBe("42\n");
    const tableOut = cells[4].outputs![0] as { output_type: string; data: Record<string, unknown> };
    expect(tableOut.output_type).toBe("display_data");
    expect(tableOut.data["text/html"]).toContain(">&lt;b&gt;flush&lt;/b&gt;</td>");
    expect(tableOut.data["text/plain"]).toContain("<b>flush</b>");
    expect(r.records).toEqual({ seed: 1, label: "default" });
    // Progress: one output, updated in place to its final state.
    const prog = cells[6].outputs!;
    expect(prog).toHaveLength(1);
    expect((prog[0] as { data: Record<string, string> }).data["text/plain"]).toBe("search: clean");
    expect(r.kernelStartMs).toBeGreaterThan(0);
  });

  it("injects --param values after the cell tagged parameters, without touching the source", async () => {
    const before = fs.readFileSync(fixture("basic.ipynb"), "utf8");
    const r = await run("basic.ipynb", { params: { seed: 7, label: "</script>" } });
    expect(fs.readFileSync(fixture("basic.ipynb"), "utf8")).toBe(before);
    expect(r.injectedAt).toBe(2);
    const injected = r.notebook!.cells[2];
    expect(injected.metadata.tags).toEqual(["injected-parameters"]);
    expect(sourceOf(injected)).toContain("let seed = 7;");
    expect(r.records).toEqual({ seed: 7, label: "</script>" });
    expect(r.ok).toBe(true);
  });

  it("reports a failing cell as a failure and still runs the next cells", async () => {
    const r = await run("failing.ipynb");
    expect(r.ok).toBe(false);
    expect(r.error).toBeUndefined();
    expect(r.cells.map((c) => c.status)).toEqual(["ok", "error", "ok", "error", "ok"]);
    const out = r.notebook!.cells.map((c) => c.outputs!);
    expect(streamText(out[1], "stderr")).toMatch(/RangeError: boom in cell 2/);
    expect(streamText(out[2], "stdout")).toBe("three\n");
    expect(streamText(out[3], "stderr")).toMatch(/Type 'number' is not assignable to type 'string'/);
    expect(streamText(out[4], "stdout")).toBe("five\n");
    expect(r.cells[1].message).toMatch(/boom in cell 2/);
    // tslab reports failures only through the reply status, never as an "error" output.
    expect(out.flat().some((o) => o.output_type === "error")).toBe(false);
  });

  it("gives a clear error when the kernel dies mid-notebook and keeps the outputs so far", async () => {
    const r = await run("killed.ipynb");
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(
      /kernel died while running cell 2 .*the kernel process died.*1 later cell\(s\) not run, outputs so far kept/,
    );
    expect(r.kernelDied).toBe(true);
    // The notebook itself says so, in the cell where it happened.
    const notice = r.notebook!.cells[1].outputs!.at(-1) as { data: Record<string, string> };
    expect(notice.data["text/plain"]).toMatch(
      /^The kernel died while running this cell .* 1 later cell\(s\) were not run/,
    );
    expect(r.cells.map((c) => c.status)).toEqual(["ok", "dead"]);
    expect(streamText(r.notebook!.cells[0].outputs!, "stdout")).toBe("before the kill\n");
    expect(r.notebook!.cells[0].execution_count).toBe(1);
    expect(r.notebook!.cells[2].outputs).toEqual([]);
    expect(r.notebook!.cells[2].execution_count).toBeNull();
  });

  it("interrupts a cell that exceeds the timeout and keeps the kernel's state", async () => {
    const r = await run("timeout.ipynb", { cellTimeoutMs: 2000 });
    expect(r.cells.map((c) => c.status)).toEqual(["ok", "timeout", "ok"]);
    expect(r.cells[1].ms).toBeGreaterThanOrEqual(2000);
    expect(r.cells[1].ms).toBeLessThan(8000);
    expect(streamText(r.notebook!.cells[2].outputs!, "stdout")).toBe("42\n");
    expect(r.ok).toBe(false);
  });
});

describe("runNotebook: bad input and errors in the reader's terms", () => {
  it("reports a malformed notebook as not run, naming the file and the reason", async () => {
    const dir = scratch("runner-bad");
    const bad = path.join(dir, "broken.ipynb");
    fs.writeFileSync(bad, '{"cells": [');
    const r = await runNotebook({ settings: settings(), file: bad, rootDir: ROOT });
    expect(r.ok).toBe(false);
    expect(r.notebook).toBeNull();
    expect(r.error).toMatch(/^not run: broken\.ipynb is not valid JSON: /);
    fs.writeFileSync(
      bad,
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code" }] }),
    );
    const r2 = await runNotebook({ settings: settings(), file: bad, rootDir: ROOT });
    expect(r2.error).toBe(
      "not run: broken.ipynb: cell 1 is malformed (needs cell_type code, markdown or raw, and a text source)",
    );
  });

  it("refuses a notebook written for another kernel instead of running it on tslab", async () => {
    const r = await run("python.ipynb");
    expect(r.ok).toBe(false);
    expect(r.cells).toEqual([]);
    expect(r.error).toMatch(/not run: its kernelspec is "python3" \(Python 3\)/);
  });

  it("shows the error's message and where in the cell, and blames late errors on their cell", async () => {
    const r = await run("errors.ipynb");
    const msg = r.cells.map((c) => c.message ?? "");
    // A library error: the message, the library function as its .ts file, the cell line that called it.
    expect(msg[0]).toMatch(
      /^ModelError: scenario lost-update: parameter cpus must be an integer from 1 to 15, got "abc" \(thrown in resolveParams in lib\/explore\/params\.ts; cell line 2: const f = fl\.explore/,
    );
    expect(msg[0]).not.toMatch(/scenario\.js|\^/);
    // The cell's own throw: found by its code line, in TS line numbers (tslab's JS line is 5).
    expect(msg[1]).toBe('RangeError: too big: 6 (cell line 2: if (x > 1) throw new RangeError("too big: " + x);)');
    // Cell 3 returns before its timer throws. The error lands after its reply (then it is cell 3's) or while
    // cell 4 runs (tslab puts it in cell 4's stderr), depending on when the runner's next request arrives.
    const boom = r.cells.filter((c) => /Error: late boom/.test(c.message ?? ""));
    expect(boom).toHaveLength(1);
    expect([2, 3]).toContain(boom[0].index);
    expect(boom[0].status).toBe("error");
    expect(boom[0].message).toMatch(
      boom[0].index === 2 ? /^error after the cell returned/ : /^an error escaped while this cell ran/,
    );
    // The last cell's unawaited rejection: kept in that cell, and the cell fails.
    const nobody = r.cells.filter((c) => /Error: nobody awaits/.test(c.message ?? ""));
    expect(nobody.map((c) => [c.index, c.status])).toEqual([[4, "error"]]);
    expect(streamText(r.notebook!.cells[4].outputs!, "stderr")).toMatch(
      /UnhandledPromiseRejection: Error: nobody awaits/,
    );
    expect(r.ok).toBe(false);
  });

  it("warns about a --param that no parameters cell declares", async () => {
    const r = await run("basic.ipynb", { params: { seed: 3, nosuch: 1 } });
    expect(r.warnings).toEqual([
      '--param nosuch: the parameters cell declares no "nosuch" (declares seed, label); set anyway',
    ]);
    const none = await run("errors.ipynb", { params: { seed: 3 } });
    expect(none.warnings).toContain('no cell tagged "parameters": --param values not applied');
  });
});
