// Schedule fingerprints hash the model's TS source, normalised: a string found by the CLI (compiled by tsc)
// replays under vitest (compiled by esbuild); comments and white space never matter, one token does; an
// override is fingerprinted by its own text.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { lostUpdate, counter_inc, counter_inc_locked } from "../../lib/examples/lost_update";
import "../../lib/fixes/index";
import "../../lib/examples/index";
import { replay, explore } from "../../lib/explore/explore";
import { scenarios, Session } from "../../lib/explore/scenario";
import {
  declarationOf,
  definitionFile,
  modelText,
  normalise,
  normalisedDeclaration,
} from "../../lib/explore/model_text";
import { page_mkclean_always_walk } from "../../lib/fixes/split-tlb-flush/exercises";
import type { Gen } from "../../lib/sim/machine";
import { event } from "../../lib/sim/event";
import type { KernelBase } from "../../lib/sim/kernel";

const ROOT = path.resolve(__dirname, "..", "..");
// Inside the project (git-ignored), so the build finds lib/ above it exactly as dist/ does.
const TMP = path.join(ROOT, "test", "kernel", "tmp", "fingerprint-build"); // not the kernel test's scratch("fingerprint")
const BUILT = path.join(TMP, "tsc");

/** Run `code` in a node process with `fl` = the tsc-built library under `root`; its stdout, parsed. */
function node(root: string, code: string): any {
  const lib = path.join(root, "lib", "index.js");
  return JSON.parse(
    execFileSync(process.execPath, ["-e", `const fl = require(${JSON.stringify(lib)});\n${code}`], {
      encoding: "utf8",
    }),
  );
}

const ALL_FINGERPRINTS = `const out = {};
for (const s of fl.explorer.scenarios()) for (const v of Object.keys(s.variants)) out[s.id + "/" + v] = new fl.Session(s, { variant: v }).fingerprint;
console.log(JSON.stringify(out));`;

function here(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of scenarios()) {
    if (s.id.startsWith("test-")) continue;
    for (const v of Object.keys(s.variants)) out[`${s.id}/${v}`] = new Session(s, { variant: v }).fingerprint;
  }
  return out;
}

beforeAll(() => {
  fs.rmSync(TMP, { recursive: true, force: true });
  // The tsc `npm run build` runs (node_modules/.bin/tsc), into a folder of our own: dist/ may be in use.
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, "node_modules", ".bin", "tsc"),
      "-p",
      path.join(ROOT, "tsconfig.json"),
      "--outDir",
      BUILT,
      "--declaration",
      "false",
    ],
    { cwd: ROOT },
  );
}, 120_000);
// The copies hold .ts files: leave none for a type-checker or linter to find.
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

describe("a schedule string survives the compiler", () => {
  it("tsc and esbuild print the model differently (what the fingerprint must not see)", () => {
    const compiled = node(BUILT, `console.log(JSON.stringify(fl.examples.counter_inc_locked.toString()))`);
    expect(compiled).not.toBe(counter_inc_locked.toString());
  });

  it("a violation found by the CLI built with tsc replays in-process", () => {
    for (const [id, variant] of [
      ["lost-update", "racy"],
      ["split-tlb-flush", "before"],
      ["lazy-mmu-batch", "before"],
    ]) {
      let out = "";
      try {
        execFileSync(
          process.execPath,
          [path.join(BUILT, "lib", "cli", "main.js"), "explore", id, "--variant", variant, "--json"],
          { encoding: "utf8" },
        );
      } catch (e) {
        out = (e as { stdout: string }).stdout; // exit 1: a violation was found
      }
      const found = JSON.parse(out).violation;
      expect(found, `${id}/${variant}`).toBeTruthy();
      const r = replay(id, { schedule: found.schedule });
      expect(r.violation?.invariant).toBe(found.invariant);
      expect(r.violation?.steps).toBe(found.steps);
    }
  });

  it("every registered scenario and variant has one fingerprint under tsc and under vitest", () => {
    const mine = here();
    expect(Object.keys(mine).length).toBeGreaterThan(10);
    expect(node(BUILT, ALL_FINGERPRINTS)).toEqual(mine);
  });

  it("every function a lib/ scenario installs, and the scenario itself, is hashed from its TS source", () => {
    const ts = (t: string): boolean => t.startsWith("ts:") || (t.startsWith("parts(") && !t.includes("js:"));
    for (const s of scenarios()) {
      if (s.id.startsWith("test-")) continue;
      expect(definitionFile(s), s.id).toMatch(/^lib\/.*\.ts$/);
      for (const v of Object.keys(s.variants)) {
        const k = new Session(s, { variant: v }).k;
        const compiled = Object.keys(k.installed).filter((n) => !ts(modelText(k.installed[n])));
        expect(compiled, `${s.id}/${v}`).toEqual([]);
      }
    }
    expect(definitionFile(lostUpdate)).toBe("lib/examples/lost_update.ts");
  });

  it("the declaration hashed is the one functionSource shows, for every installed lib/ function", () => {
    let checked = 0;
    for (const s of scenarios()) {
      if (s.id.startsWith("test-")) continue;
      for (const v of Object.keys(s.variants)) {
        for (const fn of Object.values(new Session(s, { variant: v }).k.installed)) {
          const shown = declarationOf(fn);
          if (shown === null) continue;
          expect(modelText(fn), `${s.id}/${v}: ${fn.name}`).toBe(`ts:${normalise(shown.text)}`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe("what changes a fingerprint", () => {
  /** A copy of the project: the tsc build as dist/, and lib/ with `edit` applied to some of its TS files. */
  function copyWith(name: string, edit: Record<string, (src: string) => string>): string {
    const root = path.join(TMP, name);
    fs.cpSync(path.join(BUILT, "lib"), path.join(root, "dist", "lib"), { recursive: true });
    fs.cpSync(path.join(ROOT, "lib"), path.join(root, "lib"), { recursive: true });
    for (const [file, f] of Object.entries(edit)) {
      const p = path.join(root, file);
      const before = fs.readFileSync(p, "utf8");
      const after = f(before);
      expect(after, `${file}: the edit applies`).not.toBe(before);
      fs.writeFileSync(p, after);
    }
    return path.join(root, "dist");
  }
  const fingerprints = (dist: string): Record<string, string> => node(dist, ALL_FINGERPRINTS);

  it("comments and white space in a modelled function, the scenario file and a sync primitive do not", () => {
    const base = fingerprints(copyWith("same", {}));
    expect(base).toEqual(here());
    const cosmetic = fingerprints(
      copyWith("cosmetic", {
        "lib/examples/lost_update.ts": (s) =>
          s
            .replace(
              "  const v = x.v;\n",
              "  // the load the other CPU can overtake\n  const   v =\n      x.v;  /* a register */\n\n",
            )
            .replace("    const lock = spin_lock_init(m,", "    /* one lock */ const lock =\tspin_lock_init( m ,"),
        "lib/sim/spinlock.ts": (s) =>
          s.replace(
            /^export function\* spin_lock\(/m,
            "// the kernel's spin_lock\n\n\nexport   function*  spin_lock (",
          ),
      }),
    );
    expect(cosmetic).toEqual(base);
  });

  it("one token does, and only where that code is installed or defines the scenario", () => {
    const base = here();
    const token = fingerprints(
      copyWith("token", { "lib/examples/lost_update.ts": (s) => s.replace("x.v = v + 1;", "x.v = v + 2;") }),
    );
    // counter_inc is installed by both variants (the spinlock one calls it), and lives in the scenario's file.
    expect(token["lost-update/racy"]).not.toBe(base["lost-update/racy"]);
    expect(token["lost-update/spinlock"]).not.toBe(base["lost-update/spinlock"]);
    expect(token["split-tlb-flush/before"]).toBe(base["split-tlb-flush/before"]);
    // Inside a string literal, white space is a token's text.
    const str = fingerprints(
      copyWith("string", {
        "lib/examples/lost_update.ts": (s) => s.replace('"store counter + 1"', '"store counter  + 1"'),
      }),
    );
    expect(str["lost-update/racy"]).not.toBe(base["lost-update/racy"]);
    // spin_lock is installed by every scenario: all change; powerpc's hash code only where it is installed.
    const spin = fingerprints(
      copyWith("spin", {
        "lib/sim/spinlock.ts": (s) =>
          s.replace(/^(export function\* spin_lock\([^)]*\)[^{]*\{)/m, '$1\n  k.count("spin");'),
      }),
    );
    for (const key of Object.keys(base)) expect(spin[key], key).not.toBe(base[key]);
    const ppc = fingerprints(
      copyWith("ppc", {
        "lib/powerpc/hash.ts": (s) =>
          s.replace(/^(export function\* hash_page\([^)]*\)[^{]*\{)/m, '$1\n  k.count("hash");'),
      }),
    );
    expect(ppc["lost-update/racy"]).toBe(base["lost-update/racy"]);
    expect(ppc["lazy-mmu-batch/before"]).not.toBe(base["lazy-mmu-batch/before"]);
  });
});

describe("overrides", () => {
  const E_MY_LOAD = event("my_counter_inc", "load");
  const E_MY_STORE = event("my_counter_inc", "store");
  /** A student's counter_inc: the same race, written their way. */
  function* my_counter_inc(k: KernelBase, x: { id: number; v: number }): Gen {
    k.R(x, E_MY_LOAD);
    yield;
    const old = x.v;
    k.W(x, E_MY_STORE);
    yield;
    x.v = old + 1;
  }

  it("an override is fingerprinted by its own text, not as the function it replaces", () => {
    const base = new Session(lostUpdate, { variant: "racy" }).fingerprint;
    const mine = new Session(lostUpdate, { variant: "racy", overrides: { counter_inc: my_counter_inc } }).fingerprint;
    expect(mine).not.toBe(base);
    expect(new Session(lostUpdate, { variant: "racy", overrides: { counter_inc: my_counter_inc } }).fingerprint).toBe(
      mine,
    );
    expect(modelText(my_counter_inc)).toBe(`js:${normalise(my_counter_inc.toString())}`);
    // Replacing counter_inc by its own base version is no change at all.
    expect(new Session(lostUpdate, { variant: "racy", overrides: { counter_inc } }).fingerprint).toBe(base);
  });

  it("an override's text is normalised: the same code written differently is the same model", () => {
    const a = (0, eval)("(function* inc(k, x) { k.W(x, 0); yield; x.v = x.v + 1; })");
    const b = (0, eval)(
      "(function*   inc(k, x) {\n  // store\n  k.W( x, 0 );\n  yield;\n  x.v = x.v + 1; /* done */\n})",
    );
    const c = (0, eval)("(function* inc(k, x) { k.W(x, 0); yield; x.v = x.v + 2; })");
    const fp = (f: unknown) =>
      new Session(lostUpdate, { variant: "racy", overrides: { counter_inc: f as typeof counter_inc } }).fingerprint;
    expect(fp(b)).toBe(fp(a));
    expect(fp(c)).not.toBe(fp(a));
  });

  it("a schedule found with an override replays with it, and is refused without it (and vice versa)", () => {
    const overrides = { counter_inc: my_counter_inc };
    const mine = explore(lostUpdate, { variant: "racy", overrides }).violation!;
    expect(mine.invariant).toBe("lost-update");
    expect(replay(lostUpdate, { schedule: mine.schedule, overrides }).violation?.invariant).toBe("lost-update");
    expect(() => replay(lostUpdate, { schedule: mine.schedule })).toThrow(/different model/);
    const base = explore(lostUpdate, { variant: "racy" }).violation!;
    expect(() => replay(lostUpdate, { schedule: base.schedule, overrides })).toThrow(/different model/);
  });

  it("an exercise answer registered in lib/ is hashed from its TS", () => {
    expect(modelText(page_mkclean_always_walk)).toMatch(/^ts:export function\*page_mkclean_always_walk\(/);
  });
});

describe("normalise", () => {
  it("finds a declaration however it is laid out, to the end of its body, past braces in its types", () => {
    const f = {
      rel: "lib/x.ts",
      text: [
        "/** doc */",
        "export function* g<T extends { a: number }>(k: T, o: { b: string }): Gen<{ c: 1 }> {",
        "  if (x) { y(`${ {z: 1}.z }`); } // }",
        "}",
        "  export   function   f ( a ) : { r: number } {",
        "  return { r: a }",
        "    }",
        "export function q(): (a: { x: 1 }) => Map<string, { y: 2 }> { return z; }",
        "const tail = 1;",
      ].join("\n"),
    };
    expect(normalisedDeclaration(f, "g")).toBe(
      "export function*g<T extends{a:number}>(k:T,o:{b:string}):Gen<{c:1}>{if(x){y(`${{z:1}.z}`);}}",
    );
    expect(normalisedDeclaration(f, "f")).toBe("export function f(a):{r:number}{return{r:a}}");
    expect(normalisedDeclaration(f, "q")).toBe("export function q():(a:{x:1})=>Map<string,{y:2}>{return z;}");
    expect(normalisedDeclaration(f, "tail")).toBeNull();
  });

  it("drops comments and white space, keeps one space between words and every literal as written", () => {
    expect(normalise("if (x) {\n  return   y // why\n}\n/* block */ else z")).toBe("if(x){return y}else z");
    expect(normalise(`s = "it's // not";  t = 'a  b'`)).toBe(`s="it's // not";t='a  b'`);
    expect(normalise("const a = `x ${ b /* c */ + `y ${ {q: 1}.q }` } z // kept`; // dropped")).toBe(
      "const a=`x ${b+`y ${{q:1}.q}`} z // kept`;",
    );
    expect(normalise("return /a\\/ b[/]/g.test(s) // c")).toBe("return/a\\/ b[/]/g.test(s)");
    expect(normalise("x = a / b / c")).toBe("x=a/b/c");
    expect(normalise("y = a++ + +b - -c")).toBe("y=a++ + +b- -c");
  });
});
