// Fix 003, kvm-local-global: 1b400ba0cd24 "KVM: PPC: Book3S HV: Improve handling of local vs. global TLB
// invalidations" (v3.8). Read it like a patch: before.ts (v3.7) against after.ts (1b400ba0); later.ts (the 2019
// entry check, and H_BULK_REMOVE on global_invalidates); the scenarios; the base model is lib/kvm (v3.7).

export {
  kvmLocalGlobal,
  kvmLocalGlobalOps,
  kvmLocalGlobalBefore,
  kvmLocalGlobalAfter,
  kvmLocalGlobal2019,
  bootedVm,
  guestPteIndex,
  reclaim_guest_page,
  GUEST_EA,
  GUEST_GFN,
  GUEST_AVPN,
  HPT_ORDER,
} from "./scenario";
export type { KvmLocalGlobalParams } from "./scenario";
export * as before from "./before";
export * as after from "./after";
export * as later from "./later";
export { kvmOneVcore, bulkRemoveRequest, spawnGuestCores } from "./one_vcore";
export type { KvmOneVcoreParams } from "./one_vcore";
export * as broken from "./broken";
export { kvmLpidReuse, qemu_two_vms } from "./lpid_reuse";
export type { KvmLpidReuseParams } from "./lpid_reuse";
export { kvmLocalGlobalWorkload, kvmWorkloadCost, bootedVmPages, pageEa } from "./workload";
export type { KvmWorkloadParams, KvmWorkloadCost } from "./workload";
export * as exercises from "./exercises";
export { kvmHptReset, qemu_reset } from "./hpt_reset";
export type { KvmHptResetParams } from "./hpt_reset";
export { kvmPinned } from "./pinned";
export type { KvmPinnedParams } from "./pinned";
export { kvmRcRace, check_dirty_recorded } from "./rc_race";
export * as rc_before from "./rc_before";
export * as rc_after from "./rc_after";

import { kvmLocalGlobal } from "./scenario";
import { kvmOneVcore } from "./one_vcore";
import { kvmLpidReuse } from "./lpid_reuse";
import { kvmLocalGlobalWorkload } from "./workload";
import { kvmPlacement } from "./exercises";
import { kvmHptReset } from "./hpt_reset";
import { kvmPinned } from "./pinned";
import { kvmRcRace } from "./rc_race";

/** This fix's scenarios, for a registry. */
export const scenarios = [
  kvmLocalGlobal,
  kvmOneVcore,
  kvmLpidReuse,
  kvmLocalGlobalWorkload,
  kvmPlacement,
  kvmHptReset,
  kvmPinned,
  kvmRcRace,
] as const;
