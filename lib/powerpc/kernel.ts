// The kernel type seen by powerpc hash-MMU code: the generic mm kernel plus the powerpc ops.

import type { Bound } from "../sim/kernel";
import type { K } from "../mm/kernel";
import type { powerpcHashOps, powerpcLocklessOps } from "./index";

export interface PK extends K, Bound<typeof powerpcHashOps>, Bound<typeof powerpcLocklessOps> {}
