// Fix 003's later history: the 2014 change-bit race of H_REMOVE (R/C read before the tlbie sequence completes).
import { describe, it, expect } from "vitest";
import { explore, replay } from "../../lib/explore/index";
import { kvmRcRace } from "../../lib/fixes/kvm-local-global/rc_race";

describe("kvm-rc-race", () => {
  it("v3.7, 1b400ba0 and the 2014 fix read R/C after the tlbie: exhausted without a preemption bound, clean", () => {
    for (const variant of ["before", "after", "2014-fix"] as const) {
      const r = explore(kvmRcRace, { variant, preemptions: Infinity });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
      expect(r.executions, variant).toBeGreaterThan(5000);
    }
  }, 120_000);

  it("6f22bd3265fb (2014-le): a store between the early read and the tlbie loses its C bit; 2 preemptions; replays", () => {
    const r = explore(kvmRcRace, { variant: "2014-le" });
    const v = r.violation!;
    expect(v.invariant).toBe("write-lost");
    expect(v.preemptions).toBe(2);
    const steps = v.trace.map((t) => `${t.fn}:${t.what}`);
    const check = steps.findIndex((s) => s.startsWith("kvmppc_do_h_remove:HPTE present"));
    const store = steps.findIndex((s) => s.startsWith("(hw) guest store"));
    const tlbie = steps.findIndex((s) => s.startsWith("tlbie:"));
    expect(check).toBeGreaterThanOrEqual(0);
    expect(check < store && store < tlbie).toBe(true); // the store lands in the window
    expect(v.trace[store].cpu >> 2).not.toBe(v.trace[check].cpu >> 2); // on the other core
    expect(replay(kvmRcRace, { variant: "2014-le", schedule: v.schedule }).violation?.message).toBe(v.message);
  }, 60_000);

  it("every serial schedule is clean in all four", () => {
    for (const variant of ["before", "after", "2014-le", "2014-fix"] as const) {
      const r = explore(kvmRcRace, { variant, preemptions: 0 });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
    }
  }, 60_000);
});
