// Terminal states, as sharded and parallel searches compare them: the scenario's observation of the final state
// (observe(), when it has one) and, per context, the path of step sites it took. A context's path is a function
// of what it read, so it is the same in every interleaving of one Mazurkiewicz trace (DPOR may pick any of
// them); a scenario without observe() tells final states apart only by the control flow that reached them.

import type { Machine } from "../sim/machine";
import type { SimEvent } from "../sim/event";
import { fnv1a } from "../sim/kernel";

/** Per event id, a hash of its (fn, what): stable across processes and module load orders, unlike the id. */
const siteHash: number[] = [];
function hashOf(ev: SimEvent): number {
  let h = siteHash[ev.id];
  if (h === undefined) siteHash[ev.id] = h = fnv1a(`${ev.fn}\u0000${ev.what}`);
  return h;
}

/** Follows one execution's steps and names its terminal state. */
export class TerminalTracker {
  private readonly path: number[] = [];

  begin(m: Machine): void {
    const n = m.ctxs.length;
    this.path.length = n;
    for (let p = 0; p < n; p++) this.path[p] = 0x811c9dc5;
  }

  /** Context `p` has taken a step (its event is `m.eEv`). */
  step(m: Machine, p: number): void {
    const h = this.path[p] ^ hashOf(m.eEv);
    this.path[p] = Math.imul(h, 0x01000193) >>> 0;
  }

  /** The terminal state of the execution just ended, given the scenario's observation of it (or null). */
  stateOf(observation: string | null): string {
    return terminalHash(`${observation ?? ""}#${this.path.map((h) => h.toString(16)).join(".")}`);
  }
}

/** A 64-bit hash of a terminal state's text, as 16 hex digits (two FNV-1a lanes). */
export function terminalHash(s: string): string {
  const a = fnv1a(s);
  const b = fnv1a(s, 0x01000193 ^ 0x5bd1e995);
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}
