// Notebook 04's checkers: right answers pass, wrong ones fail, missing ones are "not attempted"; the model decides.
import { describe, it, expect } from "vitest";
import * as ex from "../../lib/fixes/kvm-local-global/exercises";
import { after, broken } from "../../lib/fixes/kvm-local-global/index";
import { kvmWorld, H_LOCAL } from "../../lib/kvm/index";
import { READ, WRITE } from "../../lib/sim/machine";

describe("kvm-local-global exercises", () => {
  it("exercise 1: v3.7 flushes on every thread at every move, 1b400ba0 per marked core", () => {
    expect(ex.placementFlushes("before", ex.EXERCISE1)).toBe(16);
    expect(ex.placementFlushes("after", ex.EXERCISE1)).toBe(3);
    expect(ex.placementFlushes("after", { ...ex.EXERCISE1, removeAt: -1 })).toBe(2);
    expect(ex.checkPlacementFlushes({ before: 16, after: 3 }).status).toBe("correct");
    expect(ex.checkPlacementFlushes({ before: 4, after: 3 }).status).toBe("incorrect");
    expect(ex.checkPlacementFlushes({ before: 16, after: 2 }).status).toBe("incorrect");
    expect(ex.checkPlacementFlushes(undefined).status).toBe("not attempted");
  }, 60_000);

  it("exercise 2: 1b400ba0's global_invalidates passes; the v3.7 rule, no-setall and always-global do not", () => {
    expect(ex.checkGlobalInvalidates(after.global_invalidates).status).toBe("correct");
    expect(ex.checkGlobalInvalidates(broken.global_invalidates_no_setall).message).toMatch(
      /one-vcore guest breaks: use-after-free/,
    );
    function* v37(k: any, kvm: any, flags: bigint) {
      k.R(kvm.onlineObj, k.m.cur.ev);
      yield;
      return (flags & H_LOCAL) === 0n;
    }
    expect(ex.checkGlobalInvalidates(v37).message).toMatch(/SMP guest breaks: use-after-free/);
    function* always(k: any, kvm: any) {
      k.multi([kvm.onlineObj, READ, kvm.needFlushObj, WRITE], k.m.cur.ev);
      yield;
      return kvmWorld(k.m) !== null;
    }
    const r = ex.checkGlobalInvalidates(always);
    expect(r.status).toBe("incorrect");
    expect(r.message).toMatch(/never local/);
    expect(ex.checkGlobalInvalidates(undefined).status).toBe("not attempted");
  }, 120_000);
});
