// flushlab's public API: the runtime (machine, kernel object, sync primitives), the explorer, and the
// modelled subsystems and scenarios built on them.

export * from "./sim/index";
export * from "./explore/index";
export const VERSION = "0.1.0";
export * as examples from "./examples/index";
export * as fixes from "./fixes/index";
export * from "./classroom/index";
// Modelled subsystems, namespaced: both architectures export the same kernel names (set_pte_at, user_access…).
export * as mm from "./mm/index";
export * as powerpc from "./powerpc/index";
export * as x86 from "./x86/index";
export * as hw from "./hw/index";
export * as kvm from "./kvm/index";
