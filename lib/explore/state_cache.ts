// The DFS state cache's table: visited states by a 64-bit fingerprint (hash compaction: no state vector is
// stored, so two states that share a fingerprint are confused, with the probability `missProbability` gives),
// each with the sleep set and depth it was explored at and the summary of the accesses its subtree announced or
// ran (what stateful DPOR needs to race a new prefix against a subtree it does not run again). Past the memory
// budget a new state is stored without its summary, marked as racing with everything (a hit there adds every
// enabled process at each earlier step): a few bytes a state, sound, slower.

export interface CacheStats {
  states: number;
  hits: number;
  /** Bytes held by the table and the summaries. */
  bytes: number;
  /** The budget was reached: states after that were stored without a summary. */
  full: boolean;
  /** States stored without a summary (past the budget). */
  coarse: number;
  /** Upper bound on the probability that two distinct states shared a fingerprint (one was then missed). */
  missProbability: number;
  matches: number;
  deeper: number;
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
  full = false;
  coarse = 0;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.cap * 24 + this.pool.length * 4;
  }

  private slot(h1: number, h2: number): number {
    const mask = this.cap - 1;
    let i = (h1 ^ Math.imul(h2, 0x27d4eb2d)) & mask;
    while (this.dep[i] !== 0 && (this.k1[i] !== h1 || this.k2[i] !== h2)) i = (i + 1) & mask;
    return i;
  }

  /** The slot of a stored state that covers a visit at `depth` with sleep set `sleep`, or -1. */
  lookup(h1: number, h2: number, depth: number, sleep: number): number {
    const i = this.slot(h1, h2);
    if (this.dep[i] === 0) return -1;
    this.matches++;
    if (this.dep[i] - 1 > depth) this.deeper++;
    // A stored visit covers this one if it explored at least as much: no shallower (the step bound cuts less
    // of a deeper subtree) and asleep in a subset of what is asleep now (Godefroid; Yang et al. 2008).
    if (this.dep[i] - 1 > depth || (this.slp[i] & ~sleep) !== 0) return -1;
    this.hits++;
    return i;
  }

  /** The stored summary of slot i: [word index, bits, …] pairs; off < 0: none (races with everything). */
  summary(i: number): { pool: Int32Array; off: number; len: number } {
    return { pool: this.pool, off: this.off[i], len: this.len[i] };
  }

  /**
   * Store (or widen) state (h1, h2) explored at `depth` with `sleep`, its subtree's summary the non-zero words
   * of `row[from .. from + n)`. A second visit widens the summary to the union of both.
   */
  store(h1: number, h2: number, depth: number, sleep: number, row: Int32Array, from: number, n: number): void {
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
    const n = this.states + this.hits; // fingerprints compared against the table
    return {
      states: this.states,
      hits: this.hits,
      bytes: this.bytes,
      full: this.full,
      coarse: this.coarse,
      matches: this.matches,
      deeper: this.deeper,
      missProbability: Math.min(1, (n * this.states) / 2 ** 64),
    };
  }
}
