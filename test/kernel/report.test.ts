// `flushlab report`: the page for the races of fixes 000 (lazy-mmu-batch) and 002 (split-tlb-flush), opened in
// headless Chromium with no network: the inspector moves with the arrow keys and the slider, and the translation
// state it shows at a step is the one a fresh replay of the schedule, stopped after that step, has.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import "../../lib/fixes/index";
import { replay } from "../../lib/explore/explore";
import { buildReport, reportHtml, reportText } from "../../kernel/report";
import { translationState } from "../../kernel/report-state";
import { run } from "../../lib/cli/main";
import { launchChromium } from "./browser";
import { scratch } from "./helpers";

/** The inspector's translation table as [where, va, pfn, detail, mark] rows. */
async function shownState(page: import("playwright-core").Page): Promise<string[][]> {
  return page.$$eval("#xlate tbody tr", (trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
  );
}

const expected = (scenario: string, schedule: string, afterStep: number) =>
  translationState(replay(scenario, { schedule, stopAt: afterStep + 1 }).machine).map((r) => [
    r.where,
    r.va,
    r.pfn === null ? "" : String(r.pfn),
    r.detail,
    r.mark,
  ]);

describe("flushlab report", () => {
  for (const [scenario, mark] of [
    ["lazy-mmu-batch", /duplicate/],
    ["split-tlb-flush", /stale: its PTE is cleared/],
  ] as const) {
    it(`${scenario}: the page's inspector moves and shows the replayed machine's state at each step`, async () => {
      const r = buildReport(scenario, { variant: "before", verdictTimeLimit: 20 });
      const v = r.violation;
      expect(r.fixedVariant).toBe("after");
      expect(r.verdicts.map((x) => x.variant)).toContain("after");
      expect(r.verdicts.find((x) => x.variant === "before")!.invariant).toBe(v.invariant);
      const file = path.join(scratch(`report-${scenario}`), "race.html");
      fs.writeFileSync(file, reportHtml(r));
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const requests: string[] = [];
        page.on("request", (q) => {
          if (!q.url().startsWith("file:") && !q.url().startsWith("data:")) requests.push(q.url());
        });
        await page.goto(`file://${file}`);
        await page.waitForFunction(() => document.body.getAttribute("data-step") !== "");
        expect(await page.getAttribute("body", "data-step")).toBe(String(v.at));
        expect(await shownState(page)).toEqual(expected(scenario, v.schedule, v.at));
        await page.keyboard.press("ArrowLeft");
        await page.keyboard.press("ArrowLeft");
        await page.keyboard.press("ArrowLeft");
        expect(await page.getAttribute("body", "data-step")).toBe(String(v.at - 3));
        expect(await shownState(page)).toEqual(expected(scenario, v.schedule, v.at - 3));
        // Somewhere on the way the harmful translation is marked, as the replayed machine has it.
        let seen = false;
        for (let i = v.at; i >= 0 && !seen; i--) {
          await page.fill("#step", String(i)).catch(() => undefined);
          await page.$eval(
            "#step",
            (el, x) => {
              (el as HTMLInputElement).value = String(x);
              el.dispatchEvent(new Event("input"));
            },
            i,
          );
          const rows = await shownState(page);
          expect(rows).toEqual(expected(scenario, v.schedule, i));
          seen = rows.some((row) => mark.test(row[4]));
        }
        expect(seen).toBe(true);
        expect(await page.textContent("#replay")).toBe(r.replayCommand);
        expect(await page.$$eval(".fl-diff td.add", (t) => t.length)).toBeGreaterThan(0);
        expect(await page.$("#fl-timeline .main-svg")).not.toBeNull(); // plotly drew, from the inlined copy
        expect(requests).toEqual([]);
      } finally {
        await browser.close();
      }
      const text = reportText(r);
      expect(text).toContain(`schedule: ${v.schedule}`);
      expect(text).toMatch(new RegExp(`VIOLATION ${v.invariant}`));
      expect(text).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@$/m);
    });
  }

  it("the CLI writes the page, and refuses html without --out and a timed scenario", () => {
    const out = path.join(scratch("report-cli"), "r.html");
    const sink: string[] = [];
    const err: string[] = [];
    expect(
      run(
        ["report", "lost-update", "--variant", "racy", "--out", out],
        (s) => sink.push(s),
        (s) => err.push(s),
      ),
    ).toBe(1);
    expect(fs.readFileSync(out, "utf8")).toMatch(/<h1>lost-update \/ racy: lost-update<\/h1>/);
    expect(
      run(
        ["report", "lost-update"],
        () => {},
        () => {},
      ),
    ).toBe(2);
    expect(
      run(
        ["report", "lazy-mmu-workload", "--format", "text"],
        () => {},
        () => {},
      ),
    ).toBe(2);
    const text: string[] = [];
    expect(
      run(
        ["report", "lost-update", "--variant", "racy", "--format", "text"],
        (s) => text.push(s),
        () => {},
      ),
    ).toBe(1);
    expect(text.join("\n")).toMatch(/flushlab replay lost-update --variant racy --schedule fl1\./);
  });
});
