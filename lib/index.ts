// flushlab's public API: the runtime (machine, kernel object, sync primitives), the explorer, and the
// modelled subsystems and scenarios built on them.

export * from "./sim/index";
export * from "./explore/index";
export const VERSION = "0.1.0";
export * from "./scenarios/index";
