// Fix 003's other scenarios: the one-vcore guest (tlbiel kept; the need_tlb_flush bit must make a core that
// still holds the translation flush), the v3.8 H_BULK_REMOVE finding, and LPID reuse.
import { describe, it, expect } from "vitest";
import { explore, replay } from "../../lib/explore/index";
import { kvmOneVcore } from "../../lib/fixes/kvm-local-global/one_vcore";
import { kvmLpidReuse } from "../../lib/fixes/kvm-local-global/lpid_reuse";

const THREADS = 4;
const coresOf = (trace: { cpu: number }[]) => new Set(trace.map((t) => Math.floor(t.cpu / THREADS)));

describe("kvm-one-vcore", () => {
  it("after: two vcpus sharing one vcore, tlbiel, the vcore moving between two cores: exhausted, clean", () => {
    const r = explore(kvmOneVcore, { variant: "after" });
    expect(r.violation).toBeNull();
    expect(r.exhaustive).toBe(true);
    expect(r.executions).toBeGreaterThan(1000);
  }, 120_000);

  it("before, 2019 and later are clean too (v3.7 flushed on every move; 2019 flushes before clearing)", () => {
    for (const variant of ["before", "2019", "later"] as const) {
      const r = explore(kvmOneVcore, { variant, params: { vcpus: 1 } });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
    }
  }, 120_000);

  it("no-setall (tlbiel, other cores not marked): the vcore's old core reads the freed page; 2 preemptions; replays", () => {
    const r = explore(kvmOneVcore, { variant: "no-setall", params: { vcpus: 1 } });
    const v = r.violation!;
    expect(v.invariant).toBe("use-after-free");
    expect(v.message).toMatch(/guest load .* via core \d TLB .* after it was freed/);
    expect(v.trace.map((t) => t.fn)).toEqual(
      expect.arrayContaining(["tlbiel", "global_invalidates", "kvm_mmu_notifier_invalidate_page", "__free_pages"]),
    );
    expect(v.trace.map((t) => t.fn)).not.toContain("tlbie");
    expect(v.preemptions).toBe(2);
    const guestCores = [...coresOf(v.trace)].filter((c) => c < 2);
    expect(guestCores.sort()).toEqual([0, 1]); // the vcore ran on both
    expect(replay(kvmOneVcore, { schedule: v.schedule, params: { vcpus: 1 } }).violation?.message).toBe(v.message);
  }, 120_000);

  it("clear-no-flush (the bit consumed, no 128 tlbiels): caught the same way", () => {
    const r = explore(kvmOneVcore, { variant: "clear-no-flush", params: { vcpus: 1 } });
    expect(r.violation?.invariant).toBe("use-after-free");
    expect(r.violation!.trace.map((t) => t.fn)).not.toContain("kvmppc_flush_lpid_tlb");
  }, 120_000);

  it("finding: v3.8's H_BULK_REMOVE on a one-vcpu guest (tlbiel, no bits set) reads a freed page after a move back", () => {
    const r = explore(kvmOneVcore, { variant: "after", params: { vcpus: 1, hcall: "bulk" } });
    const v = r.violation!;
    expect(v.invariant).toBe("use-after-free");
    expect(v.trace.map((t) => t.fn)).toEqual(
      expect.arrayContaining(["kvmppc_h_bulk_remove", "tlbiel", "__free_pages"]),
    );
    expect(v.trace.map((t) => t.fn)).not.toContain("global_invalidates");
    expect(
      replay(kvmOneVcore, { schedule: v.schedule, params: { vcpus: 1, hcall: "bulk" } }).violation?.invariant,
    ).toBe("use-after-free");
  }, 120_000);

  it("the same H_BULK_REMOVE guest is clean on v3.7 (per-move flush) and with v3.12's global_invalidates", () => {
    for (const variant of ["before", "later"] as const) {
      const r = explore(kvmOneVcore, { variant, params: { vcpus: 1, hcall: "bulk" } });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
    }
  }, 120_000);

  it("every serial schedule is clean in the kernel variants", () => {
    for (const variant of ["before", "after", "2019", "later"] as const) {
      for (const hcall of ["remove", "bulk"] as const) {
        const r = explore(kvmOneVcore, { variant, preemptions: 0, params: { vcpus: 1, hcall } });
        expect(r.violation, `${variant}/${hcall}`).toBeNull();
        expect(r.exhaustive, `${variant}/${hcall}`).toBe(true);
      }
    }
  }, 120_000);
});

describe("kvm-lpid-reuse", () => {
  it("every era is clean: after sets every need_tlb_flush bit at creation, v3.7's fresh vcpu (last_cpu -1) flushes", () => {
    for (const variant of ["before", "after", "2019"] as const) {
      const r = explore(kvmLpidReuse, { variant, preemptions: Infinity });
      expect(r.violation, variant).toBeNull();
      expect(r.exhaustive, variant).toBe(true);
    }
  }, 60_000);

  it("the LPID really is reused, and without the creation-time setall VM 2 hits VM 1's entry, serially", () => {
    const r = explore(kvmLpidReuse, { variant: "no-init-setall" });
    const v = r.violation!;
    expect(v.invariant).toBe("cross-partition-translation");
    expect(v.message).toMatch(/LPID 1, VM 2\) hit a core \d TLB entry filled by VM 1/);
    expect(v.preemptions).toBe(0);
    expect(v.functions).toEqual(expect.arrayContaining(["kvmppc_core_destroy_vm", "kvmppc_free_lpid"]));
  }, 60_000);
});
