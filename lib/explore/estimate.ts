// How much of a DFS is left, from its own branching (Knuth 1975, "Estimating the efficiency of backtrack
// programs", applied to the path the search stands on, as GenMC estimates from its exploration so far): the
// fraction f of the tree behind the current path is the sum, over its decisions, of the alternatives already
// taken there over the product of the widths down to it (a width counts the alternatives that will run:
// backtracked, awake, within the preemption bound). The tree is skewed (the first, serial branches keep their
// preemption budget; later ones have less), so early estimates run far high; they settle past half way.

export interface Estimate {
  /** Fraction of the (reduced, bounded) tree searched, in [0, 1]. */
  fraction: number;
  /** Executions still to run, by the same measure (Infinity until anything is known). */
  executionsLeft: number;
  /** Milliseconds still to run at the rate so far. */
  msLeft: number;
}

/** The estimate after `executions` executions in `elapsedMs`, with `fraction` of the tree behind the path. */
export function estimateOf(executions: number, fraction: number, elapsedMs: number): Estimate {
  const f = Math.min(1, Math.max(0, fraction));
  if (f <= 0 || executions === 0) return { fraction: f, executionsLeft: Infinity, msLeft: Infinity };
  const ratio = (1 - f) / f;
  return { fraction: f, executionsLeft: Math.round(executions * ratio), msLeft: Math.round(elapsedMs * ratio) };
}

/** An estimate as a progress line shows it: "~12% done, ~3,400 executions / ~8 s left". */
export function estimateText(e: Estimate): string {
  if (!Number.isFinite(e.executionsLeft)) return "estimating…";
  const t =
    e.msLeft < 1000
      ? `${e.msLeft} ms`
      : e.msLeft < 120_000
        ? `${Math.round(e.msLeft / 1000)} s`
        : `${Math.round(e.msLeft / 60_000)} min`;
  return `~${(e.fraction * 100).toFixed(e.fraction < 0.1 ? 1 : 0)}% done, ~${e.executionsLeft.toLocaleString("en-US")} executions / ~${t} left`;
}
