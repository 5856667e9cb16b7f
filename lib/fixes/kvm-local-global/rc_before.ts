// Later history of fix 003's H_REMOVE: 6f22bd3265fb "KVM: PPC: Book3S HV: Make HTAB code LE host aware" (2014)
// reads HPTE dword 1 once, before clearing V and invalidating, and hands that value to remove_revmap_chain for
// the R/C bits, so a change bit the hardware sets between that read and the end of the tlbie sequence is lost
// (the comment "Read PTE low word after tlbie" stayed). Modelled on 1b400ba0's global_invalidates; the
// virtual-mode split (kvmppc_do_h_remove) and note_hpte_modification (HPT migration) are not modelled.

import type { Gen } from "../../sim/machine";
import { event } from "../../sim/event";
import { HPTE_V_VALID, HPTE_R_R, HPTE_R_C } from "../../hw/power7";
import { H_SUCCESS, H_PARAMETER, H_NOT_FOUND, H_AVPN, H_ANDCOND } from "../../kvm/hvcall";
import {
  HPTE_V_ABSENT,
  HPTE_V_HVLOCK,
  HPTE_GR_RESERVED,
  KVMPPC_RMAP_INDEX,
  KVMPPC_RMAP_PRESENT,
  KVMPPC_RMAP_RC_SHIFT,
  compute_tlbie_rb,
  hpte_page_size,
  hpte_rpn,
} from "../../kvm/kvm_book3s_64";
import type { Kvm, KvmVcpu, RevmapEntry } from "../../kvm/kvm_host";
import type { KK } from "../../kvm/kernel";

const E_CHECK = event("kvmppc_do_h_remove", "HPTE present and matching? pte1 = hpte[1]; clear V", {
  cost: "hpte_invalidate",
});
const E_NOTFOUND = event("kvmppc_do_h_remove", "not found: clear HVLOCK", { cost: "mem" });
const E_UNLINK = event("remove_revmap_chain", "R/C from hpte_r into guest_rpte; unlink; R/C to *rmap; unlock", {
  cost: "mem",
});

/** remove_revmap_chain (v3.17 form): the R/C bits come from the caller's hpte_r, not from the HPTE. */
export function* remove_revmap_chain(
  k: KK,
  kvm: Kvm,
  pte_index: number,
  rev: RevmapEntry,
  hpte_v: bigint,
  hpte_r: bigint,
): Gen {
  const rcbits = hpte_r & (HPTE_R_R | HPTE_R_C);
  const ptel = (rev.guest_rpte |= rcbits);
  const gfn = Number(hpte_rpn(ptel, hpte_page_size(hpte_v, ptel)));
  const s = kvm.memslot;
  if (gfn < s.base_gfn || gfn >= s.base_gfn + s.npages) return;
  yield* k.lock_rmap(kvm, gfn);
  const ri = gfn - s.base_gfn;
  k.W(s.rmapObj + ri, E_UNLINK);
  yield;
  let head = Number(s.rmap[ri] & KVMPPC_RMAP_INDEX);
  const next = kvm.rev(rev.forw);
  const prev = kvm.rev(rev.back);
  next.back = rev.back;
  prev.forw = rev.forw;
  if (head === pte_index) {
    head = rev.forw;
    if (head === pte_index) s.rmap[ri] &= ~(KVMPPC_RMAP_PRESENT | KVMPPC_RMAP_INDEX);
    else s.rmap[ri] = (s.rmap[ri] & ~KVMPPC_RMAP_INDEX) | BigInt(head);
  }
  s.rmap[ri] |= rcbits << KVMPPC_RMAP_RC_SHIFT;
  s.rmap[ri] &= ~(1n << 63n); // unlock_rmap
}

/** kvmppc_h_remove → kvmppc_do_h_remove (6f22bd3265fb): dword 1 read before the invalidation, used after it. */
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
    yield* remove_revmap_chain(k, kvm, pte_index, rev, v, pte1); // "Read PTE low word after tlbie": it is not
  }
  const r = rev.guest_rpte & ~HPTE_GR_RESERVED;
  yield* k.unlock_hpte(kvm, pte_index, 0n);
  vcpu.arch.gpr[4] = v;
  vcpu.arch.gpr[5] = r;
  return H_SUCCESS;
}
