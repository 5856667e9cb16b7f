// The display adapter without a kernel: escaping, the plotly MIME bundle, timeline/chart figures, tables.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TraceStep, Violation } from "../../lib/sim/trace";
import { countsFigure, emit, escapeHtml, jsonForScript, latencyFigure, plotlyBundle, PLOTLY_MIME, resetPlotlyInjection, scriptSafe, summary, tableHtml, tableText, timelineFigure } from "../../kernel/display";

const step = (i: number, cpu: number, fn: string, kind: TraceStep["kind"] = "W", ctx: TraceStep["ctx"] = "task"): TraceStep =>
  ({ i, proc: cpu * 2 + (ctx === "irq" ? 1 : 0), cpu, ctx, thread: `t${cpu}`, fn, what: "store", obj: "counter", kind });

describe("escaping", () => {
  it("escapeHtml leaves no markup and round-trips through an HTML decoder", () => {
    fc.assert(fc.property(fc.string(), (s) => {
      const e = escapeHtml(s);
      expect(e).not.toMatch(/[<>"']/);
      const decoded = e.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
      expect(decoded).toBe(s);
    }));
  });

  it("jsonForScript can neither close the script tag nor open a comment, and parses back to the value", () => {
    fc.assert(fc.property(fc.jsonValue(), fc.constantFrom("</script>", "<!--", "</SCRIPT ", "\u2028"), (v, evil) => {
      const value = { v, evil };
      const js = jsonForScript(value);
      expect(js.toLowerCase()).not.toContain("</script");
      expect(js).not.toContain("<!--");
      expect(JSON.parse(js)).toEqual(JSON.parse(JSON.stringify(value)));
    }));
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
    const fig = { data: [{ type: "bar", name: "a</script>b", x: [1], y: [2] }], layout: { title: { text: "&lt;T&gt;<br>sub" } } };
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
  const trace = [step(0, 1, "inc", "R"), step(1, 0, "inc", "R"), step(2, 1, "inc"), step(3, 0, "<script>x</script>"), step(4, 0, "tick", "-", "irq")];
  const violation: Violation = {
    invariant: "lost-update", message: "counter is 1, expected 2", schedule: "1.0.1.0", steps: 4, preemptions: 1, at: 3,
    functions: ["inc"], trace,
  };

  it("draws one lane per CPU, in CPU order, and marks the violating step", () => {
    const fig = timelineFigure(violation);
    expect((fig.layout!.yaxis as { categoryarray: string[] }).categoryarray).toEqual(["CPU 0", "CPU 1"]);
    const marker = fig.data.find((d) => d.name === "lost-update")!;
    expect(marker).toMatchObject({ x: [3.9], y: ["CPU 0"] });
    const shapes = fig.layout!.shapes as Array<{ x0: number; x1: number }>;
    expect(shapes).toEqual([expect.objectContaining({ x0: 3, x1: 4 })]);
    expect((fig.layout!.title as { text: string }).text).toContain("schedule 1.0.1.0");
  });

  it("draws one labelled bar per step, one trace per function, and escapes every label", () => {
    const fig = timelineFigure(trace);
    const inc = fig.data.find((d) => d.name === "inc")!;
    expect(inc).toMatchObject({ base: [0, 1, 2], x: [1, 1, 1], y: ["CPU 1", "CPU 0", "CPU 1"], text: ["store", "store", "store"] });
    const evil = fig.data.find((d) => String(d.name).includes("script"))!;
    expect(evil.name).toBe("&lt;script&gt;x&lt;/script&gt;");
    expect(JSON.stringify(fig)).not.toContain("<script>");
    const irq = fig.data.find((d) => d.name === "tick")!;
    expect((irq.marker as { pattern: { shape: string[] } }).pattern.shape).toEqual(["/"]);
  });
});

describe("charts and tables", () => {
  it("counts: one bar per label, highlighted in red, labels escaped", () => {
    const fig = countsFigure(new Map([[1, 3], [2, 97]]), { highlight: (k) => k === "1", title: "<b>final</b>" });
    expect(fig.data[0]).toMatchObject({ x: ["1", "2"], y: [3, 97], marker: { color: ["#d62728", "#1f77b4"] } });
    expect((fig.layout!.title as { text: string }).text).toBe("&lt;b&gt;final&lt;/b&gt;");
  });

  it("latency: a box per series, and a summary with the tail", () => {
    const fig = latencyFigure({ flush: [1, 2, 3], "no flush": [4] });
    expect(fig.data.map((d) => d.type)).toEqual(["box", "box"]);
    expect(summary([5, 1, 3, 2, 4])).toEqual({ n: 5, min: 1, p50: 3, p99: 5, max: 5 });
  });

  it("tables escape cells, headers and captions, and line up as text", () => {
    const rows = [{ fn: "<i>x</i>", n: 1 }, { fn: "y", n: 22, extra: { a: 1 } }];
    const html = tableHtml(rows, { caption: "<c>" });
    expect(html).toContain("<caption>&lt;c&gt;</caption>");
    expect(html).toContain('<td style="text-align:left">&lt;i&gt;x&lt;/i&gt;</td>');
    expect(html).toContain('<td style="text-align:right">22</td>');
    expect(html).toContain('<td style="text-align:left">{&quot;a&quot;:1}</td>');
    expect(tableText(rows).split("\n")).toEqual(["fn        n   extra", "--------  --  -------", "<i>x</i>  1", 'y         22  {"a":1}']);
  });

  it("outside a kernel, emit falls back to text on stdout", () => {
    expect(emit({ "text/plain": "plain text" })).toBe("console");
  });
});
