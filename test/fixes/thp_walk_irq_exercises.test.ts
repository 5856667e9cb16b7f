// Notebook 05's checkers against the solutions of docs/solutions/05-thp-walk-irq.md and wrong answers: the IPI
// counts come from the timed workload, the clean IPI placements from the explorer.

import { describe, it, expect } from "vitest";
import * as X from "../../lib/fixes/thp-walk-irq/exercises";
import { replay, explore } from "../../lib/explore/index";
import { thpPmdClear } from "../../lib/fixes/thp-walk-irq/pmd_clear";

describe("notebook 05 exercises", () => {
  it("exercise 1: the IPI counts", () => {
    expect(X.checkIpiCount({ before: 65, after: 15 }).status).toBe("correct");
    expect(X.checkIpiCount({ before: 50, after: 15 }).status).toBe("incorrect"); // forgot the collapses
    expect(X.checkIpiCount({ before: 65, after: 0 }).status).toBe("incorrect"); // the collapse IPI stays
    expect(X.checkIpiCount(undefined).status).toBe("not attempted");
  });

  it("exercise 2: the clean IPI placements are 13bd817's and the refault's, found by the explorer", () => {
    expect(X.cleanPlacements()).toEqual([
      "after the clear (13bd817bb884)",
      "in the refault, between pmd_none and pmd_populate",
    ]);
    const right = ["in the refault, between pmd_none and pmd_populate", "after the clear (13bd817bb884)"];
    expect(X.checkIpiPlacement(right).status).toBe("correct");
    expect(X.checkIpiPlacement(["after the clear (13bd817bb884)"]).status).toBe("incorrect");
    expect(X.checkIpiPlacement([...right, "before the clear"]).status).toBe("incorrect");
    expect(X.checkIpiPlacement(["somewhere"]).message).toMatch(/not one of/);
  }, 60_000);

  it("the pmd state at the violating step: a table pointer where the walker holds (pte_t *)pmdp", () => {
    const v = explore(thpPmdClear, { variant: "before" }).violation!;
    const rp = replay(thpPmdClear, { variant: "before", schedule: v.schedule, stopAt: v.at });
    const rows = X.pmdState(rp.machine!);
    expect(rows[0].state).toBe("table");
    expect(rows[1].state).toBe("none"); // withdrawn by the zap, its page reused as the new PTE page
    expect(rows[2].state).toBe("(pte_t *)pmdp");
    expect(X.pmdKind(0)).toBe("none");
  });
});
