// Coverage after a search (TLC prints one): which step sites the executions reached, against the sites each
// function the variant installs declares with event(fn, what) in its own file, so a reader sees whether every
// path of a fix's diff ran. Sites are matched by (fn, what); a site no installed function declares (hardware,
// the runtime's own) is listed apart.

import type { Machine } from "../sim/machine";
import { allEvents } from "../sim/event";
import { declarationOf, libFiles } from "./model_text";
import type { Session } from "./scenario";

export interface SiteCoverage {
  what: string;
  /** Steps that ran this site, over every counted execution. */
  hits: number;
}

export interface FunctionCoverage {
  name: string;
  /** Where the installed version is written (`lib/…`; "" for one defined outside lib/). */
  file: string;
  /** Its declared sites, in declaration order. */
  sites: SiteCoverage[];
  /** Sites that ran with this function's name but are not declared in its file (helpers named after it). */
  extra: SiteCoverage[];
}

export interface Coverage {
  functions: FunctionCoverage[];
  /** Reached sites of no installed function: hardware steps, the runtime's (start, irq, idle). */
  other: { fn: string; what: string; hits: number }[];
  sites: number;
  sitesReached: number;
  /** Installed functions that declare sites, and those of them with at least one site reached. */
  functionsWithSites: number;
  functionsReached: number;
}

/** Counts the steps of each site (by event id) while a search runs. */
export class CoverageCounter {
  hits: number[] = [];
  step(m: Machine): void {
    const id = m.eEv.id;
    this.hits[id] = (this.hits[id] ?? 0) + 1;
  }
  /** Add another counter's (a shard's, a worker's) hits, given as (fn, what) → hits. */
  addNamed(named: Record<string, number>): void {
    const ids = idsByKey();
    for (const [key, n] of Object.entries(named)) {
      const id = ids.get(key)?.[0];
      if (id !== undefined) this.hits[id] = (this.hits[id] ?? 0) + n;
    }
  }
  /** The hits by `fn\0what` (what a result file carries: ids differ between processes). */
  named(): Record<string, number> {
    const out: Record<string, number> = {};
    const evs = allEvents();
    for (let id = 0; id < this.hits.length; id++) {
      const n = this.hits[id];
      if (n) {
        const key = siteKey(evs[id].fn, evs[id].what);
        out[key] = (out[key] ?? 0) + n;
      }
    }
    return out;
  }
}

const siteKey = (fn: string, what: string): string => `${fn}\u0000${what}`;

let byKey: Map<string, number[]> | null = null;
function idsByKey(): Map<string, number[]> {
  const evs = allEvents();
  if (byKey && byKey.size > 0 && [...byKey.values()].reduce((a, v) => a + v.length, 0) === evs.length) return byKey;
  byKey = new Map();
  for (const e of evs) {
    const k = siteKey(e.fn, e.what);
    const l = byKey.get(k);
    if (l) l.push(e.id);
    else byKey.set(k, [e.id]);
  }
  return byKey;
}

/** The string literal at `s[i]` ('…', "…" or `…` without ${}), and where it ends; null if none. */
function literalAt(s: string, i: number): { text: string; end: number } | null {
  const q = s[i];
  if (q !== '"' && q !== "'" && q !== "`") return null;
  let out = "";
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === "\\") {
      out += s[++j];
      continue;
    }
    if (c === q) return { text: out, end: j + 1 };
    if (q === "`" && c === "$" && s[j + 1] === "{") return null;
    out += c;
  }
  return null;
}

/** The (fn, what) pairs a source file declares with event("fn", "what", …). */
export function declaredSites(text: string): { fn: string; what: string }[] {
  const out: { fn: string; what: string }[] = [];
  const re = /\bevent\(\s*/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const a = literalAt(text, re.lastIndex);
    if (!a) continue;
    const comma = /^\s*,\s*/.exec(text.slice(a.end, a.end + 40));
    if (!comma) continue;
    const b = literalAt(text, a.end + comma[0].length);
    if (b) out.push({ fn: a.text, what: b.text });
  }
  return out;
}

/** The coverage of `hits` (by `fn\0what`) against the sites of the functions `session` installs. */
export function coverageOf(session: Session, named: Record<string, number>): Coverage {
  const files = new Map(libFiles().map((f) => [f.rel, f.text]));
  const used = new Set<string>();
  const functions: FunctionCoverage[] = [];
  for (const name of Object.keys(session.k.installed).sort()) {
    const fn = session.k.installed[name];
    const decl = declarationOf(fn);
    const file = decl?.file ?? "";
    const text = files.get(file) ?? "";
    const sites: SiteCoverage[] = [];
    for (const s of declaredSites(text)) {
      if (s.fn !== name || sites.some((x) => x.what === s.what)) continue;
      const key = siteKey(s.fn, s.what);
      used.add(key);
      sites.push({ what: s.what, hits: named[key] ?? 0 });
    }
    const extra: SiteCoverage[] = [];
    for (const [key, hits] of Object.entries(named)) {
      const [f, what] = key.split("\u0000");
      if (f === name && !used.has(key)) {
        used.add(key);
        extra.push({ what, hits });
      }
    }
    if (sites.length > 0 || extra.length > 0) functions.push({ name, file, sites, extra });
  }
  const other = Object.entries(named)
    .filter(([key]) => !used.has(key))
    .map(([key, hits]) => {
      const [fn, what] = key.split("\u0000");
      return { fn, what, hits };
    })
    .sort((x, y) => (x.fn + x.what < y.fn + y.what ? -1 : 1));
  const withSites = functions.filter((f) => f.sites.length > 0);
  return {
    functions,
    other,
    sites: withSites.reduce((a, f) => a + f.sites.length, 0),
    sitesReached: withSites.reduce((a, f) => a + f.sites.filter((s) => s.hits > 0).length, 0),
    functionsWithSites: withSites.length,
    functionsReached: withSites.filter((f) => f.sites.some((s) => s.hits > 0)).length,
  };
}

/** Coverage as lines for a terminal: functions partly reached with the sites they missed, then those not reached. */
export function coverageText(c: Coverage): string[] {
  const lines = [
    `coverage: ${c.sitesReached}/${c.sites} declared step sites reached, in ${c.functionsReached}/${c.functionsWithSites} installed functions that declare sites`,
  ];
  const withSites = c.functions.filter((f) => f.sites.length > 0);
  const full = withSites.filter((f) => f.sites.every((s) => s.hits > 0));
  const partly = withSites.filter((f) => f.sites.some((s) => s.hits > 0) && f.sites.some((s) => s.hits === 0));
  const none = withSites.filter((f) => f.sites.every((s) => s.hits === 0));
  if (full.length) lines.push(`  every site reached: ${full.map((f) => f.name).join(", ")}`);
  for (const f of partly) {
    lines.push(`  ${f.name} (${f.file || "defined outside lib/"}): sites NOT reached:`);
    for (const s of f.sites) if (s.hits === 0) lines.push(`    - ${s.what}`);
  }
  if (none.length)
    lines.push(`  NOT reached at all: ${none.map((f) => `${f.name} (${f.file || "outside lib/"})`).join(", ")}`);
  return lines;
}
