// The workbook's write-ups: executed, signed notebooks and their HTML, opened in headless Chromium
// (plots drawn offline, hostile labels shown as text), and the manifest and index page.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jupyterEnv, loadToolchain } from "../../kernel/paths";
import type { Manifest } from "../../kernel/manifest";
import { indexPage } from "../../kernel/index-page";
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
    root: ROOT,
    toolchain: loadToolchain(ROOT),
    settings: settings(),
    notebooksDir: path.join(FIXTURES, "export"),
    outDir: out,
    reporter: new Reporter((l) => log.push(l)),
  });
  browser = await launchChromium();
});

const onDiskFiles = () => (JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest).files;

afterAll(async () => {
  await browser?.close();
});

describe("workbook write-ups", () => {
  it("writes the executed notebook, its HTML, index.html and a manifest", () => {
    expect(manifest.errors).toEqual([]);
    expect(manifest.ok).toBe(true);
    expect(fs.readdirSync(out).sort()).toEqual([
      ".workbook-files.json",
      "_static",
      "index.html",
      "manifest.json",
      "plots.html",
      "plots.ipynb",
    ]);
    expect(onDiskFiles()).toEqual([
      "_static/mathjax/tex-svg-full.js",
      "_static/mathjax/ui/safe.js",
      "_static/plotly.js",
      "index.html",
      "manifest.json",
      "plots.html",
      "plots.ipynb",
    ]);
    const onDisk = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
    expect(onDisk.notebooks[0]).toMatchObject({ notebook: "plots.ipynb", html: "plots.html", ok: true });
    expect(onDisk.git.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(onDisk.tools.tslab).toBe("1.0.22");
    expect(onDisk.tools["typescript (tslab)"]).toBe("5.0.4");
    expect(onDisk.notebooks[0].cells.every((c) => c.status === "ok" && c.executionCount !== null)).toBe(true);
    expect(fs.readFileSync(path.join(out, "index.html"), "utf8")).toContain('href="plots.html"');
    expect(log.some((l) => l.includes("plots.ipynb"))).toBe(true);
  });

  it("inlines plotly.js once per kernel session and stores the figure as a plotly JSON object", () => {
    const nb = JSON.parse(fs.readFileSync(path.join(out, "plots.ipynb"), "utf8"));
    const outputs = nb.cells.flatMap((c: { outputs?: unknown[] }) => c.outputs ?? []) as Array<{
      data?: Record<string, unknown>;
    }>;
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
    const check =
      "import sys, nbformat\nfrom nbformat.sign import NotebookNotary\nprint(NotebookNotary().check_signature(nbformat.read(sys.argv[1], as_version=4)))";
    const trusted = execFileSync(tc.python, ["-c", check, path.join(out, "plots.ipynb")], { env: jupyterEnv(tc) })
      .toString()
      .trim();
    expect(trusted).toBe("True");
    // A notebook nobody signed is not trusted by the same notary: the check above can fail.
    const unsigned = execFileSync(tc.python, ["-c", check, path.join(FIXTURES, "export", "plots.ipynb")], {
      env: jupyterEnv(tc),
    })
      .toString()
      .trim();
    expect(unsigned).toBe("False");
  });

  it("draws every plot offline in the exported page, with hostile labels shown as text and never run", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto("file://" + path.join(out, "plots.html"));
    await page.waitForSelector("mjx-container svg", { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll(".js-plotly-plot .main-svg").length >= 3, undefined, {
      timeout: 30_000,
    });
    const seen = await page.evaluate(() => ({
      plots: document.querySelectorAll(".js-plotly-plot").length,
      scatter: document.querySelectorAll(".js-plotly-plot g.trace.scatter").length,
      bars: document.querySelectorAll(".js-plotly-plot g.trace.bars").length,
      points: document.querySelectorAll(".js-plotly-plot g.trace.scatter path.point").length,
      titles: [...document.querySelectorAll(".js-plotly-plot .gtitle")].map((t) => t.textContent),
      ticks: [...document.querySelectorAll(".js-plotly-plot .xtick text")].map((t) => t.textContent),
      legend: [...document.querySelectorAll(".js-plotly-plot .legendtext")].map((t) => t.textContent),
      cells: [...document.querySelectorAll("table.flushlab-table td")].map((t) => t.textContent),
      steps: [...document.querySelectorAll(".flushlab-steps tbody tr")].map((t) => t.textContent ?? ""),
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
    expect(seen.cells).toContain(EVIL);
    expect(seen.steps.length).toBe(4);
    expect(seen.steps[3]).toContain(EVIL);
    expect(seen.caption).toBe('hostile <img src=x onerror="window.__pwned=2">');
    expect(seen.pwned).toBeUndefined();
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:"))).toEqual([]);
    // A click on a timeline bar brings its row of the step table into view, outlined.
    const plotId = (await page.locator(".flushlab-steps tbody tr").first().getAttribute("id"))!.replace(/-step-0$/, "");
    await page.locator(`#${plotId} .bars path`).last().click({ force: true });
    await page.waitForFunction(
      (id) => document.getElementById(id)?.style.outline.includes("solid"),
      `${plotId}-step-3`,
      { timeout: 5000 },
    );
    await page.close();
  });

  it("renders math and draws plots from out/ alone: served over HTTP with every other source unreachable", async () => {
    const html = fs.readFileSync(path.join(out, "plots.html"), "utf8");
    expect(html).not.toContain("/usr/share/javascript");
    // One shared plotly.js per out/, not 4.8 MB in every page.
    expect(html.length).toBeLessThan(1_000_000);
    const server = await serveFolder(out);
    const page = await browser.newPage();
    const errors: string[] = [];
    const blocked: string[] = [];
    const served: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(server.url)) {
        served.push(url.slice(server.url.length));
        return route.continue();
      }
      blocked.push(url);
      return route.abort();
    });
    try {
      await page.goto(server.url + "plots.html");
      await page.waitForFunction(() => document.querySelectorAll(".js-plotly-plot .main-svg").length >= 3, undefined, {
        timeout: 30_000,
      });
      await page.waitForSelector("mjx-container svg", { timeout: 30_000 });
      const seen = await page.evaluate(() => ({
        math: [...document.querySelectorAll("mjx-container")].map((m) => m.getAttribute("display") ?? "inline"),
        rawDollars: document.body.innerText.includes("$\\binom"),
        traces: document.querySelectorAll(".js-plotly-plot g.trace").length,
        back: document.querySelector(".flushlab-nav a")?.getAttribute("href"),
      }));
      expect(seen.math).toEqual(["inline", "true"]);
      expect(seen.rawDollars).toBe(false);
      expect(seen.traces).toBeGreaterThanOrEqual(4);
      expect(seen.back).toBe("index.html");
      expect(blocked).toEqual([]);
      expect(served).toEqual(
        expect.arrayContaining(["plots.html", "_static/plotly.js", "_static/mathjax/tex-svg-full.js"]),
      );
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  });
});

describe("the front page, out/index.html", () => {
  it("shows titles, summaries, status and the races found, without sideways scroll at 1400 px", async () => {
    const real = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
    const schedule = "fl1.lazy-mmu-batch.before.d301de4b." + "AAwEIg".repeat(40) + ".03185733";
    const m: Manifest = {
      ...real,
      ok: false,
      parameters: { seed: 7 },
      notebooks: [
        real.notebooks[0],
        {
          ...real.notebooks[0],
          notebook: "01-x.ipynb",
          title: "01 · a race",
          summary: "Fix 000: [a741e679](https://example.invalid/c) makes `tlb_flush_mmu()` *safe*. More after.",
          ok: false,
          status: "dead",
          error: "kernel died while running cell 3",
          html: "01-x.html",
          ipynb: "01-x.ipynb",
          records: {
            parameters: { cpus: 2, seed: 7 },
            "before: counterexample": { invariant: "hpte-multi-hit", schedule, steps: 46, preemptions: 1 },
            big: { series: [1, 2, 3] },
            "exercise 1": "passed",
          },
        },
      ],
    };
    const file = path.join(scratch("index-page"), "index.html");
    fs.writeFileSync(file, indexPage(m));
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto("file://" + file);
    const seen = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      titles: [...document.querySelectorAll("section.nb h2 a")].map((a) => a.textContent),
      badges: [...document.querySelectorAll(".badge")].map((b) => b.textContent),
      summary: document.querySelectorAll(".summary")[1]?.textContent,
      verdict: [...document.querySelectorAll("table.verdicts td")].map((t) => t.textContent),
      links: [...document.querySelectorAll("a")].map((a) => a.textContent ?? ""),
      text: document.body.innerText,
    }));
    await page.close();
    expect(seen.scroll).toBeLessThanOrEqual(1400);
    expect(seen.titles).toEqual(["Plots", "01 · a race"]);
    expect(seen.badges).toEqual(["ran cleanly", "kernel died"]);
    expect(seen.summary).toBe("Fix 000: a741e679 makes tlb_flush_mmu() safe.");
    expect(seen.verdict).toEqual(["before", "lazy-mmu-batch", "before", "hpte-multi-hit", "46", "1", schedule]);
    expect(seen.text).toContain("parameters: cpus 2 · seed 7");
    expect(seen.text).toContain("exercise 1: passed");
    expect(seen.text).toContain("Also recorded (values in manifest.json): big");
    expect(seen.text).not.toContain('"series"');
    // Every link says what it opens.
    for (const l of seen.links) expect(l.length, l).toBeGreaterThan(4);
    expect(seen.links).toContain("Read the write-up (HTML page)");
  });
});

describe("a notebook whose kernel died", () => {
  let dead: string;
  beforeAll(async () => {
    dead = scratch("export-dead");
    await runWorkbook({
      root: ROOT,
      toolchain: loadToolchain(ROOT),
      settings: settings(),
      notebooksDir: path.join(FIXTURES, "runner", "killed.ipynb"),
      outDir: dead,
      reporter: new Reporter(() => undefined),
    });
  });

  it("says so on its own page, not only on the index", async () => {
    const page = await browser.newPage();
    await page.goto("file://" + path.join(dead, "killed.html"));
    const banner = await page.locator("#flushlab-run-status").innerText();
    expect(banner).toMatch(
      /^The kernel died during this run, so this page is incomplete\. kernel died while running cell 2/,
    );
    expect(await page.locator(".flushlab-dead").innerText()).toMatch(
      /Kernel died\. The kernel died while running this cell/,
    );
    await page.close();
    const nb = JSON.parse(fs.readFileSync(path.join(dead, "killed.ipynb"), "utf8"));
    expect(nb.metadata.flushlab_run.status).toBe("dead");
  });
});

/** A static file server for one folder and nothing else. */
async function serveFolder(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".json": "application/json" };
  const srv = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/+/, "");
    const file = path.join(dir, rel);
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => srv.close(() => r())) };
}
