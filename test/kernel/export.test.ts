// The workbook's write-ups: executed, signed notebooks and their HTML, opened in headless Chromium
// (plots drawn offline, hostile labels shown as text), and the manifest and index page.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jupyterEnv, loadToolchain } from "../../kernel/paths";
import type { Manifest } from "../../kernel/manifest";
import { Reporter } from "../../kernel/reporter";
import { runWorkbook } from "../../kernel/workbook-run";
import { launchChromium } from "./browser";
import { FIXTURES, ROOT, scratch, settings } from "./helpers";

const EVIL = "<script>window.__pwned = 1</script>";
let out: string;
let manifest: Manifest;
let log: string[];
let browser: Browser;

beforeAll(async () => {
  out = scratch("export");
  log = [];
  manifest = await runWorkbook({
    root: ROOT, toolchain: loadToolchain(ROOT), settings: settings(), notebooksDir: path.join(FIXTURES, "export"), outDir: out,
    reporter: new Reporter((l) => log.push(l)),
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe("workbook write-ups", () => {
  it("writes the executed notebook, its HTML, index.html and a manifest", () => {
    expect(manifest.errors).toEqual([]);
    expect(manifest.ok).toBe(true);
    expect(fs.readdirSync(out).sort()).toEqual(["index.html", "manifest.json", "plots.html", "plots.ipynb"]);
    const onDisk = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
    expect(onDisk.notebooks[0]).toMatchObject({ notebook: "plots.ipynb", html: "plots.html", ok: true });
    expect(onDisk.git.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(onDisk.tools.tslab).toBe("1.0.22");
    expect(onDisk.tools["typescript (tslab)"]).toBe("5.0.4");
    expect(onDisk.notebooks[0].cells.every((c) => c.status === "ok" && c.executionCount !== null)).toBe(true);
    expect(fs.readFileSync(path.join(out, "index.html"), "utf8")).toContain('<a href="plots.html">plots.ipynb</a>');
    expect(log.some((l) => l.includes("plots.ipynb"))).toBe(true);
  });

  it("inlines plotly.js once per kernel session and stores the figure as a plotly JSON object", () => {
    const nb = JSON.parse(fs.readFileSync(path.join(out, "plots.ipynb"), "utf8"));
    const outputs = nb.cells.flatMap((c: { outputs?: unknown[] }) => c.outputs ?? []) as Array<{ data?: Record<string, unknown> }>;
    const plots = outputs.filter((o) => o.data?.["application/vnd.plotly.v1+json"]);
    expect(plots).toHaveLength(3);
    for (const p of plots) {
      expect(typeof p.data!["application/vnd.plotly.v1+json"]).toBe("object");
      expect(p.data!["text/plain"]).toMatch(/^<Plotly figure/);
    }
    const withLibrary = plots.filter((p) => String(p.data!["text/html"]).length > 1_000_000);
    expect(withLibrary).toEqual([plots[0]]);
  });

  it("signs the executed notebook with the project-local notary, so the UI trusts its plots", () => {
    const tc = loadToolchain(ROOT);
    const check = "import sys, nbformat\nfrom nbformat.sign import NotebookNotary\nprint(NotebookNotary().check_signature(nbformat.read(sys.argv[1], as_version=4)))";
    const trusted = execFileSync(tc.python, ["-c", check, path.join(out, "plots.ipynb")], { env: jupyterEnv(tc) }).toString().trim();
    expect(trusted).toBe("True");
    // A notebook nobody signed is not trusted by the same notary: the check above can fail.
    const unsigned = execFileSync(tc.python, ["-c", check, path.join(FIXTURES, "export", "plots.ipynb")], { env: jupyterEnv(tc) }).toString().trim();
    expect(unsigned).toBe("False");
  });

  it("draws every plot offline in the exported page, with hostile labels shown as text and never run", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto("file://" + path.join(out, "plots.html"));
    await page.waitForFunction(() => document.querySelectorAll(".js-plotly-plot .main-svg").length >= 3, undefined, { timeout: 30_000 });
    const seen = await page.evaluate(() => ({
      plots: document.querySelectorAll(".js-plotly-plot").length,
      scatter: document.querySelectorAll(".js-plotly-plot g.trace.scatter").length,
      bars: document.querySelectorAll(".js-plotly-plot g.trace.bars").length,
      points: document.querySelectorAll(".js-plotly-plot g.trace.scatter path.point").length,
      titles: [...document.querySelectorAll(".js-plotly-plot .gtitle")].map((t) => t.textContent),
      ticks: [...document.querySelectorAll(".js-plotly-plot .xtick text")].map((t) => t.textContent),
      legend: [...document.querySelectorAll(".js-plotly-plot .legendtext")].map((t) => t.textContent),
      cells: [...document.querySelectorAll("table.flushlab-table td")].map((t) => t.textContent),
      caption: document.querySelector("table.flushlab-table caption")?.textContent,
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      version: (window as unknown as { Plotly?: { version: string } }).Plotly?.version,
    }));
    expect(seen.version).toBe("4.1.2");
    expect(seen.plots).toBe(3);
    expect(seen.scatter).toBeGreaterThanOrEqual(1);
    expect(seen.bars).toBeGreaterThanOrEqual(2);
    expect(seen.points).toBeGreaterThanOrEqual(5);
    expect(seen.titles).toContain("Offline plot");
    expect(seen.titles).toContain(EVIL);
    expect(seen.titles.some((t) => t?.startsWith("lost update " + EVIL))).toBe(true);
    expect(seen.ticks).toContain(EVIL);
    expect(seen.legend).toContain(EVIL);
    expect(seen.cells).toContain(EVIL);
    expect(seen.caption).toBe('hostile <img src=x onerror="window.__pwned=2">');
    expect(seen.pwned).toBeUndefined();
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:"))).toEqual([]);
    await page.close();
  });
});
