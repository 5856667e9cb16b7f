// The display adapter without a kernel: escaping, the plotly MIME bundle, timeline/chart figures, tables.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TraceStep, Violation } from "../../lib/sim/trace";
import {
  countsFigure,
  emit,
  escapeHtml,
  jsonForScript,
  latencyFigure,
  plotlyBundle,
  PLOTLY_MIME,
  resetPlotlyInjection,
  scriptSafe,
  summary,
  tableHtml,
  tableText,
  timelineFigure,
} from "../../kernel/display";
import { stepTableHtml } from "../../kernel/display/timeline-table";

describe("escaping", () => {
  it("escapeHtml leaves no markup and round-trips through an HTML decoder", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const e = escapeHtml(s);
        expect(e).not.toMatch(/[<>"']/);
        const decoded = e
          .replace(/&lt;/g, "<")
          .replace(/&gt;/g, ">")
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, "&");
        expect(decoded).toBe(s);
      }),
    );
  });

  it("jsonForScript can neither close the script tag nor open a comment, and parses back to the value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom("</script>", "<!--", "</SCRIPT ", "\u2028"), (v, evil) => {
        const value = { v, evil };
        const js = jsonForScript(value);
        expect(js.toLowerCase()).not.toContain("</script");
        expect(js).not.toContain("<!--");
        expect(JSON.parse(js)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it("scriptSafe neutralises closing tags and comment openers in inlined library code", () => {
    expect(scriptSafe('var a = "</script><!--";')).toBe('var a = "<\\/script><\\!--";');
    expect(scriptSafe("x</SCRIPT>")).not.toMatch(/<\/script/i);
  });
});

describe("plotlyBundle", () => {
  it("carries the figure as a plotly JSON object, text/plain, and HTML with plotly.js only the first time", () => {
    resetPlotlyInjection();
    // A raw "</script>" (must not break the HTML) and an escaped title (shown decoded in text/plain).
    const fig = {
      data: [{ type: "bar", name: "a</script>b", x: [1], y: [2] }],
      layout: { title: { text: "&lt;T&gt;<br>sub" } },
    };
    const first = plotlyBundle(fig);
    const second = plotlyBundle(fig);
    expect(first[PLOTLY_MIME]).toEqual({ data: fig.data, layout: fig.layout, config: {} });
    expect(first["text/plain"]).toBe("<Plotly figure: <T> · sub; 1 trace(s): ab>");
    const html1 = String(first["text/html"]);
    const html2 = String(second["text/html"]);
    expect(html1.length).toBeGreaterThan(1_000_000);
    expect(html2.length).toBeLessThan(5_000);
    // Exactly one "</script" per <script> element: nothing inside a script body closes it early.
    for (const html of [html1, html2]) {
      expect((html.match(/<\/script/gi) ?? []).length).toBe((html.match(/<script/gi) ?? []).length);
    }
    expect(plotlyBundle(fig, { includeLibrary: true })["text/html"]).toSatisfy((h: string) => h.length > 1_000_000);
  });
});

describe("timelineFigure", () => {
  const at = (
    i: number,
    cpu: number,
    fn: string,
    what: string,
    obj: string,
    kind: TraceStep["kind"] = "W",
    ctx: TraceStep["ctx"] = "task",
  ): TraceStep => ({ i, proc: cpu * 2 + (ctx === "irq" ? 1 : 0), cpu, ctx, thread: `t${cpu}`, fn, what, obj, kind });
  const trace = [
    at(0, 1, "inc", "load", "counter", "R"),
    at(1, 0, "spin_lock", "acquire", "ptl@pfn2"),
    at(2, 0, "zap", "clear PTE", "pte@pfn2[0]"),
    at(3, 0, "spin_unlock", "release", "ptl@pfn2"),
    at(4, 1, "<script>x</script>", "store", "<b>obj</b>@x"),
    at(5, 0, "tick", "irq work", "", "-", "irq"),
  ];
  const violation: Violation = {
    invariant: "lost-update",
    message: "counter is 1, expected 2",
    schedule: "1.0.1.0",
    steps: 5,
    preemptions: 1,
    at: 4,
    functions: ["inc"],
    trace,
  };
  type Shape = { type: string; x0: number; x1: number; y0: number; yref: string };

  it("draws one lane per CPU and context, in CPU order, and marks the violating step", () => {
    const fig = timelineFigure(violation);
    expect((fig.layout!.yaxis as { categoryarray: string[] }).categoryarray).toEqual(["CPU 0", "CPU 0 irq", "CPU 1"]);
    const marker = fig.data.find((d) => String(d.name).startsWith("violating step"))!;
    expect(marker).toMatchObject({ name: "violating step #4: lost-update", x: [4.5], y: ["CPU 1"] });
    const shapes = fig.layout!.shapes as Shape[];
    expect(shapes.filter((s) => s.type === "rect" && s.yref === "paper")).toEqual([
      expect.objectContaining({ x0: 4, x1: 5 }),
    ]);
    expect((fig.layout!.title as { text: string }).text).toContain("schedule 1.0.1.0");
  });

  it("colours steps by the class of object touched (reads lighter, local steps grey), not by function", () => {
    const fig = timelineFigure(trace);
    const names = fig.data.filter((d) => d.type === "bar").map((d) => d.name);
    expect(names).toEqual(["counter", "ptl", "pte", "&lt;b&gt;obj&lt;/b&gt;", "local (no shared object)"]);
    const ptl = fig.data.find((d) => d.name === "ptl")!;
    expect(ptl).toMatchObject({ base: [1, 3], y: ["CPU 0", "CPU 0"], customdata: [1, 3] });
    expect((fig.data.find((d) => d.name === "counter")!.marker as { opacity: number[] }).opacity).toEqual([0.5]);
    // No text in the bars: the step table says what each step does.
    expect(fig.data.some((d) => "text" in d)).toBe(false);
    expect(JSON.stringify(fig)).not.toContain("<script>");
    expect(JSON.stringify(fig)).not.toContain("<b>obj");
  });

  it("draws the lock-held span under its lane and a dashed line at every CPU switch", () => {
    const fig = timelineFigure(trace);
    const shapes = fig.layout!.shapes as Shape[];
    const held = shapes.filter((s) => s.type === "rect" && s.yref === "y");
    expect(held).toEqual([expect.objectContaining({ x0: 1, x1: 4, y0: 0.34 })]);
    expect((fig.layout!.annotations as Array<{ text: string }>).map((a) => a.text)).toEqual(["holds ptl@pfn2"]);
    // 0→1 (CPU 1 → CPU 0), 3→4 (→ CPU 1), 4→5 (→ CPU 0 irq).
    expect(shapes.filter((s) => s.type === "line").map((s) => s.x0)).toEqual([1, 4, 5]);
  });

  it("lists every step in the table under the plot, escaped, the violating one marked", () => {
    const html = stepTableHtml(trace, violation, "p1");
    expect(html.match(/<tr id="p1-step-\d+"/g)).toHaveLength(6);
    expect(html).toContain("<code>&lt;script&gt;x&lt;/script&gt;</code>");
    expect(html).not.toContain("<script>x");
    expect(html).toMatch(/<tr id="p1-step-4" style="background:#fde8e8[^"]*">[^\n]*✖ lost-update/);
    // Locks held by the context at each step.
    expect(html).toMatch(/<tr id="p1-step-2"[^\n]*<code>ptl@pfn2<\/code><\/td><\/tr>/);
  });
});

describe("charts and tables", () => {
  it("counts: one bar per label, highlighted in red, labels escaped", () => {
    const fig = countsFigure(
      new Map([
        [1, 3],
        [2, 97],
      ]),
      { highlight: (k) => k === "1", title: "<b>final</b>" },
    );
    expect(fig.data[0]).toMatchObject({ x: ["1", "2"], y: [3, 97], marker: { color: ["#d62728", "#1f77b4"] } });
    expect((fig.layout!.title as { text: string }).text).toBe("&lt;b&gt;final&lt;/b&gt;");
  });

  it("latency: a box per series, and a summary with the tail", () => {
    const fig = latencyFigure({ flush: [1, 2, 3], "no flush": [4] });
    expect(fig.data.map((d) => d.type)).toEqual(["box", "box"]);
    expect(summary([5, 1, 3, 2, 4])).toEqual({ n: 5, min: 1, p50: 3, p99: 5, max: 5 });
  });

  it("tables escape cells, headers and captions, and line up as text", () => {
    const rows = [
      { fn: "<i>x</i>", n: 1 },
      { fn: "y", n: 22, extra: { a: 1 } },
    ];
    const html = tableHtml(rows, { caption: "<c>" });
    expect(html).toContain("<caption>&lt;c&gt;</caption>");
    expect(html).toContain('<td style="text-align:left">&lt;i&gt;x&lt;/i&gt;</td>');
    expect(html).toContain('<td style="text-align:right">22</td>');
    expect(html).toContain('<td style="text-align:left">{&quot;a&quot;:1}</td>');
    expect(tableText(rows).split("\n")).toEqual([
      "fn        n   extra",
      "--------  --  -------",
      "<i>x</i>  1",
      'y         22  {"a":1}',
    ]);
  });

  it("tables round fractions to 3 significant digits, integers whole", () => {
    const text = tableText([{ g: 0.000183456789, r: 2.3456789, n: 123456789, big: 1.5e9 + 0.25 }]);
    expect(text.split("\n")[2].split(/\s+/)).toEqual(["1.83e-4", "2.35", "123456789", "1.50e+9"]);
    expect(tableHtml([{ x: 1 / 3 }])).toContain(">0.333</td>");
  });

  it("outside a kernel, emit falls back to text on stdout", () => {
    expect(emit({ "text/plain": "plain text" })).toBe("console");
  });
});

describe("translations", () => {
  it("marks lazy-mmu-batch's two HPTEs of one page at the violating step, and nothing in a serial run", async () => {
    await import("../../lib/fixes/index");
    const { explore, replay } = await import("../../lib/explore/explore");
    const { translationsHtml, translationState } = await import("../../kernel/display/index");
    const v = explore("lazy-mmu-batch", { variant: "before" }).violation!;
    const rows = translationState(replay("lazy-mmu-batch", { schedule: v.schedule, stopAt: v.at + 1 }).machine);
    const hptes = rows.filter((r) => r.where.startsWith("HPTE"));
    expect(hptes).toHaveLength(2);
    for (const h of hptes) expect(h.mark).toMatch(/duplicate/);
    expect(translationsHtml(rows)).toMatch(/<tr class="mark">.*HPTE slot/);
    const clean = replay("lazy-mmu-batch", { schedule: v.schedule, stopAt: 1 }).machine;
    expect(translationState(clean).filter((r) => r.mark && !r.where.startsWith("frame"))).toEqual([]);
  });
});
