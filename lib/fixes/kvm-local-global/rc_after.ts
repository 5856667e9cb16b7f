// Later history of fix 003's H_REMOVE: "KVM: PPC: Book3S HV: Fix race in reading change bit when removing HPTE"
// (Paul Mackerras, 2014) restores what v3.7–v3.16 did: dword 1 is read again after the tlbie sequence has
// completed, when the hardware can no longer set R or C, and that value goes to remove_revmap_chain. Otherwise
// as rc_before.ts (6f22bd3265fb).

import type { Gen } from "../../sim/machine";
import { event } from "../../sim/event";
import { HPTE_V_VALID } from "../../hw/power7";
import { H_SUCCESS, H_PARAMETER, H_NOT_FOUND, H_AVPN, H_ANDCOND } from "../../kvm/hvcall";
import { HPTE_V_ABSENT, HPTE_V_HVLOCK, HPTE_GR_RESERVED, compute_tlbie_rb } from "../../kvm/kvm_book3s_64";
import type { KvmVcpu } from "../../kvm/kvm_host";
import type { KK } from "../../kvm/kernel";
import { remove_revmap_chain } from "./rc_before";

const E_CHECK = event("kvmppc_do_h_remove", "HPTE present and matching? pte1 = hpte[1]; clear V", {
  cost: "hpte_invalidate",
});
const E_NOTFOUND = event("kvmppc_do_h_remove", "not found: clear HVLOCK", { cost: "mem" });
const E_REREAD = event("kvmppc_do_h_remove", "read hpte[1] after the tlbie: final R/C", { cost: "mem" });

/** kvmppc_h_remove → kvmppc_do_h_remove (the 2014 fix): R/C from a read of dword 1 after the invalidation. */
export function* kvmppc_h_remove(k: KK, vcpu: KvmVcpu, flags: bigint, pte_index: number, avpn: bigint): Gen<number> {
  const kvm = vcpu.kvm;
  const hpt = kvm.arch.hpt;
  if (pte_index >= kvm.arch.hpt_npte) return H_PARAMETER;
  yield* k.try_lock_hpte_spin(kvm, pte_index);
  k.W(hpt.obj(pte_index), E_CHECK);
  yield;
  const pte = hpt.get0(pte_index);
  if (
    (pte & (HPTE_V_ABSENT | HPTE_V_VALID)) === 0n ||
    ((flags & H_AVPN) !== 0n && (pte & ~0x7fn) !== avpn) ||
    ((flags & H_ANDCOND) !== 0n && (pte & avpn) !== 0n)
  ) {
    k.W(hpt.obj(pte_index), E_NOTFOUND);
    yield;
    hpt.set0(pte_index, hpt.get0(pte_index) & ~HPTE_V_HVLOCK);
    return H_NOT_FOUND;
  }
  const rev = kvm.rev(pte_index);
  const v = pte & ~HPTE_V_HVLOCK;
  if ((v & HPTE_V_VALID) !== 0n) {
    const pte1 = hpt.get1(pte_index);
    hpt.set0(pte_index, pte & ~HPTE_V_VALID);
    const rb = compute_tlbie_rb(v, pte1, pte_index);
    yield* k.do_tlbies(kvm, [rb], yield* k.global_invalidates(kvm, flags));
    k.R(hpt.obj(pte_index), E_REREAD);
    yield;
    yield* remove_revmap_chain(k, kvm, pte_index, rev, v, hpt.get1(pte_index)); // read PTE low word after tlbie
  }
  const r = rev.guest_rpte & ~HPTE_GR_RESERVED;
  yield* k.unlock_hpte(kvm, pte_index, 0n);
  vcpu.arch.gpr[4] = v;
  vcpu.arch.gpr[5] = r;
  return H_SUCCESS;
}
