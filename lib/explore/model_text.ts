// The model's TS text, found by identity and normalised (comments and white space out, string literals kept),
// for schedule fingerprints: what a function or scenario says in lib/, not how tsc, esbuild or tslab printed it.
// Read once per process; every lookup is cached, since sessions are built often.

import * as fs from "fs";
import * as path from "path";
import { fileURLToPath } from "url";
import { fnv1a, type KernelFn } from "../sim/kernel";
import { sourceFileOf, sourcePartsOf } from "../sim/sources";

export interface FunctionSource {
  name: string;
  /** Path relative to the project root, e.g. `lib/powerpc/tlb_batch.ts`; "" for a function defined elsewhere. */
  file: string;
  line: number;
  text: string;
}

export interface LibFile {
  /** `lib/…`, relative to the project root. */
  rel: string;
  text: string;
}

let libDir: string | null | undefined;
let files: LibFile[] | null = null;
let byRel: Map<string, LibFile> | null = null;

/** The project's lib/ (TS sources): the nearest ancestor of this file holding lib/sim/machine.ts, so dist/ and any other outDir find it. */
function findLib(): string | null {
  if (libDir !== undefined) return libDir;
  for (let d = path.resolve(__dirname, ".."); ; d = path.dirname(d)) {
    if (path.basename(d) === "lib" && fs.existsSync(path.join(d, "sim", "machine.ts"))) return (libDir = d);
    const c = path.join(d, "lib");
    if (fs.existsSync(path.join(c, "sim", "machine.ts"))) return (libDir = c);
    if (path.dirname(d) === d) return (libDir = null);
  }
}

/** Every .ts file under lib/, in path order (empty when the sources are not installed). */
export function libFiles(): LibFile[] {
  if (files) return files;
  files = [];
  const lib = findLib();
  if (!lib) return files;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
        files!.push({
          rel: path.relative(path.dirname(lib), p).split(path.sep).join("/"),
          text: fs.readFileSync(p, "utf8"),
        });
    }
  };
  walk(lib);
  return files;
}

function libFile(rel: string): LibFile | null {
  byRel ??= new Map(libFiles().map((f) => [f.rel, f]));
  return byRel.get(rel) ?? null;
}

/** A registered file (absolute, under lib/ or dist/lib/) as a path relative to the project root: `lib/…`. */
export function relFile(abs: string): string {
  const parts = abs.split(path.sep).join("/").split("/");
  const i = parts.lastIndexOf("lib");
  return parts.slice(i).join("/");
}

/** The declaration of `name` in one source file, with its doc comment, or null. */
export function extract(f: LibFile, name: string): FunctionSource | null {
  const re = new RegExp(`^export function\\*? ${name.replace(/\$/g, "\\$")}\\(`, "m");
  const m = re.exec(f.text);
  if (!m) return null;
  const lines = f.text.split("\n");
  let start = f.text.slice(0, m.index).split("\n").length - 1;
  const declLine = start;
  // Take the doc comment directly above.
  if (start > 0 && lines[start - 1].trim().endsWith("*/")) {
    let j = start - 1;
    while (j > 0 && !lines[j].trim().startsWith("/**") && !lines[j].trim().startsWith("//")) j--;
    start = j;
  } else while (start > 0 && lines[start - 1].trim().startsWith("//")) start--;
  // The body ends where the fingerprint's tokenizer ends the declaration (an empty `{}` may close on line 1).
  const t = tokenize(f.text, m.index, true);
  if (t.length === 0 || t[t.length - 1].text !== "}") return null;
  const end = f.text.slice(0, t[t.length - 1].end).split("\n").length - 1;
  return { name, file: f.rel, line: declLine + 1, text: lines.slice(start, end + 1).join("\n") };
}

/** The lib/ declaration of a registered function (by identity), or null for one defined elsewhere. */
export function declarationOf(fn: KernelFn): FunctionSource | null {
  const abs = sourceFileOf(fn);
  if (abs === null) return null;
  const f = libFile(relFile(abs));
  return f ? extract(f, fn.name) : null;
}

// ---- normalisation ---------------------------------------------------------------------------------------

/** One token of TS source: `lit` for string, template and regex literals (kept as written); `sp` if white space or a comment came before it. */
interface Token {
  text: string;
  lit: boolean;
  sp: boolean;
  /** Offset in the source just after the token. */
  end: number;
}

/** A character of an identifier or number: [A-Za-z0-9_$] or any non-ASCII one. */
function isWord(c: string | undefined): boolean {
  if (c === undefined) return false;
  const x = c.charCodeAt(0);
  return (
    (x >= 97 && x <= 122) ||
    (x >= 65 && x <= 90) ||
    (x >= 48 && x <= 57) ||
    x === 95 ||
    x === 36 ||
    (x >= 0x80 && x !== 0xa0 && x !== 0xfeff && x !== 0x2028 && x !== 0x2029)
  );
}
/** After these words a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);
/** White space or a line terminator, as JS reads them (the ASCII ones, NBSP, BOM, LS, PS). */
function isSpace(c: string): boolean {
  const x = c.charCodeAt(0);
  return x === 32 || (x >= 9 && x <= 13) || x === 0xa0 || x === 0xfeff || x === 0x2028 || x === 0x2029;
}

/**
 * `src` from `from` as tokens, comments and white space dropped: words, one-character punctuators, literals
 * whole. With `declaration`, stop after the declaration starting there: at the first `}` after its parameter
 * list that closes back to its level and is not followed by more of a return type (`{`, `[`, `|`, `&`).
 */
function tokenize(src: string, from = 0, declaration = false): Token[] {
  const out: Token[] = [];
  let sp = false;
  // declaration mode: bracket nesting, and whether a `}` just closed it (the end, unless a type goes on).
  let nest = 0;
  let closed = false;
  let params = false;
  let angle = 0;
  let done = false;
  // For each open `${`, the brace depth at which it closes back into template text.
  const templates: number[] = [];
  let depth = 0;
  let i = from;
  const n = src.length;
  const push = (text: string, lit: boolean, end: number): void => {
    if (declaration) {
      if (closed && (lit || (text !== "{" && text !== "[" && text !== "|" && text !== "&"))) {
        done = true;
        return;
      }
      closed = false;
      // A return type's generics (`Gen<{ c: 1 }>`): a `}` inside them is not the body's (`=>` is no bracket).
      if (!lit && params && nest === 0 && text === "<") angle++;
      else if (!lit && params && nest === 0 && text === ">" && out[out.length - 1]?.text !== "=" && angle > 0) angle--;
      if (!lit && (text === "(" || text === "[" || text === "{")) nest++;
      else if (!lit && (text === ")" || text === "]" || text === "}") && --nest === 0) {
        // The body's brace can only come after the parameter list (a generic's `{…}` comes before it).
        if (text === ")") params = true;
        else if (text === "}" && params && angle === 0) closed = true;
      }
    }
    out.push({ text, lit, sp, end });
    sp = false;
  };
  // Template text from i (just after "`" or the "}" closing a "${"), up to and including "`" or "${".
  const templateText = (start: number): void => {
    while (i < n && src[i] !== "`" && !(src[i] === "$" && src[i + 1] === "{")) i += src[i] === "\\" ? 2 : 1;
    if (i < n && src[i] === "$") {
      i += 2;
      templates.push(depth);
    } else i = Math.min(n, i + 1);
    push(src.slice(start, i), true, i);
  };
  // Can a `/` here start a regex? Not after an operand: a word (but a keyword), a literal, `)`, `]`, `}`.
  const regexAllowed = (): boolean => {
    const t = out[out.length - 1];
    if (t === undefined) return true;
    if (t.lit) return false;
    if (isWord(t.text[0])) return BEFORE_REGEX.has(t.text);
    return t.text !== ")" && t.text !== "]" && t.text !== "}";
  };
  while (i < n && !done) {
    const c = src[i];
    if (isSpace(c)) {
      sp = true;
      i++;
    } else if (c === "/" && src[i + 1] === "/") {
      while (i < n && src[i] !== "\n") i++;
      sp = true;
    } else if (c === "/" && src[i + 1] === "*") {
      const e = src.indexOf("*/", i + 2);
      i = e < 0 ? n : e + 2;
      sp = true;
    } else if (c === "'" || c === '"') {
      const s = i++;
      while (i < n && src[i] !== c && src[i] !== "\n") i += src[i] === "\\" ? 2 : 1;
      i = Math.min(n, i + 1);
      push(src.slice(s, i), true, i);
    } else if (c === "`") {
      i++;
      templateText(i - 1);
    } else if (c === "}" && templates.length > 0 && templates[templates.length - 1] === depth) {
      templates.pop();
      i++;
      templateText(i - 1);
    } else if (c === "/" && regexAllowed()) {
      // A regex literal: to the closing "/" outside a class, then its flags; a newline first means it was a division.
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== "\n" && (inClass || src[j] !== "/")) {
        if (src[j] === "\\") j++;
        else if (src[j] === "[") inClass = true;
        else if (src[j] === "]") inClass = false;
        j++;
      }
      if (j < n && src[j] === "/") {
        j++;
        while (j < n && isWord(src[j])) j++;
        push(src.slice(i, j), true, j);
        i = j;
      } else {
        push("/", false, i + 1);
        i++;
      }
    } else if (isWord(c)) {
      const s = i;
      while (i < n && isWord(src[i])) i++;
      push(src.slice(s, i), false, i);
    } else {
      if (c === "{") depth++;
      else if (c === "}") depth--;
      push(c, false, i + 1);
      i++;
    }
  }
  return out;
}

/** Tokens back to text: a space only where two words would merge, or `+ +` / `- -` would become `++` / `--`. */
function join(tokens: readonly Token[], from = 0, to = tokens.length): string {
  const out: string[] = [];
  for (let i = from; i < to; i++) {
    const t = tokens[i];
    // The previous token's last character (indexing the string being built would flatten it every time).
    const p = i > from ? tokens[i - 1].text[tokens[i - 1].text.length - 1] : undefined;
    if (t.sp && ((isWord(p) && isWord(t.text[0])) || ((p === "+" || p === "-") && t.text[0] === p))) out.push(" ");
    out.push(t.text);
  }
  return out.join("");
}

/**
 * `src` without comments and white space: one space is kept only where two words would otherwise merge (or
 * `+ +`, `- -`). String, template and regular-expression literals are copied as written, so a change inside one
 * is a change. (A newline that ASI reads as a semicolon is dropped too: harmless for a fingerprint.)
 */
export function normalise(src: string): string {
  return join(tokenize(src));
}

const fileTokens = new Map<string, Token[]>();

function tokensOf(f: LibFile): Token[] {
  let t = fileTokens.get(f.rel);
  if (t === undefined) fileTokens.set(f.rel, (t = tokenize(f.text)));
  return t;
}

/**
 * The normalised declaration `export function[*] name(…) … { … }` in `f`, however it is laid out or commented
 * inside (only that text is tokenized), or null.
 */
export function normalisedDeclaration(f: LibFile, name: string): string | null {
  const m = new RegExp(`^[ \\t]*export\\s+function\\s*\\*?\\s*${name.replace(/\$/g, "\\$")}\\s*[<(]`, "m").exec(f.text);
  if (!m) return null;
  const t = tokenize(f.text, m.index, true);
  return t.length > 0 && t[t.length - 1].text === "}" ? join(t) : null;
}

// ---- what fingerprints hash --------------------------------------------------------------------------------

const fnText = new WeakMap<object, string>();

/**
 * A modelled function as the fingerprint sees it: a registered lib/ function is its normalised TS declaration;
 * a wrapper recorded with defineParts is its parts; anything else (a notebook cell, an exercise answer) its own
 * normalised text, which is stable within one environment.
 */
export function modelText(fn: KernelFn): string {
  let t = fnText.get(fn);
  if (t === undefined) {
    const parts = sourcePartsOf(fn);
    const decl = parts === null ? registeredDeclaration(fn) : null;
    t =
      parts !== null
        ? `parts(${parts.map((p) => modelText(p as KernelFn)).join(",")})`
        : decl !== null
          ? `ts:${decl}`
          : `js:${normalise(fn.toString())}`;
    fnText.set(fn, t);
  }
  return t;
}

/** The normalised lib/ declaration of a registered function, or null. */
function registeredDeclaration(fn: KernelFn): string | null {
  const abs = sourceFileOf(fn);
  const f = abs === null ? null : libFile(relFile(abs));
  return f === null ? null : normalisedDeclaration(f, fn.name);
}

const fileText = new Map<string, string>();
const definedIn = new WeakMap<object, string | null>();

/** The lib/ file (`lib/….ts`) a compiled or source path belongs to, or null outside the project's lib/. */
function libFileOfScript(name: string | null | undefined): string | null {
  if (!name) return null;
  const lib = findLib();
  if (!lib) return null;
  const abs = name.startsWith("file:") ? fileURLToPath(name) : name;
  const root = path.dirname(lib);
  const rel = path.relative(root, abs).split(path.sep).join("/");
  if (rel.startsWith("..") || path.isAbsolute(rel) || rel.startsWith("node_modules/")) return null;
  const parts = rel.split("/");
  const i = parts.lastIndexOf("lib");
  if (i < 0) return null;
  const ts = parts.slice(i).join("/").replace(/\.js$/, ".ts");
  return libFile(ts) ? ts : null;
}

/**
 * Record the lib/ file whose code is calling (through lib/explore) right now, as the file that defines
 * `def`: the first stack frame outside lib/explore/, mapped from dist/…js back to lib/…ts. A scenario
 * defined elsewhere (a test, a notebook cell) records null.
 */
export function recordDefinition(def: object): void {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let frames: NodeJS.CallSite[] = [];
  try {
    Error.stackTraceLimit = 20;
    Error.prepareStackTrace = (_e, cs) => cs;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, recordDefinition);
    frames = Array.isArray(holder.stack) ? (holder.stack as NodeJS.CallSite[]) : [];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  let file: string | null = null;
  for (const f of frames) {
    const name = f.getFileName();
    const rel = libFileOfScript(name);
    if (rel !== null && rel.startsWith("lib/explore/")) continue;
    file = rel;
    break;
  }
  definedIn.set(def, file);
}

/** The lib/ file recorded as defining `def` (see recordDefinition), or null. */
export function definitionFile(def: object): string | null {
  return definedIn.get(def) ?? null;
}

/** A scenario as the fingerprint sees it: the normalised TS of its lib/ file, or else its setup's own text. */
export function scenarioText(def: { setup: (...a: never[]) => unknown }): string {
  const rel = definitionFile(def);
  if (rel === null) return `js:${normalise(def.setup.toString())}`;
  let t = fileText.get(rel);
  if (t === undefined) fileText.set(rel, (t = `ts:${join(tokensOf(libFile(rel)!))}`));
  return t;
}

const digests = new WeakMap<object, string>();

/** FNV-1a of scenarioText, cached per scenario: a session hashes these 8 characters, not the whole file again. */
export function scenarioDigest(def: { setup: (...a: never[]) => unknown }): string {
  let d = digests.get(def);
  if (d === undefined) digests.set(def, (d = fnv1a(scenarioText(def)).toString(16).padStart(8, "0")));
  return d;
}
