// Timed-mode costs of the generic mm model (faults, writeback I/O), in ns. Defaults from
// docs/cost-model.md §2; [n] its references, (E) its estimates.

import { defineCosts } from "../sim/cost";

defineCosts({
  /** Anonymous 4 KiB first-touch fault, ≈1 µs [60] (C). */
  page_fault: 1000,
  /** Fault on a page-cache hit: lmbench 0.2–0.39 µs [59]. */
  page_fault_file: 300,
  /** Writing a page to disk (not in the cost model document: an order of magnitude for an NVMe write). (E) */
  disk_write: 20_000,
});
