// What a timeline shows about each step, shared by the plot and the step table under it: the lane (CPU and
// context), the class of object touched (the colour), the CPU switches, and the lock-held spans.
import type { TraceStep } from "../../lib/sim/trace";

/** Colour per object class, in the order classes first appear; local steps are grey. */
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
export const LOCAL = { name: "local (no shared object)", color: "#d9d9d9" };
export const OTHER = "other shared objects";

export const laneOf = (s: TraceStep) => `CPU ${s.cpu}${s.ctx === "irq" ? " irq" : ""}`;

/** `pte@pfn2[0]` → `pte`, `mm0.cpu_vm_mask` → `cpu_vm_mask`, `ptl@pfn2` → `ptl`: the kind of thing touched. */
export function objectClass(obj: string): string {
  const head = obj.split(/[@[]/)[0];
  return head.replace(/^\w+\./, "").trim() || obj;
}

export interface StepInfo {
  lanes: string[];
  /** Per lane: the thread (or handler) names seen in it. */
  threads: Map<string, string[]>;
  colorOf: (s: TraceStep) => string;
  classOf: (s: TraceStep) => string;
  classes: Array<{ name: string; color: string }>;
  /** Steps after which another CPU (or context) ran next. */
  switches: number[];
  /** acquire → release of one lock by one context (a span still open at the end runs to the last step). */
  held: Array<{ lane: string; obj: string; from: number; to: number; open: boolean }>;
}

export function stepInfo(trace: TraceStep[]): StepInfo {
  const lanes = [...new Map(trace.map((s) => [laneOf(s), s.cpu * 2 + (s.ctx === "irq" ? 1 : 0)])).entries()]
    .sort((a, b) => a[1] - b[1])
    .map(([l]) => l);
  const threads = new Map<string, string[]>();
  for (const s of trace) {
    const t = threads.get(laneOf(s)) ?? [];
    if (!t.includes(s.thread)) t.push(s.thread);
    threads.set(laneOf(s), t);
  }
  const seen: string[] = [];
  for (const s of trace) if (s.obj && !seen.includes(objectClass(s.obj))) seen.push(objectClass(s.obj));
  // Too many classes for distinct colours: the rarest share one ("other"); the rest keep first-seen order.
  const count = (c: string) => trace.filter((s) => s.obj && objectClass(s.obj) === c).length;
  const keep = new Set(
    [...seen].sort((a, b) => count(b) - count(a)).slice(0, PALETTE.length - (seen.length > PALETTE.length ? 1 : 0)),
  );
  const named = seen.filter((c) => keep.has(c));
  const classOf = (s: TraceStep) =>
    !s.obj ? LOCAL.name : named.includes(objectClass(s.obj)) ? objectClass(s.obj) : OTHER;
  const colors = new Map(named.map((c, i) => [c, PALETTE[i]]));
  colors.set(OTHER, PALETTE[PALETTE.length - 1]);
  colors.set(LOCAL.name, LOCAL.color);
  const classes = [...named, ...(seen.length > named.length ? [OTHER] : [])].map((name) => ({
    name,
    color: colors.get(name)!,
  }));
  const switches = trace
    .slice(0, -1)
    .filter((s, k) => s.proc !== trace[k + 1].proc)
    .map((s) => s.i);
  const held: StepInfo["held"] = [];
  const open = new Map<string, TraceStep>();
  for (const s of trace) {
    const key = `${s.proc} ${s.obj}`;
    if (s.what === "acquire" && s.obj) open.set(key, s);
    else if (s.what === "release" && open.has(key)) {
      held.push({ lane: laneOf(s), obj: s.obj, from: open.get(key)!.i, to: s.i, open: false });
      open.delete(key);
    }
  }
  const last = trace.length ? trace[trace.length - 1].i : 0;
  for (const s of open.values()) held.push({ lane: laneOf(s), obj: s.obj, from: s.i, to: last, open: true });
  return { lanes, threads, classOf, colorOf: (s) => colors.get(classOf(s))!, classes, switches, held };
}
