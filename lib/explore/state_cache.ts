// The DFS state cache's table: visited states by a 64-bit fingerprint (hash compaction: no state vector is
// stored, so two states that share a fingerprint are confused, with the probability `missProbability` gives),
// each with the sleep set and depth it was explored at and the summary of the accesses its subtree announced or
// ran (what stateful DPOR needs to race a new prefix against a subtree it does not run again). Past the memory
// budget a new state is stored without its summary, marked as racing with everything (a hit there adds every
// enabled process at each earlier step): a few bytes a state, sound, slower.
//
// Bitstate (Holzmann's supertrace, `mode: "bitstate"`): a fixed array of m bits allocated up front, a state
// being K bits in it (double hashing from the fingerprint's two 32-bit lanes, Kirsch & Mitzenmacher). No sleep
// set, depth or summary is stored, so the sleep set and depth go into the hashed key (a hit is a visit with a
// sleep set that is a subset of the current one, probed subset by subset, at the same depth) and every hit races
// with everything, as past the compact table's budget: sound for DPOR. A new state whose K bits happen to be set
// already is taken as visited and its subtree is missed: the probability of that per new state, the Bloom
// filter's (1 - e^(-Kn/m))^K (its fill measured: (bits set / m)^K), is the reported `missProbability`, beside
// Holzmann's hash factor m/n.
// A mode the user chooses, as in Spin (-DBITSTATE), not one fallen into past the budget: its every hit costs a
// race with every earlier step, and a search that fits the compact table should not pay that or lose states.

export type StateCacheMode = "compact" | "bitstate";
export const STATE_CACHE_MODES: readonly StateCacheMode[] = ["compact", "bitstate"];
/** Bits set per state in bitstate mode (Spin's default -k3). */
export const BITSTATE_HASHES = 3;
/** Sleep sets up to this many processes are probed subset by subset; larger ones only as themselves and empty. */
const SUBSET_PROBE = 4;

export interface CacheStats {
  mode: StateCacheMode;
  states: number;
  hits: number;
  /** Bytes held by the table and the summaries. */
  bytes: number;
  /** The budget was reached: states after that were stored without a summary. */
  full: boolean;
  /** States stored without a summary (past the budget). */
  coarse: number;
  /**
   * Compact: upper bound on the probability that two distinct states shared a fingerprint (one was then missed).
   * Bitstate: the probability that a new state is taken as visited at the end's fill, (bits set / m)^K (the
   * Bloom filter's (1 - e^(-Kn/m))^K, its fill measured, not expected).
   */
  missProbability: number;
  /** Bitstate: bits in the array (m), bits per state (K) and Holzmann's hash factor m/n (n: states). */
  bits?: number;
  hashes?: number;
  hashFactor?: number;
  matches: number;
  deeper: number;
  /** Matches not cut only because the stored visit slept on a process the current one does not. */
  sleepMisses: number;
}

export class StateTable {
  private cap = 1 << 12;
  private k1 = new Int32Array(this.cap);
  private k2 = new Int32Array(this.cap);
  /** Sleep set of the visit stored; depth + 1 (0: empty slot); summary offset and length in `pool`. */
  private slp = new Int32Array(this.cap);
  private dep = new Int32Array(this.cap);
  private off = new Int32Array(this.cap);
  private len = new Int32Array(this.cap);
  private pool = new Int32Array(1 << 14);
  private npool = 0;
  states = 0;
  hits = 0;
  matches = 0;
  deeper = 0;
  sleepMisses = 0;
  full = false;
  coarse = 0;

  /** Bitstate mode's bit array (null: compact) and its size in bits less one (a power of two). */
  private bitmap: Int32Array | null = null;
  private bitMask = 0;
  private bitsSet = 0;

  constructor(
    private readonly maxBytes: number,
    readonly mode: StateCacheMode = "compact",
  ) {
    if (!STATE_CACHE_MODES.includes(mode))
      throw new Error(`state cache mode must be one of ${STATE_CACHE_MODES.join(", ")}, got ${String(mode)}`);
    // 0 is a budget (compact: every state coarse; bitstate: one word), NaN and negatives are mistakes
    if (!(maxBytes >= 0)) throw new Error(`state cache budget must be 0 or more bytes, got ${maxBytes}`);
    if (mode === "bitstate") {
      // the largest power of two of bits within the budget, at least one word
      let m = 32;
      while (m * 2 <= maxBytes * 8 && m < 2 ** 33) m *= 2;
      this.bitmap = new Int32Array(m / 32);
      this.bitMask = m - 1;
      this.full = true; // no summaries at all
    }
  }

  get bytes(): number {
    if (this.bitmap !== null) return this.bitmap.length * 4;
    return this.cap * 24 + this.pool.length * 4;
  }

  /**
   * Bitstate: whether all K bits of (h1, h2, sleep, depth) are set, setting them if `set` (then true if one was
   * clear). Double hashing: bit j = a + j·b mod m, b odd so the K bits differ.
   */
  private bits(h1: number, h2: number, sleep: number, depth: number, set: boolean): boolean {
    const bm = this.bitmap!;
    const a = Math.imul(h1 ^ Math.imul(sleep + 1, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(depth + 1, 0xc2b2ae35);
    const b = (Math.imul(h2 ^ (a >>> 15), 0x27d4eb2d) ^ h1) | 1;
    let fresh = false;
    for (let j = 0; j < BITSTATE_HASHES; j++) {
      const x = (a + Math.imul(j, b)) & this.bitMask;
      const w = x >>> 5;
      const bit = 1 << (x & 31);
      if ((bm[w] & bit) === 0) {
        if (!set) return false;
        bm[w] |= bit;
        this.bitsSet++;
        fresh = true;
      }
    }
    return set ? fresh : true;
  }

  /** Bitstate lookup: a stored visit at this depth asleep in a subset of `sleep`. */
  private bitLookup(h1: number, h2: number, depth: number, sleep: number): number {
    let n = 0;
    for (let x = sleep; x !== 0; x &= x - 1) n++;
    if (n > SUBSET_PROBE) {
      // fewer probes, fewer hits: still only subsets
      if (this.bits(h1, h2, sleep, depth, false) || this.bits(h1, h2, 0, depth, false)) return this.hit();
      return -1;
    }
    // every subset of sleep, the empty one last (Knuth's sub-mask enumeration)
    for (let sub = sleep; ; sub = (sub - 1) & sleep) {
      if (this.bits(h1, h2, sub, depth, false)) return this.hit();
      if (sub === 0) return -1;
    }
  }

  private hit(): number {
    this.matches++;
    this.hits++;
    return 0;
  }

  private slot(h1: number, h2: number): number {
    const mask = this.cap - 1;
    let i = (h1 ^ Math.imul(h2, 0x27d4eb2d)) & mask;
    while (this.dep[i] !== 0 && (this.k1[i] !== h1 || this.k2[i] !== h2)) i = (i + 1) & mask;
    return i;
  }

  /** The slot of a stored state that covers a visit at `depth` with sleep set `sleep`, or -1. */
  lookup(h1: number, h2: number, depth: number, sleep: number): number {
    if (this.bitmap !== null) return this.bitLookup(h1, h2, depth, sleep);
    const i = this.slot(h1, h2);
    if (this.dep[i] === 0) return -1;
    this.matches++;
    if (this.dep[i] - 1 > depth) this.deeper++;
    // A stored visit covers this one if it explored at least as much: no shallower (the step bound cuts less
    // of a deeper subtree) and asleep in a subset of what is asleep now (Godefroid; Yang et al. 2008).
    if (this.dep[i] - 1 > depth) return -1;
    if ((this.slp[i] & ~sleep) !== 0) {
      this.sleepMisses++;
      return -1;
    }
    this.hits++;
    return i;
  }

  /** The stored summary of slot i: [word index, bits, …] pairs; off < 0: none (races with everything). */
  summary(i: number): { pool: Int32Array; off: number; len: number } {
    if (this.bitmap !== null) return { pool: this.pool, off: -1, len: 0 };
    return { pool: this.pool, off: this.off[i], len: this.len[i] };
  }

  /**
   * Store (or widen) state (h1, h2) explored at `depth` with `sleep`, its subtree's summary the non-zero words
   * of `row[from .. from + n)`. A second visit widens the summary to the union of both.
   */
  store(h1: number, h2: number, depth: number, sleep: number, row: Int32Array, from: number, n: number): void {
    if (this.bitmap !== null) {
      // a state whose bits were all set already counts once (Spin's nstates): n for the estimate
      if (this.bits(h1, h2, sleep, depth, true)) {
        this.states++;
        this.coarse++;
      }
      return;
    }
    let i = this.slot(h1, h2);
    const fresh = this.dep[i] === 0;
    if (fresh) {
      if (!this.full && this.bytes > this.maxBytes) this.full = true;
      if ((this.states + 1) * 2 > this.cap) {
        this.grow();
        i = this.slot(h1, h2);
      }
      this.states++;
      this.k1[i] = h1;
      this.k2[i] = h2;
      this.slp[i] = sleep;
      this.dep[i] = depth + 1;
      if (this.full) {
        this.off[i] = -1; // no summary: races with every step before it
        this.len[i] = 0;
        this.coarse++;
        return;
      }
    } else {
      // A second visit replaces the first's sleep set and depth only if it explored at least as much (no more
      // asleep, no deeper); the two visits' sleep sets do not combine into one.
      if ((sleep & ~this.slp[i]) === 0 && depth + 1 <= this.dep[i]) {
        this.slp[i] = sleep;
        this.dep[i] = depth + 1;
      }
      if (this.off[i] < 0) return;
      // fold the old summary into the row, then store the union
      const o = this.off[i];
      for (let a = 0; a < this.len[i]; a += 2) row[from + this.pool[o + a]] |= this.pool[o + a + 1];
    }
    let nz = 0;
    for (let w = 0; w < n; w++) if (row[from + w] !== 0) nz++;
    if (this.full) {
      // widening past the budget: keep what is stored
      return;
    }
    if (this.npool + 2 * nz > this.pool.length) {
      let c = this.pool.length * 2;
      while (this.npool + 2 * nz > c) c *= 2;
      const p = new Int32Array(c);
      p.set(this.pool.subarray(0, this.npool));
      this.pool = p;
    }
    this.off[i] = this.npool;
    this.len[i] = 2 * nz;
    for (let w = 0; w < n; w++) {
      if (row[from + w] !== 0) {
        this.pool[this.npool++] = w;
        this.pool[this.npool++] = row[from + w];
      }
    }
  }

  private grow(): void {
    const old = { k1: this.k1, k2: this.k2, slp: this.slp, dep: this.dep, off: this.off, len: this.len, cap: this.cap };
    this.cap *= 2;
    this.k1 = new Int32Array(this.cap);
    this.k2 = new Int32Array(this.cap);
    this.slp = new Int32Array(this.cap);
    this.dep = new Int32Array(this.cap);
    this.off = new Int32Array(this.cap);
    this.len = new Int32Array(this.cap);
    for (let j = 0; j < old.cap; j++) {
      if (old.dep[j] === 0) continue;
      const i = this.slot(old.k1[j], old.k2[j]);
      this.k1[i] = old.k1[j];
      this.k2[i] = old.k2[j];
      this.slp[i] = old.slp[j];
      this.dep[i] = old.dep[j];
      this.off[i] = old.off[j];
      this.len[i] = old.len[j];
    }
  }

  stats(): CacheStats {
    if (this.bitmap !== null) {
      const m = this.bitMask + 1;
      const k = BITSTATE_HASHES;
      return {
        mode: this.mode,
        states: this.states,
        hits: this.hits,
        bytes: this.bytes,
        full: true,
        coarse: this.coarse,
        matches: this.matches,
        deeper: 0,
        sleepMisses: 0,
        // the Bloom filter's (1 - e^(-Kn/m))^K with the expected fill replaced by the one measured
        missProbability: (this.bitsSet / m) ** k,
        bits: m,
        hashes: k,
        hashFactor: m / Math.max(1, this.states),
      };
    }
    const n = this.states + this.hits; // fingerprints compared against the table
    return {
      mode: this.mode,
      states: this.states,
      hits: this.hits,
      bytes: this.bytes,
      full: this.full,
      coarse: this.coarse,
      matches: this.matches,
      deeper: this.deeper,
      sleepMisses: this.sleepMisses,
      missProbability: Math.min(1, (n * this.states) / 2 ** 64),
    };
  }
}
