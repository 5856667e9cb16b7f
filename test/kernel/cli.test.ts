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

/**
 * Runs dist/kernel/workbook.js in its own process group, as a shell runs a job; `interruptWhen` sends SIGINT
 * once stdout matches it, to the runner (`to: "runner"`) or, like Ctrl-C in a terminal, to its whole group.
 */
function workbook(
  args: string[],
  interruptWhen?: RegExp,
  to: "runner" | "group" = "runner",
  onInterrupt?: (pid: number) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist", "kernel", "workbook.js"), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let kernelPids: number[] = [];
    let interrupted = false;
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
      if (interruptWhen && !interrupted && interruptWhen.test(stdout)) {
        interrupted = true;
        // The server's children are the kernels: they must be gone afterwards too.
        kernelPids = childrenOf(serverPid(stdout));
        onInterrupt?.(child.pid!);
        if (to === "group") process.kill(-child.pid!, "SIGINT");
        else child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (b: Buffer) => (stdout += b.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, serverPid: serverPid(stdout), kernelPids }));
  });
}

const serverPid = (stdout: string) => Number(/\(pid (\d+)\)/.exec(stdout)?.[1] ?? NaN);

function childrenOf(pid: number): number[] {
  return fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return fs.readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1].split(" ")[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Every process started for the runner with this PID: its server gets a private runtime dir named after it. */
function processesOfRun(runnerPid: number): Array<{ pid: number; cmd: string }> {
  const mark = `JUPYTER_RUNTIME_DIR=${path.join(ROOT, ".jupyter", "runtime")}/server-${runnerPid}-`;
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const d of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      if (
        fs
          .readFileSync(`/proc/${d}/environ`, "utf8")
          .split("\0")
          .some((e) => e.startsWith(mark))
      ) {
        found.push({ pid: Number(d), cmd: fs.readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ") });
      }
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** All files under a folder with their contents, to prove nothing in it changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) out[f] = fs.readFileSync(p, "utf8");
  }
  return out;
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
    const r = await workbook([
      "--notebooks",
      "test/kernel/fixtures/cli",
      "--out",
      out,
      "--param",
      "seed=7",
      "--param",
      "name=ada lovelace",
    ]);
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
    expect(executed.cells[3].outputs.find((o: { name?: string }) => o.name === "stdout").text).toBe(
      "seed=7 name=ada lovelace\n",
    );
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
    expect(r.stdout).toMatch(/SIGINT, shutting down the kernels, then jupyter-server \(pid \d+\)/);
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

  it("on Ctrl-C to its process group during a long cell leaves no process of the run alive", async () => {
    const out = scratch("cli-int-group");
    let before: Array<{ pid: number; cmd: string }> = [];
    const r = await workbook(
      ["--notebooks", "test/kernel/fixtures/slow", "--out", out],
      /cell\s+1 \[1\] ok/,
      "group",
      (pid) => (before = processesOfRun(pid)),
    );
    expect(r.code).toBe(130);
    // The check can fail: it saw the server and a tslab kernel of this run before the interrupt.
    expect(before.some((p) => p.pid === r.serverPid)).toBe(true);
    const kernels = before.filter((p) => / kernel --config-path /.test(p.cmd) && p.cmd.includes("tslab"));
    expect(kernels.length).toBe(1);
    for (const p of before) expect(await waitGone(p.pid)).toBe(true);
    expect(processesOfRun(Number(/server-(\d+)-/.exec(kernels[0].cmd)?.[1] ?? NaN))).toEqual([]);
    // The kernel's own process group is gone too (jupyter_client starts each kernel as a session leader).
    expect(isAlive(-kernels[0].pid)).toBe(false);
  });
});

describe("npm run workbook: nothing it did not write is touched", () => {
  it("refuses an --out that is, holds or lies inside a source folder or workbook/, and deletes nothing", async () => {
    const src = scratch("cli-src");
    fs.copyFileSync(path.join(FIXTURES, "cli", "params.ipynb"), path.join(src, "params.ipynb"));
    const rel = path.relative(ROOT, src);
    const before = snapshot(src);
    for (const bad of [rel, path.join(rel, "out"), path.dirname(rel), "notebooks", "workbook", "."]) {
      const r = await workbook(["--notebooks", rel, "--out", bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stdout.trim().split("\n"), bad).toHaveLength(1);
      expect(r.stdout).toMatch(
        /would mix the write-ups with (the notebooks being run|the workbook's source notebooks|the student's working copy)/,
      );
      expect(Number.isNaN(r.serverPid), bad).toBe(true); // refused before any server started
    }
    expect(snapshot(src)).toEqual(before);
  });

  it("never replaces a file it did not write, and replaces or removes only its own", async () => {
    const out = scratch("cli-own");
    fs.writeFileSync(path.join(out, "params.html"), "a student's page\n");
    fs.writeFileSync(path.join(out, "notes.txt"), "mine\n");
    const refused = await workbook(["--notebooks", "test/kernel/fixtures/cli", "--out", out]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/params\.html already there and not written by the workbook runner/);
    expect(fs.readFileSync(path.join(out, "params.html"), "utf8")).toBe("a student's page\n");
    fs.renameSync(path.join(out, "params.html"), path.join(out, "old-page.html"));
    // A file an earlier run wrote for a notebook that is gone now: the runner's own, so it goes.
    fs.writeFileSync(path.join(out, "gone.ipynb"), "{}\n");
    fs.writeFileSync(path.join(out, ".workbook-files.json"), JSON.stringify(["gone.ipynb", "../escape.txt"]));
    const ok = await workbook(["--notebooks", "test/kernel/fixtures/cli/params.ipynb", "--out", out]);
    expect(ok.code).toBe(0);
    expect(fs.existsSync(path.join(out, "gone.ipynb"))).toBe(false);
    expect(fs.readFileSync(path.join(out, "old-page.html"), "utf8")).toBe("a student's page\n");
    expect(fs.readFileSync(path.join(out, "notes.txt"), "utf8")).toBe("mine\n");
    const m = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
    expect(m.files).toContain("params.ipynb");
    expect(m.files).not.toContain("notes.txt");
    // Run again: its own files are replaced without complaint.
    expect((await workbook(["--notebooks", "test/kernel/fixtures/cli/params.ipynb", "--out", out])).code).toBe(0);
  });

  it("runs the rest when one notebook is malformed, and names it", async () => {
    const src = scratch("cli-bad-src");
    fs.writeFileSync(path.join(src, "00-broken.ipynb"), "not json at all");
    fs.copyFileSync(path.join(FIXTURES, "cli", "params.ipynb"), path.join(src, "01-params.ipynb"));
    fs.writeFileSync(path.join(src, "02-broken.ipynb"), JSON.stringify({ nbformat: 3, cells: [] }));
    const out = scratch("cli-bad-out");
    const r = await workbook(["--notebooks", path.relative(ROOT, src), "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("workbook: ERROR 00-broken.ipynb: not run: 00-broken.ipynb is not valid JSON");
    expect(r.stdout).toContain(
      "workbook: ERROR 02-broken.ipynb: not run: 02-broken.ipynb is not an nbformat 4 notebook (nbformat 3)",
    );
    const m = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
    expect(m.notebooks.map((n) => [n.notebook, n.status])).toEqual([
      ["00-broken.ipynb", "stopped"],
      ["01-params.ipynb", "ok"],
      ["02-broken.ipynb", "stopped"],
    ]);
    expect(fs.existsSync(path.join(out, "01-params.html"))).toBe(true);
    expect(fs.readFileSync(path.join(out, "index.html"), "utf8")).toContain("00-broken.ipynb is not valid JSON");
  });

  it("runs one notebook given as --notebooks FILE; a missing path is one line, exit 2", async () => {
    const out = scratch("cli-file");
    const r = await workbook([
      "--notebooks",
      "test/kernel/fixtures/cli/params.ipynb",
      "--out",
      out,
      "--param",
      "nosuch=1",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('warning: --param nosuch: the parameters cell declares no "nosuch"');
    expect(
      JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")).notebooks.map(
        (n: { notebook: string }) => n.notebook,
      ),
    ).toEqual(["params.ipynb"]);
    const missing = await workbook(["--notebooks", "no-such-dir", "--out", out]);
    expect(missing.code).toBe(2);
    expect(missing.stdout.trim()).toBe(
      `workbook: --notebooks ${path.join(ROOT, "no-such-dir")}: no such file or folder`,
    );
  });
});
