// Fix 004 (thp-walk-irq): every path of 691e95fd's diff is reached by at least one search. The explorer has no
// coverage report yet, so the searches run with logging wrappers around the functions the diff's paths call
// (they delegate to the installed versions) and the test checks that each path left its mark.

import { describe, it, expect } from "vitest";
import { outcomes } from "../../lib/explore/index";
import { thpWalkIrq } from "../../lib/fixes/thp-walk-irq/scenario";
import type { ThpWalkIrqParams } from "../../lib/fixes/thp-walk-irq/scenario";
import * as era from "../../lib/fixes/thp-walk-irq/era";
import * as before from "../../lib/fixes/thp-walk-irq/before";
import * as after from "../../lib/fixes/thp-walk-irq/after";
import type { TK, PmdPtep } from "../../lib/fixes/thp-walk-irq/era";
import { H_EXACT, hret } from "../../lib/kvm/index";
import type { Kvm } from "../../lib/kvm/index";
import type { PtPage, Ptep } from "../../lib/mm/mm_types";
import type { Gen } from "../../lib/sim/machine";

/** The paths of the diff, as the wrappers below name them. */
const DIFF_PATHS = {
  before: [
    "find_linux_pte_or_hugepte (no IRQ change), virtual mode",
    "find_linux_pte_or_hugepte (no IRQ change), real mode",
    "H_PARAMETER host_pte_size < psize, virtual mode",
    "H_PARAMETER host_pte_size < psize, real mode",
    "kvmppc_read_update_linux_pte, virtual mode",
    "kvmppc_read_update_linux_pte, real mode",
    "hash_page → find_linux_pte_or_hugepte",
  ],
  after: [
    "real mode → __find_linux_pte_or_hugepte",
    "virtual mode → local_irq_save; find_linux_pte_or_hugepte with IRQs off",
    "find_linux_pte_or_hugepte with IRQs on: pr_info + dump_stack, walks anyway",
    "H_PARAMETER host_pte_size < psize, virtual mode: local_irq_restore(flags)",
    "H_PARAMETER host_pte_size < psize, real mode: no restore",
    "virtual mode: local_irq_restore(irq_flags)",
    "kvmppc_read_update_linux_pte, virtual mode",
    "kvmppc_read_update_linux_pte, real mode",
    "hash_page → __find_linux_pte_or_hugepte",
  ],
} as const;

function run(variant: "before" | "after", params: Partial<ThpWalkIrqParams>, log: Set<string>, mixWalker = false) {
  // context of the current H_ENTER, set by the kvmppc_do_h_enter wrapper (executions are sequential)
  let mode: "virtual mode" | "real mode" | "hash_page" = mixWalker ? "virtual mode" : "hash_page";
  const doh = variant === "before" ? before.kvmppc_do_h_enter : after.kvmppc_do_h_enter;
  function* kvmppc_do_h_enter(
    k: TK,
    kvm: Kvm,
    flags: bigint,
    pte_index: number,
    pteh: bigint,
    ptel: bigint,
    pgdir: PtPage,
    realmode: boolean,
  ): Gen<{ ret: number; pte_index: number }> {
    mode = realmode ? "real mode" : "virtual mode";
    const r = yield* doh(k, kvm, flags, pte_index, pteh, ptel, pgdir, realmode);
    if (hret(r.ret) === "H_PARAMETER" && params.guestPage !== "bad-lp") {
      if (variant === "before") log.add(`H_PARAMETER host_pte_size < psize, ${mode}`);
      else if (realmode) log.add("H_PARAMETER host_pte_size < psize, real mode: no restore");
    }
    mode = "hash_page";
    return r;
  }
  function* find_linux_pte_or_hugepte(k: TK, pgdir: PtPage, ea: number, shift: { v: number }) {
    if (variant === "before")
      log.add(
        mode === "hash_page"
          ? "hash_page → find_linux_pte_or_hugepte"
          : `find_linux_pte_or_hugepte (no IRQ change), ${mode}`,
      );
    else if (!era.arch_irqs_disabled(k))
      log.add("find_linux_pte_or_hugepte with IRQs on: pr_info + dump_stack, walks anyway");
    else if (mode === "virtual mode") log.add("virtual mode → local_irq_save; find_linux_pte_or_hugepte with IRQs off");
    const fn = variant === "before" ? before.find_linux_pte_or_hugepte : after.find_linux_pte_or_hugepte;
    return yield* fn(k, pgdir, ea, shift);
  }
  function* __find_linux_pte_or_hugepte(k: TK, pgdir: PtPage, ea: number, shift: { v: number }) {
    if (mode === "real mode") log.add("real mode → __find_linux_pte_or_hugepte");
    if (mode === "hash_page") log.add("hash_page → __find_linux_pte_or_hugepte");
    return yield* after.__find_linux_pte_or_hugepte(k, pgdir, ea, shift);
  }
  function* arch_local_irq_restore(k: TK, en: bigint): Gen {
    if (mode === "virtual mode")
      log.add(
        en === H_EXACT
          ? "H_PARAMETER host_pte_size < psize, virtual mode: local_irq_restore(flags)"
          : "virtual mode: local_irq_restore(irq_flags)",
      );
    yield* era.arch_local_irq_restore(k, en);
  }
  function* kvmppc_read_update_linux_pte(k: TK, ptep: Ptep | PmdPtep, writing: boolean, hugepage: number) {
    if (mode !== "hash_page") log.add(`kvmppc_read_update_linux_pte, ${mode}`);
    return yield* era.kvmppc_read_update_linux_pte(k, ptep, writing, hugepage);
  }
  const overrides = {
    kvmppc_do_h_enter,
    find_linux_pte_or_hugepte,
    __find_linux_pte_or_hugepte,
    arch_local_irq_restore,
    kvmppc_read_update_linux_pte,
    // the wrapper's IRQs-on branch: no caller of 691e95fd reaches it; the parent's kvmppc_do_h_enter does
    ...(mixWalker ? { kvmppc_do_h_enter: before.kvmppc_do_h_enter } : {}),
  };
  return outcomes(thpWalkIrq, { variant, params, overrides, preemptions: 2 });
}

describe("thp-walk-irq: every path of the diff is reached by a search", () => {
  for (const variant of ["before", "after"] as const) {
    it(`${variant}: all ${DIFF_PATHS[variant].length} paths`, () => {
      const log = new Set<string>();
      for (const walker of ["htab_write", "real_mode", "hash_page"] as const) {
        run(variant, { walker }, log);
        run(variant, { walker, other: "none", guestPage: "64K", hostPage: "4K" }, log);
        run(variant, { walker, other: "split", backing: "thp", guestPage: "16M" }, log);
      }
      // the after wrapper called with IRQs on: the parent's kvmppc_do_h_enter under 691e95fd's walker
      if (variant === "after") run("after", { walker: "htab_write", other: "none" }, log, true);
      expect([...log].sort()).toEqual([...DIFF_PATHS[variant]].sort());
    });
  }
});
