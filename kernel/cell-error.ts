// One line that says what went wrong in a cell, in the notebook's terms, from tslab's stderr text: a TS
// diagnostic as "line L, col C: message"; a runtime error as its message plus where in the cell it happened
// (Node puts the throwing line's JS source first, then "^"; tslab's compiled lines do not match the cell's).

const FRAME = /^\s+at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/;
const DIAGNOSTIC = /^(\d+):(\d+) - (.*)$/;
const CELL_FILE = "evalmachine.<anonymous>";

export function cellErrorSummary(stderr: string, source: string): string {
  const lines = stderr.replace(/\r/g, "").split("\n");
  const diags = lines.map((l) => DIAGNOSTIC.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  if (diags.length && DIAGNOSTIC.test(lines[0])) {
    const more = diags.length > 1 ? ` (+${diags.length - 1} more)` : "";
    return `line ${diags[0][1]}, col ${diags[0][2]}: ${diags[0][3]}${more}`;
  }
  let rest = lines;
  let thrownCode: string | null = null;
  let thrownFile: string | null = null;
  // Node's source context: "file:line", the code line, a caret line, a blank line.
  if (lines.length > 3 && /:\d+$/.test(lines[0]) && /^\s*\^+\s*$/.test(lines[2])) {
    thrownFile = lines[0].replace(/:\d+$/, "");
    thrownCode = lines[1].trim();
    rest = lines.slice(3);
  }
  rest = rest.filter((l, i) => !(i === 0 && l.trim() === ""));
  const firstFrame = rest.findIndex((l) => FRAME.test(l));
  const message = (firstFrame < 0 ? rest : rest.slice(0, firstFrame))
    .map((l) => l.trim())
    .filter(Boolean)
    .join(" ");
  if (!message) return stderr.trim().split("\n")[0] ?? "";
  const frames = (firstFrame < 0 ? [] : rest.slice(firstFrame))
    .map((l) => FRAME.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  return clip(message) + where(frames, thrownFile, thrownCode, source);
}

function where(
  frames: RegExpExecArray[],
  thrownFile: string | null,
  thrownCode: string | null,
  source: string,
): string {
  const src = source.split("\n");
  const lineOf = (text: string) => {
    const hits = src.map((l, i) => (l.includes(text) ? i + 1 : 0)).filter((n) => n > 0);
    return hits.length ? hits[0] : 0;
  };
  // Thrown by the cell's own code: find that code line in the cell.
  if (thrownFile === CELL_FILE && thrownCode) {
    const n = lineOf(thrownCode);
    return n ? ` (cell line ${n}: ${clip(src[n - 1].trim(), 80)})` : "";
  }
  // Thrown inside a library: name the library function (as its .ts file) and the cell line that called into it.
  const inCell = frames.findIndex((f) => f[2] === CELL_FILE);
  if (inCell <= 0) return "";
  const origin = frames[0];
  const lib = tsPath(origin[2]);
  const callee =
    (frames[inCell - 1][1] ?? "")
      .replace(/^(new |Object\.|async )/, "")
      .split(".")
      .pop() ?? "";
  const n = callee ? lineOf(callee + "(") : 0;
  const at = n ? `; cell line ${n}: ${clip(src[n - 1].trim(), 80)}` : "";
  return ` (thrown in ${origin[1] ? origin[1] + " in " : ""}${lib}${at})`;
}

/** dist/lib/x/y.js → lib/x/y.ts (the library is built with tsc into dist/); node_modules paths stay as they are. */
function tsPath(file: string): string {
  const m = /(?:^|\/)dist\/((?:lib|kernel)\/.*)\.js$/.exec(file);
  return m ? `${m[1]}.ts` : file.replace(/^.*\/node_modules\//, "");
}

function clip(s: string, max = 300): string {
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}
