// The kernel type seen by powerpc hash-MMU code: the generic mm kernel plus the powerpc ops.

import type { Bound } from "../sim/kernel";
import type { K } from "../mm/kernel";
import type { powerpcHashOps, powerpcLocklessOps } from "./index";

export interface PK extends K, Bound<typeof powerpcHashOps> {}

/** PK plus the v3.0 lockless walkers (find_linux_pte_or_hugepte, get_user_pages_fast) fix 001 installs. */
export interface PKL extends PK, Bound<typeof powerpcLocklessOps> {}
