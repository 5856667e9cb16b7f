// Fix 003, kvm-local-global, later history. The 2019 move of the entry check to C ("KVM: PPC: Book3S HV: Move
// HPT guest TLB flushing to C code", kvmppc_check_need_tlb_flush) flushes first and clears the bit after; it is
// modelled at the same place in the entry path as the v3.8 assembly, only the order differs. And the later
// kvmppc_h_bulk_remove, which decides with global_invalidates like H_REMOVE (1b400ba0 left it on online_vcpus).

import type { Gen } from "../../sim/machine";
import { event } from "../../sim/event";
import { HPTE_V_VALID, HPTE_R_R, HPTE_R_C } from "../../hw/power7";
import { H_SUCCESS, H_PARAMETER } from "../../kvm/hvcall";
import { HPTE_V_ABSENT, HPTE_V_HVLOCK, compute_tlbie_rb } from "../../kvm/kvm_book3s_64";
import { kvmWorld } from "../../kvm/kvm_host";
import type { Kvm, KvmVcpu, RevmapEntry } from "../../kvm/kvm_host";
import type { KK } from "../../kvm/kernel";

const E_TEST = event("kvmppc_check_need_tlb_flush", "cpumask_test_cpu(pcpu, need_tlb_flush)", { cost: "mem" });
const E_CLEAR = event("kvmppc_check_need_tlb_flush", "clear the bit after the TLB flush", { cost: "atomic" });
const E_BULK_CHECK = event("kvmppc_h_bulk_remove", "match? clear V (leave locked)", { cost: "hpte_invalidate" });
const E_BULK_DONE = event("kvmppc_h_bulk_remove", "hp[0] = 0", { cost: "mem" });

/** kvmppc_check_need_tlb_flush (2019): if this core's bit is set, flush the LPID, then clear the bit. */
export function* kvmppc_check_need_tlb_flush(k: KK, kvm: Kvm, pcpu: number): Gen {
  const bit = 1 << pcpu;
  k.R(kvm.needFlushObj, E_TEST);
  yield;
  if ((kvm.arch.need_tlb_flush & bit) === 0) return;
  yield* k.kvmppc_flush_lpid_tlb();
  k.W(kvm.needFlushObj, E_CLEAR);
  yield;
  kvm.arch.need_tlb_flush &= ~bit;
}

/** kvmppc_hv_entry with the 2019 check: partition switch, kvmppc_check_need_tlb_flush, then the secondaries. */
export function* kvmppc_hv_entry(k: KK, vcpu: KvmVcpu): Gen<boolean> {
  if (kvmWorld(k.m).ppc970) return yield* k.kvmppc_hv_entry_970(vcpu); // PPC970: label 30, the whole TLB
  if (!(yield* k.kvmppc_hv_entry_count(vcpu))) return false; // secondary_too_late
  if (vcpu.arch.ptid === 0) {
    yield* k.kvmppc_partition_switch(vcpu);
    yield* k.kvmppc_check_need_tlb_flush(vcpu.kvm, k.cpu());
  }
  yield* k.kvmppc_in_guest(vcpu);
  return true;
}

/**
 * kvmppc_h_bulk_remove as later kernels have it (v3.10+ in the files read): the batch's tlbie vs tlbiel is
 * global_invalidates(kvm, 0), so a local batch also marks every other core for a flush. Otherwise as v3.7.
 */
export function* kvmppc_h_bulk_remove(k: KK, vcpu: KvmVcpu): Gen<number> {
  const kvm = vcpu.kvm;
  const args = vcpu.arch.gpr; // args[j] is gpr[4 + j]
  const A = (j: number) => 4 + j;
  const hpt = kvm.arch.hpt;
  let ret = H_SUCCESS;
  const global = yield* k.global_invalidates(kvm, 0n);
  for (let i = 0; i < 4 && ret === H_SUCCESS;) {
    let n = 0;
    const batch: { j: number; pte_index: number; rev: RevmapEntry; rb: bigint }[] = [];
    for (; i < 4; ++i) {
      const j = i * 2;
      let pte_index = args[A(j)];
      let flags = pte_index >> 56n;
      pte_index &= (1n << 56n) - 1n;
      const req = flags >> 6n;
      flags &= 3n;
      if (req === 3n) {
        i = 4; // no more requests
        break;
      }
      if (req !== 1n || flags === 3n || pte_index >= BigInt(kvm.arch.hpt_npte)) {
        args[A(j)] = ((0xa0n | flags) << 56n) + pte_index; // parameter error
        ret = H_PARAMETER;
        break;
      }
      const pi = Number(pte_index);
      // to avoid deadlock, don't spin except for the first
      if (!(yield* k.try_lock_hpte(kvm, pi, HPTE_V_HVLOCK))) {
        if (n) break;
        yield* k.try_lock_hpte_spin(kvm, pi);
      }
      k.W(hpt.obj(pi), E_BULK_CHECK);
      yield;
      const hp0 = hpt.get0(pi);
      let found = false;
      if ((hp0 & (HPTE_V_ABSENT | HPTE_V_VALID)) !== 0n) {
        const a1 = args[A(j + 1)];
        if (flags === 0n)
          found = true; // absolute
        else if (flags === 1n)
          found = (hp0 & a1) === 0n; // andcond
        else if (flags === 2n) found = (hp0 & ~0x7fn) === a1; // AVPN
      }
      if (!found) {
        hpt.set0(pi, hp0 & ~HPTE_V_HVLOCK);
        args[A(j)] = ((0x90n | flags) << 56n) + pte_index;
        continue;
      }
      args[A(j)] = ((0x80n | flags) << 56n) + pte_index;
      const rev = kvm.rev(pi);
      if ((hp0 & HPTE_V_VALID) === 0n) {
        const rcbits = rev.guest_rpte & (HPTE_R_R | HPTE_R_C); // insert R and C bits from the guest view
        args[A(j)] |= rcbits << (56n - 5n);
        hpt.set0(pi, 0n);
        continue;
      }
      hpt.set0(pi, hp0 & ~HPTE_V_VALID); // leave it locked
      batch.push({ j, pte_index: pi, rev, rb: compute_tlbie_rb(hpt.get0(pi), hpt.get1(pi), pi) });
      ++n;
    }
    if (!n) break;
    // now that we've collected a batch, do the tlbies
    yield* k.do_tlbies(
      kvm,
      batch.map((b) => b.rb),
      global,
    );
    // read PTE low words after tlbie to get final R/C values
    for (const b of batch) {
      yield* k.remove_revmap_chain(kvm, b.pte_index, b.rev, hpt.get0(b.pte_index));
      const rcbits = b.rev.guest_rpte & (HPTE_R_R | HPTE_R_C);
      args[A(b.j)] |= rcbits << (56n - 5n);
      k.W(hpt.obj(b.pte_index), E_BULK_DONE);
      yield;
      hpt.set0(b.pte_index, 0n);
    }
  }
  return ret;
}
