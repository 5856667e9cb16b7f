// The exercise checkers of notebook 01 pass a right answer, fail a wrong one, and stay quiet when unanswered.

import { describe, it, expect } from "vitest";
import { formatResult } from "../../lib/classroom/index";
import * as ex from "../../lib/fixes/lazy-mmu-batch/exercises";
import * as powerpc from "../../lib/powerpc/index";
import { event } from "../../lib/sim/event";
import type { Gen } from "../../lib/sim/machine";
import type { PK } from "../../lib/powerpc/kernel";

const E = event("arch_leave_lazy_mmu_mode", "batch->active = 0, no flush");

function* leaveWithoutFlush(k: PK): Gen {
  const pc = powerpc.ppc64_tlb_batch(k.m);
  k.W(pc.id(k.cpu()), E);
  yield;
  pc.on(k.cpu()).active = 0;
}

describe("notebook 01 exercises", () => {
  it("exercise 1: 600 pages on a one-CPU mm = 192+192+122 (gather full) | 6 | 88: 5 batch flushes, all tlbiel", () => {
    expect(ex.EXERCISE1).toEqual({ pages: 600, cpus: 1 });
    expect(ex.checkFlushCount({ batchFlushes: 5, tlbie: 0, tlbiel: 600 }).status).toBe("correct");
    expect(ex.checkFlushCount({ batchFlushes: 4, tlbie: 0, tlbiel: 600 }).status).toBe("incorrect");
    expect(ex.checkFlushCount({ batchFlushes: 5, tlbie: 600, tlbiel: 0 }).status).toBe("incorrect");
    const none = ex.checkFlushCount(undefined);
    expect(none.status).toBe("not attempted");
    expect(formatResult(none)).toMatch(/not attempted/);
  });

  it("exercise 2: a leave without the flush is found, with the right invariant named", () => {
    expect(ex.checkBrokenLeave({ leave: leaveWithoutFlush, invariant: "hpte-multi-hit" }).status).toBe("correct");
    expect(ex.checkBrokenLeave({ leave: leaveWithoutFlush, invariant: "deadlock" }).status).toBe("incorrect");
    // the library's own (correct) leave does not break anything: a wrong answer
    expect(ex.checkBrokenLeave({ leave: powerpc.arch_leave_lazy_mmu_mode, invariant: "hpte-multi-hit" }).status).toBe(
      "incorrect",
    );
    expect(ex.checkBrokenLeave({ leave: 42 as never, invariant: "x" }).status).toBe("incorrect");
    expect(ex.checkBrokenLeave(undefined).status).toBe("not attempted");
  });
});
