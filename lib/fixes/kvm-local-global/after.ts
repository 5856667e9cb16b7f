// Fix 003, kvm-local-global: 1b400ba0cd24 "KVM: PPC: Book3S HV: Improve handling of local vs. global TLB
// invalidations" (v3.8). global_invalidates decides tlbie vs tlbiel (local only for a one-vcore VM whose vcore
// is running here, and then every other core's need_tlb_flush bit is set); the primary thread tests and clears
// its core's bit on guest entry and flushes the LPID if it was set; VM creation sets every bit.

import { READ, WRITE } from "../../sim/machine";
import type { Gen } from "../../sim/machine";
import { event } from "../../sim/event";
import { HPTE_V_VALID, HPTE_R_PP0, HPTE_R_KEY_HI, HPTE_R_PP, HPTE_R_N, HPTE_R_KEY_LO, U64 } from "../../hw/power7";
import { H_SUCCESS, H_PARAMETER, H_NOT_FOUND, H_AVPN, H_ANDCOND, H_LOCAL } from "../../kvm/hvcall";
import { HPTE_V_ABSENT, HPTE_V_HVLOCK, compute_tlbie_rb } from "../../kvm/kvm_book3s_64";
import { whole_hpt, memset_hpt } from "../../kvm/book3s_64_mmu_hv";
import { KvmVcpu, KvmppcVcore, kvmWorld } from "../../kvm/kvm_host";
import type { GuestOp, Kvm } from "../../kvm/kvm_host";
import type { KK } from "../../kvm/kernel";

const E_GLOBAL = event(
  "global_invalidates",
  "online_vcores == 1 && this CPU runs it? then setall need_tlb_flush, clear own",
  { cost: "mem" },
);
const E_CHECK = event("kvmppc_h_remove", "HPTE present and matching? clear V", { cost: "hpte_invalidate" });
const E_NOTFOUND = event("kvmppc_h_remove", "not found: clear HVLOCK", { cost: "mem" });
const E_P_CHECK = event("kvmppc_h_protect", "HPTE present and matching? new PP/N/key bits; clear V", {
  cost: "hpte_invalidate",
});
const E_P_WRITE = event("kvmppc_h_protect", "hpte[1] = r; eieio; hpte[0] = v (unlock)", { cost: "mem" });
const E_TEST = event("kvmppc_hv_entry", "test_bit(cpu, need_tlb_flush)", { cost: "mem" });
const E_CLEAR = event("kvmppc_hv_entry", "ldarx/andc/stdcx.: clear our bit", { cost: "atomic" });
const E_RESET_RMA = event("kvmppc_alloc_reset_hpt", "if (rma_setup_done) rma_setup_done = 0", { cost: "mem" });
const E_RESET_RUNNING = event("kvmppc_alloc_reset_hpt", "smp_mb(); atomic_read(&vcpus_running)", { cost: "mem" });
const E_RESET_BUSY = event("kvmppc_alloc_reset_hpt", "vcpus running: rma_setup_done = 1; -EBUSY", { cost: "mem" });
const E_RESET_CLEAR = event("kvmppc_alloc_reset_hpt", "memset(hpt, 0); cpumask_setall(need_tlb_flush)", {
  cost: "hpte_invalidate",
});
const E_INIT = event("kvmppc_core_init_vm", "kvm->arch.lpid = lpid; cpumask_setall(need_tlb_flush)", { cost: "mem" });
const E_VCORE = event("kvmppc_core_vcpu_create", "vcores[id / threads_per_core]: allocate it if new, online_vcores++", {
  cost: "mem",
});

/** Every CPU of the machine: cpumask_setall over nr_cpu_ids. */
function allCpus(n: number): number {
  return n >= 31 ? 0x7fffffff : (1 << n) - 1;
}

/**
 * global_invalidates(kvm, flags) (v3.8): 0 (tlbiel) if the VM has one online vcore and this CPU is running a
 * vcore (local_paca->kvm_hstate.kvm_vcore), after marking every other core as needing a flush; else 1 (tlbie)
 * when pages can be taken away (using_mmu_notifiers), regardless of H_LOCAL; else (PPC970) honour H_LOCAL.
 */
export function* global_invalidates(k: KK, kvm: Kvm, flags: bigint): Gen<boolean> {
  const w = kvmWorld(k.m);
  const hs = w.hstate[k.cpu()];
  k.multi([kvm.onlineObj, READ, kvm.needFlushObj, WRITE], E_GLOBAL);
  yield;
  let global: boolean;
  if (kvm.arch.online_vcores === 1 && hs.kvm_vcore !== null) global = false;
  else if (kvm.arch.using_mmu_notifiers) global = true;
  else global = (flags & H_LOCAL) === 0n;
  if (!global) {
    // any other core might now have stale TLB entries... (smp_wmb)
    kvm.arch.need_tlb_flush = allCpus(k.m.ncpu);
    kvm.arch.need_tlb_flush &= ~(1 << hs.kvm_vcore!.pcpu);
  }
  return global;
}

/** kvmppc_h_remove (1b400ba0): the invalidation is global_invalidates(kvm, flags)'s choice. */
export function* kvmppc_h_remove(k: KK, vcpu: KvmVcpu, flags: bigint, pte_index: number, avpn: bigint): Gen<number> {
  const kvm = vcpu.kvm;
  const hpt = kvm.arch.hpt;
  if (pte_index >= kvm.arch.hpt_npte) return H_PARAMETER;
  yield* k.try_lock_hpte_spin(kvm, pte_index);
  k.W(hpt.obj(pte_index), E_CHECK);
  yield;
  const h0 = hpt.get0(pte_index);
  if (
    (h0 & (HPTE_V_ABSENT | HPTE_V_VALID)) === 0n ||
    ((flags & H_AVPN) !== 0n && (h0 & ~0x7fn) !== avpn) ||
    ((flags & H_ANDCOND) !== 0n && (h0 & avpn) !== 0n)
  ) {
    k.W(hpt.obj(pte_index), E_NOTFOUND);
    yield;
    hpt.set0(pte_index, hpt.get0(pte_index) & ~HPTE_V_HVLOCK);
    return H_NOT_FOUND;
  }
  const rev = kvm.rev(pte_index);
  const v = h0 & ~HPTE_V_HVLOCK;
  if ((v & HPTE_V_VALID) !== 0n) {
    hpt.set0(pte_index, h0 & ~HPTE_V_VALID);
    const rb = compute_tlbie_rb(v, hpt.get1(pte_index), pte_index);
    yield* k.do_tlbies(kvm, [rb], yield* k.global_invalidates(kvm, flags));
    yield* k.remove_revmap_chain(kvm, pte_index, rev, v); // reads hpte[1] after the tlbie: final R/C
  }
  const r = rev.guest_rpte;
  yield* k.unlock_hpte(kvm, pte_index, 0n);
  vcpu.arch.gpr[4] = v;
  vcpu.arch.gpr[5] = r;
  return H_SUCCESS;
}

/** kvmppc_h_protect (1b400ba0): no more "one vcpu means H_LOCAL"; global_invalidates decides. */
export function* kvmppc_h_protect(k: KK, vcpu: KvmVcpu, flags: bigint, pte_index: number, avpn: bigint): Gen<number> {
  const kvm = vcpu.kvm;
  const hpt = kvm.arch.hpt;
  if (pte_index >= kvm.arch.hpt_npte) return H_PARAMETER;
  yield* k.try_lock_hpte_spin(kvm, pte_index);
  k.W(hpt.obj(pte_index), E_P_CHECK);
  yield;
  const h0 = hpt.get0(pte_index);
  if ((h0 & (HPTE_V_ABSENT | HPTE_V_VALID)) === 0n || ((flags & H_AVPN) !== 0n && (h0 & ~0x7fn) !== avpn)) {
    hpt.set0(pte_index, h0 & ~HPTE_V_HVLOCK);
    return H_NOT_FOUND;
  }
  const v = h0;
  let bits = U64(flags << 55n) & HPTE_R_PP0;
  bits |= U64(flags << 48n) & HPTE_R_KEY_HI;
  bits |= flags & (HPTE_R_PP | HPTE_R_N | HPTE_R_KEY_LO);
  const mask = HPTE_R_PP0 | HPTE_R_PP | HPTE_R_N | HPTE_R_KEY_HI | HPTE_R_KEY_LO;
  const rev = kvm.rev(pte_index);
  rev.guest_rpte = (rev.guest_rpte & ~mask) | bits; // the guest's view of dword 1
  const r = (hpt.get1(pte_index) & ~mask) | bits;
  if ((v & HPTE_V_VALID) !== 0n) {
    const rb = compute_tlbie_rb(v, r, pte_index);
    hpt.set0(pte_index, v & ~HPTE_V_VALID);
    yield* k.do_tlbies(kvm, [rb], yield* k.global_invalidates(kvm, flags));
  }
  k.W(hpt.obj(pte_index), E_P_WRITE);
  yield;
  hpt.set1(pte_index, r);
  hpt.set0(pte_index, v & ~HPTE_V_HVLOCK);
  return H_SUCCESS;
}

/**
 * kvmppc_hv_entry (1b400ba0, POWER7 path): count in; the primary thread switches the partition, then tests its
 * CPU's bit in kvm->arch.need_tlb_flush and, if set, clears it (ldarx/stdcx.) and then flushes the LPID from the
 * core's TLB (128 tlbiel IS=0b10), before letting the secondaries in. Secondaries do no TLB check at all.
 */
export function* kvmppc_hv_entry(k: KK, vcpu: KvmVcpu): Gen<boolean> {
  if (kvmWorld(k.m).ppc970) return yield* k.kvmppc_hv_entry_970(vcpu); // PPC970: label 30, the whole TLB
  if (!(yield* k.kvmppc_hv_entry_count(vcpu))) return false; // secondary_too_late
  if (vcpu.arch.ptid === 0) {
    yield* k.kvmppc_partition_switch(vcpu);
    const kvm = vcpu.kvm;
    const bit = 1 << k.cpu(); // lhz PACAPACAINDEX: the primary thread's CPU number
    k.R(kvm.needFlushObj, E_TEST);
    yield;
    if ((kvm.arch.need_tlb_flush & bit) !== 0) {
      k.W(kvm.needFlushObj, E_CLEAR);
      yield;
      kvm.arch.need_tlb_flush &= ~bit;
      yield* k.kvmppc_flush_lpid_tlb();
    }
  }
  yield* k.kvmppc_in_guest(vcpu);
  return true;
}

/** kvmppc_core_init_vm (1b400ba0): also set every bit of need_tlb_flush (an earlier VM may have had this LPID). */
export function* kvmppc_core_init_vm(k: KK, kvm: Kvm): Gen<number> {
  const lpid = yield* k.kvmppc_alloc_lpid();
  if (lpid < 0) return -12; // -ENOMEM
  k.W(kvm.needFlushObj, E_INIT);
  yield;
  kvm.arch.lpid = lpid;
  kvm.partition.lpid = lpid;
  kvm.arch.need_tlb_flush = allCpus(k.m.ncpu); // cpumask_setall
  return 0;
}

/** kvmppc_core_vcpu_create (1b400ba0): a new vcore also counts in kvm->arch.online_vcores. */
export function* kvmppc_core_vcpu_create(k: KK, kvm: Kvm, id: number, ops: GuestOp[]): Gen<KvmVcpu | null> {
  const core = Math.floor(id / k.m.threadsPerCore);
  if (core >= kvm.arch.vcores.length) return null;
  k.W(kvm.onlineObj, E_VCORE);
  yield;
  let vc = kvm.arch.vcores[core];
  if (vc === null) {
    kvm.arch.vcores[core] = vc = new KvmppcVcore(k.m, kvm, core);
    kvm.arch.online_vcores++;
  }
  const vcpu = new KvmVcpu(k.m, kvm, id, vc, ops);
  vc.vcpus.push(vcpu);
  kvm.vcpus.push(vcpu);
  return vcpu;
}

/**
 * kvmppc_alloc_reset_hpt (1b400ba0) for a VM whose HPT exists (QEMU's KVM_PPC_ALLOCATE_HTAB at a guest reset): under
 * kvm->lock, refuse (-EBUSY) if a vcpu is inside KVM_RUN, else clear rma_setup_done, zero the whole HPT and
 * set every need_tlb_flush bit (replacing v3.7's memset of last_vcpu[]). The rmap chains and revmap are left as they are; no TLB is flushed here.
 */
export function* kvmppc_alloc_reset_hpt(k: KK, kvm: Kvm): Gen<number> {
  let err = -16; // -EBUSY
  yield* k.kvm_mutex_lock(kvm);
  k.W(kvm.rmaObj, E_RESET_RMA);
  yield;
  const was = kvm.arch.rma_setup_done;
  if (was) kvm.arch.rma_setup_done = 0;
  k.R(kvm.runningObj, E_RESET_RUNNING); // smp_mb(); atomic_read(&kvm->arch.vcpus_running)
  yield;
  if (was && kvm.arch.vcpus_running) {
    k.W(kvm.rmaObj, E_RESET_BUSY);
    yield;
    kvm.arch.rma_setup_done = 1;
  } else {
    k.multi([...whole_hpt(kvm), kvm.needFlushObj, WRITE], E_RESET_CLEAR);
    yield;
    memset_hpt(kvm);
    kvm.arch.need_tlb_flush = allCpus(k.m.ncpu); // cpumask_setall: the old HPT's entries may be in any core's TLB
    err = 0;
  }
  yield* k.kvm_mutex_unlock(kvm);
  return err;
}
