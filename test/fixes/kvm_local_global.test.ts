// Fix 003 (kvm-local-global): the H_LOCAL race is discovered before the fix, the fix holds, serial schedules clean.
import { describe, it, expect } from "vitest";
import { explore, replay, Session } from "../../lib/explore/index";
import { kvmLocalGlobal, kvmLocalGlobalBefore } from "../../lib/fixes/kvm-local-global/scenario";

const THREADS = 4;

describe("kvm-local-global", () => {
  it("before: a guest load reaches the freed host page through another core's TLB; ≥1 preemption, ≥2 cores, replays", () => {
    const r = explore(kvmLocalGlobal, { variant: "before" });
    const v = r.violation!;
    expect(v).not.toBeNull();
    expect(v.invariant).toBe("use-after-free");
    expect(v.message).toMatch(/guest load .* via core \d TLB .* after it was freed/);
    expect(v.preemptions).toBeGreaterThanOrEqual(1);
    const cores = new Set(v.trace.map((t) => Math.floor(t.cpu / THREADS)));
    expect(cores.size).toBeGreaterThanOrEqual(3); // two guest cores and the host's
    expect(v.trace.map((t) => t.fn)).toEqual(
      expect.arrayContaining(["kvmppc_h_remove", "tlbiel", "kvm_unmap_rmapp", "__free_pages"]),
    );
    expect(v.trace.map((t) => t.fn)).not.toContain("tlbie");
    const rp = replay(kvmLocalGlobal, { schedule: v.schedule });
    expect(rp.violation?.invariant).toBe(v.invariant);
    expect(rp.violation?.message).toBe(v.message);
  }, 60_000);

  it("before: with the page handed to another tenant the same schedule family is found", () => {
    const r = explore(kvmLocalGlobal, { variant: "before", params: { reuse: true } });
    expect(r.violation?.invariant).toBe("use-after-free");
  }, 60_000);

  it("after: the default bound is exhausted with no violation", () => {
    const r = explore(kvmLocalGlobal, { variant: "after" });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
    expect(r.executions).toBeGreaterThan(100);
  }, 60_000);

  it("2019 order (flush, then clear the bit): exhausted, clean", () => {
    const r = explore(kvmLocalGlobal, { variant: "2019" });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  }, 60_000);

  it("before, without H_LOCAL: a 2-vcpu VM uses tlbie and is clean", () => {
    const r = explore(kvmLocalGlobal, { variant: "before", params: { flags: "global" } });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
  }, 60_000);

  it("every serial schedule is clean, in every variant", () => {
    for (const variant of ["before", "after", "2019"] as const) {
      const r = explore(kvmLocalGlobal, { variant, preemptions: 0 });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
    }
  }, 60_000);

  it("the variants differ exactly in the functions 1b400ba0 changed", () => {
    const b = new Session(kvmLocalGlobal, { variant: "before" }).k.installed;
    const a = new Session(kvmLocalGlobal, { variant: "after" }).k.installed;
    const changed = Object.keys(a)
      .filter((n) => a[n] !== b[n])
      .sort();
    expect(changed).toEqual(Object.keys(kvmLocalGlobalBefore).sort());
  }, 60_000);

  it("after, with global_invalidates honouring H_LOCAL (the v3.7 rule) the race comes back", () => {
    function* global_invalidates(k: any, kvm: any, flags: bigint) {
      k.R(kvm.onlineObj, k.m.cur.ev);
      yield;
      return (flags & (1n << 28n)) === 0n;
    }
    const r = explore(kvmLocalGlobal, { variant: "after", overrides: { global_invalidates } });
    expect(r.violation?.invariant).toBe("use-after-free");
  }, 60_000);
});
