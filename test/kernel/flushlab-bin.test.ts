// The installed `flushlab` bin as a user runs it (the kernel project builds dist/ first): a real Ctrl-C during a
// search, and a clone that was never built.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, scratch } from "./helpers";

const BIN = path.join(ROOT, "bin", "flushlab.js");

describe("flushlab bin", () => {
  it("SIGINT mid-search prints the partial summary and exits 130", async () => {
    // An unbounded DFS of split-tlb-flush runs for far longer than the 60 s limit: only the interrupt ends it.
    const child = spawn(process.execPath, [BIN, "explore", "split-tlb-flush", "--preemptions", "inf", "--json"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    setTimeout(() => child.kill("SIGINT"), 1500);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(130);
    const j = JSON.parse(out);
    expect(j.stopped).toBe("interrupted");
    expect(j.exhaustive).toBe(false);
    expect(j.executions).toBeGreaterThan(0);
  });

  it("without dist/ says to run npm run build, in one line", () => {
    const dir = scratch("bin-no-dist");
    fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
    fs.copyFileSync(BIN, path.join(dir, "bin", "flushlab.js"));
    const r = spawnSync(process.execPath, [path.join(dir, "bin", "flushlab.js"), "list"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/run npm run build/);
    expect(r.stdout).toBe("");
  });
});
