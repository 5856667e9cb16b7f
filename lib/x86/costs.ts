// Timed-mode costs of the x86 model's TLB flushes, in ns. Defaults from docs/cost-model.md §2 and §3.

import { defineCosts } from "../sim/cost";

defineCosts({
  /** An IPI shootdown to a few CPUs: t_local + t_ipi(1.8 µs) + n·45 ns + victim 0.3 µs, §3 of the cost model. (E) */
  tlb_shootdown: 2500,
  /** x86 INVLPG, per page: "about 100 ns" [35]. */
  invlpg: 100,
  /** x86 full TLB flush (CR3 reload), with the refills it causes: ≈ 33 INVLPGs ≈ 3 µs, §2.3 of the cost model. (E) */
  cr3_flush: 3300,
});
