// Fix 003: a guest reset (kvmppc_alloc_reset_hpt zeroes the HPT, no tlbie) while cores may hold the guest's
// translations, then the host reclaims the page. Each era makes the next entry flush; a reset that marks no
// core is caught.
import { describe, it, expect } from "vitest";
import { explore, replay } from "../../lib/explore/index";
import { kvmHptReset } from "../../lib/fixes/kvm-local-global/hpt_reset";

describe("kvm-hpt-reset", () => {
  // one test per era: each search announces the whole HPT at the reset (16,384 HPTEs), seconds apiece
  for (const [variant, why] of [
    ["before", "last_vcpu[] = 0xff"],
    ["after", "cpumask_setall"],
    ["2019", "setall, flush then clear"],
  ] as const) {
    it(`${variant} (${why}): exhausted at the default bound, clean`, () => {
      const r = explore(kvmHptReset, { variant });
      expect(r.violation).toBeNull();
      expect(r.exhaustive).toBe(true);
      expect(r.executions).toBeGreaterThan(1000);
    }, 120_000);
  }

  it("no-setall: the core that ran the guest reads the freed page through its stale entry; 2 preemptions; replays", () => {
    const r = explore(kvmHptReset, { variant: "no-setall" });
    const v = r.violation!;
    expect(v.invariant).toBe("use-after-free");
    expect(v.message).toMatch(/guest load at 0x1000 .* via core \d TLB .* after it was freed/);
    const fns = v.trace.map((t) => t.fn);
    expect(fns).toEqual(expect.arrayContaining(["kvmppc_alloc_reset_hpt", "kvm_unmap_rmapp", "__free_pages"]));
    expect(fns).not.toContain("tlbie"); // the wiped HPTE gives kvm_unmap_rmapp nothing to invalidate
    expect(fns).not.toContain("kvmppc_flush_lpid_tlb");
    // the reset ran between two entries of the vcpu, the second after the free
    expect(fns.indexOf("kvmppc_alloc_reset_hpt")).toBeLessThan(fns.lastIndexOf("kvmppc_hv_entry"));
    expect(v.preemptions).toBe(2);
    expect(replay(kvmHptReset, { variant: "no-setall", schedule: v.schedule }).violation?.message).toBe(v.message);
  }, 120_000);

  it("no-busy (the reset skips the vcpus_running check): the HPT is wiped while the vcpu is in the guest, past its flush", () => {
    const r = explore(kvmHptReset, { variant: "no-busy" });
    const v = r.violation!;
    expect(v.invariant).toBe("use-after-free");
    expect(v.preemptions).toBe(2);
    const fns = v.trace.map((t) => t.fn);
    // the last entry tested its bit before the reset set it, and the load comes after the free
    const entry = fns.lastIndexOf("kvmppc_hv_entry");
    expect(entry).toBeLessThan(fns.indexOf("kvmppc_alloc_reset_hpt"));
    expect(fns.indexOf("__free_pages")).toBeLessThan(v.trace.length - 1);
    expect(replay(kvmHptReset, { variant: "no-busy", schedule: v.schedule }).violation?.message).toBe(v.message);
  }, 120_000);

  it("every serial schedule is clean, the broken resets' too", () => {
    for (const variant of ["before", "after", "2019", "no-setall", "no-busy"] as const) {
      const r = explore(kvmHptReset, { variant, preemptions: 0 });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
    }
  }, 60_000);
});
