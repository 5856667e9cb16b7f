// `npm start`: the browser UI on a private server over the working copy, with the tslab kernel; student edits
// survive reruns; signed executed notebooks show their plots on open; Ctrl-C stops the server by PID.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signNotebooks } from "../../kernel/export";
import { readNotebook, writeNotebook } from "../../kernel/notebook";
import { loadToolchain } from "../../kernel/paths";
import { runNotebook } from "../../kernel/run-notebook";
import { seedWorkingCopy } from "../../kernel/workcopy";
import { launchChromium } from "./browser";
import { FIXTURES, ROOT, isAlive, scratch, settings } from "./helpers";

describe("seedWorkingCopy", () => {
  it("copies only the notebooks the working copy lacks and never overwrites an edit", () => {
    const src = scratch("seed-src");
    const dst = scratch("seed-dst");
    fs.writeFileSync(path.join(src, "a.ipynb"), "A1");
    fs.writeFileSync(path.join(src, "b.ipynb"), "B1");
    fs.writeFileSync(path.join(src, "notes.txt"), "not a notebook");
    fs.writeFileSync(path.join(dst, "a.ipynb"), "A edited by a student");
    expect(seedWorkingCopy(src, dst)).toEqual({ copied: ["b.ipynb"], kept: ["a.ipynb"] });
    fs.writeFileSync(path.join(src, "b.ipynb"), "B2 upstream change");
    expect(seedWorkingCopy(src, dst)).toEqual({ copied: [], kept: ["a.ipynb", "b.ipynb"] });
    expect(fs.readFileSync(path.join(dst, "a.ipynb"), "utf8")).toBe("A edited by a student");
    expect(fs.readFileSync(path.join(dst, "b.ipynb"), "utf8")).toBe("B1");
    expect(fs.existsSync(path.join(dst, "notes.txt"))).toBe(false);
  });
});

describe("npm start", () => {
  let child: ChildProcess;
  let stdout = "";
  let home = "";
  let work = "";
  let browser: Browser;

  beforeAll(async () => {
    work = scratch("ui");
    // An edit made in an earlier session, and a signed + an unsigned executed notebook with plots.
    const edited = readNotebook(path.join(FIXTURES, "cli", "params.ipynb"));
    edited.cells[1].source = ["let seed = 1;\n", 'let name = "edited";'];
    writeNotebook(path.join(work, "params.ipynb"), edited);
    const r = await runNotebook({
      settings: settings(),
      file: path.join(FIXTURES, "export", "plots.ipynb"),
      rootDir: ROOT,
    });
    expect(r.ok).toBe(true);
    const nb = r.notebook!;
    writeNotebook(path.join(work, "signed.ipynb"), nb);
    // Signatures hash the content: the unsigned copy must differ, or signing one would trust both.
    writeNotebook(path.join(work, "unsigned.ipynb"), { ...nb, metadata: { ...nb.metadata, copy: "unsigned" } });
    signNotebooks(loadToolchain(ROOT), [path.join(work, "signed.ipynb")]);

    child = spawn(
      process.execPath,
      [
        path.join(ROOT, "dist", "kernel", "start.js"),
        "--workdir",
        path.relative(ROOT, work),
        "--source",
        "test/kernel/fixtures/cli",
        "--port",
        "0",
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FLUSHLAB_NO_BROWSER: "1" } },
    );
    child.stderr!.on("data", (b: Buffer) => (stdout += b.toString()));
    home = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (b: Buffer) => {
        stdout += b.toString();
        const m = /start: open (\S+)/.exec(stdout);
        if (m) resolve(m[1]);
      });
      child.on("exit", () => reject(new Error(`start exited early:\n${stdout}`)));
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("prints a tokened URL, keeps the student's edit, and serves the project's tslab kernelspec", async () => {
    expect(home).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tree\?token=[0-9a-f]{48}$/);
    expect(stdout).toContain("kept your copies of params.ipynb");
    expect(fs.readFileSync(path.join(work, "params.ipynb"), "utf8")).toContain('let name = \\"edited\\";');
    const base = home.replace(/tree\?token=.*/, "");
    const token = home.split("token=")[1];
    expect((await fetch(home)).status).toBe(200);
    expect((await fetch(`${base}api/kernelspecs`)).status).toBe(403);
    const specs = (await (await fetch(`${base}api/kernelspecs?token=${token}`)).json()) as {
      kernelspecs: Record<string, { spec: { argv: string[] } }>;
    };
    expect(specs.kernelspecs.tslab.spec.argv[0]).toBe(path.join(ROOT, "node_modules", ".bin", "tslab"));
  });

  it("runs the working copy's cells in the classic UI on the tslab kernel", async () => {
    const page = await browser.newPage();
    await page.goto(home.replace("/tree?", "/notebooks/params.ipynb?"));
    // tslab's kernel_info_reply has no `status`: wait on protocol_version (toolchain.md §6).
    await page.waitForFunction(
      () => (window as any).Jupyter?.notebook?.kernel?.info_reply?.protocol_version,
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.evaluate(() => (window as any).Jupyter.notebook.kernel.name)).toBe("tslab");
    await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
    await page.waitForFunction(() => document.body.innerText.includes("seed=1 name=edited"), undefined, {
      timeout: 60_000,
    });
    await page.close();
  });

  it("shows the plots of a signed executed notebook on open, and not those of an unsigned one", async () => {
    const count = async (name: string) => {
      const page = await browser.newPage();
      await page.goto(home.replace("/tree?", `/notebooks/${name}?`));
      await page.waitForFunction(() => (window as any).Jupyter?.notebook?._fully_loaded, undefined, {
        timeout: 60_000,
      });
      await page.waitForTimeout(name === "signed.ipynb" ? 0 : 1500);
      if (name === "signed.ipynb") await page.waitForSelector(".js-plotly-plot .main-svg", { timeout: 30_000 });
      const n = await page.evaluate(() => document.querySelectorAll(".js-plotly-plot").length);
      await page.close();
      return n;
    };
    expect(await count("signed.ipynb")).toBe(3);
    expect(await count("unsigned.ipynb")).toBe(0);
  });

  it("stops its server by PID on Ctrl-C", async () => {
    const pid = Number(/server pid (\d+)/.exec(stdout)![1]);
    expect(isAlive(pid)).toBe(true);
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(isAlive(pid)).toBe(false);
  });
});
