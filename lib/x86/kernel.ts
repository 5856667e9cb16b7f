// The kernel type seen by x86 code: the generic mm kernel plus the x86 ops (the shootdown path among them).

import type { Bound } from "../sim/kernel";
import type { K } from "../mm/kernel";
import type { x86Ops } from "./tlb";

export interface XK extends K, Bound<typeof x86Ops> {}
