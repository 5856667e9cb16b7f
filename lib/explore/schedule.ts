// Schedule strings: the decisions of one execution (which context ran each step, which value each choose()
// took), run-length coded, base64url, with a version, the scenario, variant, a model fingerprint and a
// checksum, so a string pasted into another scenario or recorded on a changed model is refused clearly.
//
//   fl1.<scenario>.<variant>.<fingerprint>.<payload>.<checksum>

export const SCHEDULE_VERSION = 1;

export class ScheduleError extends Error {
  override name = "ScheduleError";
}

/** One decision: a scheduling choice (the explorer process that ran) or a value returned by choose(). */
export interface Decision {
  choice: boolean;
  value: number;
}

export interface ScheduleHeader {
  scenario: string;
  variant: string;
  fingerprint: string;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

function pushVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

function toB64(bytes: number[]): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 1 >= bytes.length ? 2 : i + 2 >= bytes.length ? 3 : 4;
    for (let j = 0; j < chars; j++) s += B64[(n >> (18 - 6 * j)) & 63];
  }
  return s;
}

function fromB64(s: string): number[] {
  const vals: number[] = [];
  for (const ch of s) {
    const v = B64.indexOf(ch);
    if (v < 0) throw new ScheduleError(`malformed schedule string: '${ch}' is not allowed in the payload`);
    vals.push(v);
  }
  if (vals.length % 4 === 1) throw new ScheduleError("malformed schedule string: truncated payload");
  const out: number[] = [];
  for (let i = 0; i < vals.length; i += 4) {
    const n = (vals[i] << 18) | ((vals[i + 1] ?? 0) << 12) | ((vals[i + 2] ?? 0) << 6) | (vals[i + 3] ?? 0);
    const bytes = Math.min(3, vals.length - i - 1);
    for (let j = 0; j < bytes; j++) out.push((n >> (16 - 8 * j)) & 255);
  }
  return out;
}

export function encodeSchedule(h: ScheduleHeader, decisions: readonly Decision[]): string {
  const bytes: number[] = [];
  for (let i = 0; i < decisions.length;) {
    const tok = decisions[i].value * 2 + (decisions[i].choice ? 1 : 0);
    let run = 1;
    while (i + run < decisions.length && decisions[i + run].value * 2 + (decisions[i + run].choice ? 1 : 0) === tok)
      run++;
    pushVarint(bytes, tok);
    pushVarint(bytes, run);
    i += run;
  }
  const body = `fl${SCHEDULE_VERSION}.${h.scenario}.${h.variant}.${h.fingerprint}.${toB64(bytes)}`;
  return `${body}.${fnv(body)}`;
}

/** Parse a schedule string (white space is ignored, so wrapped copies paste fine). */
export function decodeSchedule(text: string): { header: ScheduleHeader; decisions: Decision[] } {
  if (typeof text !== "string") throw new ScheduleError("schedule must be a string");
  const s = text.replace(/\s+/g, "");
  if (s === "") throw new ScheduleError("empty schedule string");
  const parts = s.split(".");
  const m = /^fl(\d+)$/.exec(parts[0]);
  if (!m)
    throw new ScheduleError(`not a flushlab schedule string (expected it to start with "fl${SCHEDULE_VERSION}.")`);
  if (Number(m[1]) !== SCHEDULE_VERSION) {
    throw new ScheduleError(`schedule string version ${m[1]}; this flushlab reads version ${SCHEDULE_VERSION}`);
  }
  if (parts.length !== 6)
    throw new ScheduleError(`malformed schedule string: expected 6 dot-separated fields, found ${parts.length}`);
  const [, scenario, variant, fp, payload, check] = parts;
  const body = parts.slice(0, 5).join(".");
  if (fnv(body) !== check)
    throw new ScheduleError("schedule string is damaged: its checksum does not match (was it cut or edited?)");
  if (!/^[0-9a-f]{8}$/.test(fp)) throw new ScheduleError("malformed schedule string: bad model fingerprint");
  const bytes = fromB64(payload);
  const decisions: Decision[] = [];
  let i = 0;
  const readVarint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (i >= bytes.length) throw new ScheduleError("malformed schedule string: truncated payload");
      const b = bytes[i++];
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
      if (shift > 35) throw new ScheduleError("malformed schedule string: number too large");
    }
  };
  while (i < bytes.length) {
    const tok = readVarint();
    const run = readVarint();
    if (run < 1 || decisions.length + run > 10_000_000)
      throw new ScheduleError("malformed schedule string: bad run length");
    for (let r = 0; r < run; r++) decisions.push({ choice: tok % 2 === 1, value: Math.floor(tok / 2) });
  }
  return { header: { scenario, variant, fingerprint: fp }, decisions };
}
