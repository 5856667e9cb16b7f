// Timed-mode costs of the hardware models (TLB refills), in ns. Defaults from docs/cost-model.md §2.

import { defineCosts } from "../sim/cost";

defineCosts({
  /** Hardware walk of a PTEG on a TLB miss: one 128-byte cache miss [21]. (E) */
  hpt_miss: 100,
  /** TLB miss with page-walk caches warm [56]. (E) */
  tlb_miss: 30,
});
