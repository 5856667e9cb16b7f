// The runner against a real jupyter-server and real tslab kernels: streams, display data, records,
// parameters, failing cells, a kernel killed mid-run, and a cell timeout.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runNotebook } from "../../kernel/run-notebook";
import { sourceOf } from "../../kernel/notebook";
import { FIXTURES, ROOT, settings, streamText } from "./helpers";

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
    const cells = r.notebook.cells;
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
    const injected = r.notebook.cells[2];
    expect(injected.metadata.tags).toEqual(["injected-parameters"]);
    expect(sourceOf(injected)).toContain('let seed = 7;');
    expect(r.records).toEqual({ seed: 7, label: "</script>" });
    expect(r.ok).toBe(true);
  });

  it("reports a failing cell as a failure and still runs the next cells", async () => {
    const r = await run("failing.ipynb");
    expect(r.ok).toBe(false);
    expect(r.error).toBeUndefined();
    expect(r.cells.map((c) => c.status)).toEqual(["ok", "error", "ok", "error", "ok"]);
    const out = r.notebook.cells.map((c) => c.outputs!);
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
    expect(r.error).toMatch(/kernel died while running cell 2 .*the kernel process died.*1 later cell\(s\) not run, outputs so far kept/);
    expect(r.cells.map((c) => c.status)).toEqual(["ok", "dead"]);
    expect(streamText(r.notebook.cells[0].outputs!, "stdout")).toBe("before the kill\n");
    expect(r.notebook.cells[0].execution_count).toBe(1);
    expect(r.notebook.cells[2].outputs).toEqual([]);
    expect(r.notebook.cells[2].execution_count).toBeNull();
  });

  it("interrupts a cell that exceeds the timeout and keeps the kernel's state", async () => {
    const r = await run("timeout.ipynb", { cellTimeoutMs: 2000 });
    expect(r.cells.map((c) => c.status)).toEqual(["ok", "timeout", "ok"]);
    expect(r.cells[1].ms).toBeGreaterThanOrEqual(2000);
    expect(r.cells[1].ms).toBeLessThan(8000);
    expect(streamText(r.notebook.cells[2].outputs!, "stdout")).toBe("42\n");
    expect(r.ok).toBe(false);
  });
});
