// Hardware models: what the kernel drives and relies on, with no kernel counterpart. Per-core TLBs, the
// POWER hash MMU (HPT search on a TLB miss), the x86 MMU (page walk that sets D), and the pending-access
// path that announces every user access as pulled, so it is always exact. Kernel code (lib/mm, lib/powerpc, lib/x86)
// drives these; nothing here calls a modelled kernel function.

import "./costs";

export { HwTlb, TLB_W, TLB_C } from "./tlb";
export { HwAccessPath } from "./access";
export * from "./hpt";
export { PpcHw, ACCESS_OK, ACCESS_HPT_MISS, ACCESS_PROT } from "./hash_mmu";
export type { HashMmuConfig } from "./hash_mmu";
export { X86Hw, tagOf } from "./x86_mmu";
export { PageWalkCache, installPwc, pwcOf } from "./pwc";
