// The state cache on the fixes' own models: where the stateless unbounded search is exhaustive, the stateful
// one is too, with the same terminal states (each scenario's observe()) and the same invariants violated —
// the check that the structures declaring CELL_OBJECT (page tables, TLBs, the HPT, struct page, frames, the
// allocator) are read only through the objects they name, and that folding calls into their results loses
// nothing in real kernel code.

import { describe, it, expect } from "vitest";
import "../../lib/index";
import { dfs, Session, getScenario } from "../../lib/explore/index";

function outcomes(id: string, variant: string, cache: boolean) {
  const session = new Session(getScenario(id), { variant });
  const states = new Set<string>();
  const violations = new Set<string>();
  const r = dfs(session, {
    reduce: true,
    preemptionBound: Infinity,
    maxSteps: session.bounds.maxSteps,
    maxExecutions: 200_000,
    deadline: Infinity,
    stopOnViolation: false,
    ...(cache ? { stateCache: { maxMemoryMb: 256 } } : {}),
    onExecution: (e) => {
      if (e.violation) violations.add(e.violation.invariant);
      else states.add(String(e.observation));
    },
  });
  return { states: [...states].sort(), violations: [...violations].sort(), exhaustive: r.exhaustive, r };
}

const cases: [string, string][] = [
  ["lazy-mmu-batch", "before"],
  ["lazy-mmu-batch", "after"],
  ["rcu-table-free", "before"],
  ["rcu-table-free-pwc", "2018-invalidate"],
  ["kvm-rc-race", "before"],
  ["thp-pmd-clear", "before"],
  ["thp-walk-irq", "before"],
];

describe("state cache on the fixes' models", () => {
  for (const [id, variant] of cases) {
    it(`${id}/${variant}: same terminal states and violations as the stateless search, in fewer executions`, () => {
      const plain = outcomes(id, variant, false);
      const cached = outcomes(id, variant, true);
      expect(plain.exhaustive).toBe(true);
      expect(cached.exhaustive).toBe(true);
      expect(cached.states).toEqual(plain.states);
      expect(cached.violations).toEqual(plain.violations);
      expect(cached.r.executions).toBeLessThan(plain.r.executions);
      expect(cached.r.cache!.hits).toBeGreaterThan(0);
    }, 120_000);
  }
});
