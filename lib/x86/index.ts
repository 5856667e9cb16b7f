// x86-like MMU for comparisons. Compose: `{ ...simOps, ...mmOps, ...x86Ops }` with `new MmWorld(m, { layout: X86, … })`.
export { x86Ops, x86Mmu, x86Hw, X86Hw, flush_tlb_mm_range } from "./tlb";
