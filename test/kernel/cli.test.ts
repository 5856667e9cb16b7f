// `npm run workbook` as a user runs it: its own server (stopped by PID on success, failure and Ctrl-C),
// --param injection, exit codes, and the source notebooks left untouched.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../kernel/manifest";
import { FIXTURES, ROOT, isAlive, scratch } from "./helpers";

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  serverPid: number;
  kernelPids: number[];
}

/** Runs dist/kernel/workbook.js; `interruptWhen` sends SIGINT once stdout matches it. */
function workbook(args: string[], interruptWhen?: RegExp): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist", "kernel", "workbook.js"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let kernelPids: number[] = [];
    let interrupted = false;
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
      if (interruptWhen && !interrupted && interruptWhen.test(stdout)) {
        interrupted = true;
        // The server's children are the kernels: they must be gone afterwards too.
        kernelPids = childrenOf(serverPid(stdout));
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (b: Buffer) => (stdout += b.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, serverPid: serverPid(stdout), kernelPids }));
  });
}

const serverPid = (stdout: string) => Number(/\(pid (\d+)\)/.exec(stdout)?.[1] ?? NaN);

function childrenOf(pid: number): number[] {
  return fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return fs.readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1].split(" ")[1] === String(pid);
    } catch {
      return false;
    }
  }).map(Number);
}

const waitGone = async (pid: number) => {
  for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !isAlive(pid);
};

describe("npm run workbook", () => {
  it("applies --param, writes out/, exits 0 and stops its server", async () => {
    const out = scratch("cli-ok");
    const src = path.join(FIXTURES, "cli", "params.ipynb");
    const before = fs.readFileSync(src, "utf8");
    const r = await workbook(["--notebooks", "test/kernel/fixtures/cli", "--out", out, "--param", "seed=7", "--param", "name=ada lovelace"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('workbook: parameters {"seed":7,"name":"ada lovelace"}');
    expect(await waitGone(r.serverPid)).toBe(true);
    expect(fs.readFileSync(src, "utf8")).toBe(before);
    const m = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
    expect(m.parameters).toEqual({ seed: 7, name: "ada lovelace" });
    expect(m.notebooks[0].records).toEqual({ seed: 7, name: "ada lovelace" });
    expect(m.notebooks[0].injectedParametersCell).toBe(2);
    const executed = JSON.parse(fs.readFileSync(path.join(out, "params.ipynb"), "utf8"));
    expect(executed.cells[2].metadata.tags).toEqual(["injected-parameters"]);
    expect(executed.cells[3].outputs.find((o: { name?: string }) => o.name === "stdout").text).toBe("seed=7 name=ada lovelace\n");
    expect(fs.existsSync(path.join(out, "params.html"))).toBe(true);
  });

  it("exits non-zero when a cell fails, still running the rest and stopping the server", async () => {
    const out = scratch("cli-fail");
    const r = await workbook(["--notebooks", "test/kernel/fixtures/cli-fail", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ cell\s+2 \[2\] error/);
    expect(r.stdout).toContain("this notebook fails on purpose");
    expect(r.stdout).toMatch(/1 cell\(s\) FAILED/);
    expect(await waitGone(r.serverPid)).toBe(true);
    const m = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
    expect(m.ok).toBe(false);
    expect(m.notebooks[0].cells.map((c) => c.status)).toEqual(["ok", "error", "ok"]);
  });

  it("on Ctrl-C stops the server and its kernels by PID and exits 130", async () => {
    const out = scratch("cli-int");
    const r = await workbook(["--notebooks", "test/kernel/fixtures/slow", "--out", out], /cell\s+1 \[1\] ok/);
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/SIGINT, stopping jupyter-server \(pid \d+\)/);
    expect(Number.isFinite(r.serverPid)).toBe(true);
    expect(await waitGone(r.serverPid)).toBe(true);
    expect(r.kernelPids.length).toBeGreaterThan(0);
    for (const pid of r.kernelPids) expect(await waitGone(pid)).toBe(true);
  });

  it("rejects a malformed --param before starting anything", async () => {
    const r = await workbook(["--param", "1bad=3"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('--param name "1bad" is not a TypeScript identifier');
  });
});
