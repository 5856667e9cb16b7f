// arch/x86 kernel code (v3.14) for comparisons, driving lib/hw's x86 MMU. Compose:
// `{ ...simOps, ...mmOps, ...x86Ops }` with `new MmWorld(m, { layout: X86, … })`.
import * as tlb from "./tlb";
import * as gup from "./gup";
import "./costs";
import { defineSources } from "../sim/sources";

defineSources(__dirname, { tlb, gup });

export {
  x86Ops,
  x86FlushOps,
  x86Mmu,
  x86Hw,
  flush_tlb_mm_range,
  flush_tlb_mm,
  FlushTlbInfo,
  TLB_FLUSH_ALL,
  tlb_flushall_shift,
  tlb_lld_4k_entries,
} from "./tlb";
export type { XK } from "./kernel";
export { get_user_pages_fast, gup_pmd_range, gup_pte_range } from "./gup";
export { X86 } from "./pgtable_types";
