// Fix 003, kvm-local-global: the functions 1b400ba0 changes, as they were before it (v3.7; the v3.6 and v3.7
// versions of these functions are the same for what is modelled). tlbiel when the VM has one online vcpu or
// the guest passed H_LOCAL; on guest entry every thread flushes the LPID from its core's TLB when this vcpu last
// ran on another CPU or this CPU last ran another vcpu (vcpu->arch.last_cpu, kvm->arch.last_vcpu[]).

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

const E_CHECK = event("kvmppc_h_remove", "HPTE present and matching? clear V; read online_vcpus", {
  cost: "hpte_invalidate",
});
const E_NOTFOUND = event("kvmppc_h_remove", "not found: clear HVLOCK", { cost: "mem" });
const E_P_CHECK = event("kvmppc_h_protect", "HPTE present and matching? new PP/N/key bits; clear V", {
  cost: "hpte_invalidate",
});
const E_P_WRITE = event("kvmppc_h_protect", "hpte[1] = r; eieio; hpte[0] = v (unlock)", { cost: "mem" });
const E_LAST = event(
  "kvmppc_hv_entry",
  "r6 = (cpu & ~3) | (vcpu_id & 3); last_cpu == r6 && last_vcpu[r6] == vcpu_id? else store both",
  { cost: "mem" },
);
const E_RESET_RMA = event("kvmppc_alloc_reset_hpt", "if (rma_setup_done) rma_setup_done = 0", { cost: "mem" });
const E_RESET_RUNNING = event("kvmppc_alloc_reset_hpt", "smp_mb(); atomic_read(&vcpus_running)", { cost: "mem" });
const E_RESET_BUSY = event("kvmppc_alloc_reset_hpt", "vcpus running: rma_setup_done = 1; -EBUSY", { cost: "mem" });
const E_RESET_CLEAR = event("kvmppc_alloc_reset_hpt", "memset(hpt, 0); memset(last_vcpu, 0xff)", {
  cost: "hpte_invalidate",
});
const E_INIT = event("kvmppc_core_init_vm", "kvm->arch.lpid = lpid", { cost: "mem" });
const E_VCORE = event("kvmppc_core_vcpu_create", "vcores[id / threads_per_core]: allocate it if new", { cost: "mem" });

/** kvmppc_h_remove (v3.7): tlbiel if H_LOCAL or one online vcpu, else tlbie; unlink from the rmap chain. */
export function* kvmppc_h_remove(k: KK, vcpu: KvmVcpu, flags: bigint, pte_index: number, avpn: bigint): Gen<number> {
  const kvm = vcpu.kvm;
  const hpt = kvm.arch.hpt;
  if (pte_index >= kvm.arch.hpt_npte) return H_PARAMETER;
  yield* k.try_lock_hpte_spin(kvm, pte_index);
  k.multi([hpt.obj(pte_index), WRITE, kvm.onlineObj, READ], E_CHECK);
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
    const global = (flags & H_LOCAL) === 0n && kvm.online_vcpus > 1;
    yield* k.do_tlbies(kvm, [rb], global);
    yield* k.remove_revmap_chain(kvm, pte_index, rev, v); // reads hpte[1] after the tlbie: final R/C
  }
  const r = rev.guest_rpte;
  yield* k.unlock_hpte(kvm, pte_index, 0n);
  vcpu.arch.gpr[4] = v;
  vcpu.arch.gpr[5] = r;
  return H_SUCCESS;
}

/** kvmppc_h_protect (v3.7): one online vcpu implies H_LOCAL; new PP/N/key bits; tlbiel or tlbie if it was valid. */
export function* kvmppc_h_protect(k: KK, vcpu: KvmVcpu, flags: bigint, pte_index: number, avpn: bigint): Gen<number> {
  const kvm = vcpu.kvm;
  const hpt = kvm.arch.hpt;
  if (pte_index >= kvm.arch.hpt_npte) return H_PARAMETER;
  yield* k.try_lock_hpte_spin(kvm, pte_index);
  k.multi([hpt.obj(pte_index), WRITE, kvm.onlineObj, READ], E_P_CHECK);
  yield;
  const h0 = hpt.get0(pte_index);
  if ((h0 & (HPTE_V_ABSENT | HPTE_V_VALID)) === 0n || ((flags & H_AVPN) !== 0n && (h0 & ~0x7fn) !== avpn)) {
    hpt.set0(pte_index, h0 & ~HPTE_V_HVLOCK);
    return H_NOT_FOUND;
  }
  if (kvm.online_vcpus === 1) flags |= H_LOCAL;
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
    yield* k.do_tlbies(kvm, [rb], (flags & H_LOCAL) === 0n);
  }
  k.W(hpt.obj(pte_index), E_P_WRITE);
  yield;
  hpt.set1(pte_index, r);
  hpt.set0(pte_index, v & ~HPTE_V_HVLOCK);
  return H_SUCCESS;
}

/**
 * kvmppc_hv_entry (v3.7, POWER7 path): count in; the primary switches the partition and lets the secondaries
 * go; then EVERY thread checks whether the LPID's TLB entries on this core may be stale because of tlbiel:
 * r6 = this CPU with its low two bits replaced by the vcpu id's ("map as if threads 1:1 p:v"); flush unless
 * vcpu->arch.last_cpu == r6 and kvm->arch.last_vcpu[r6] == vcpu_id, recording both first.
 */
export function* kvmppc_hv_entry(k: KK, vcpu: KvmVcpu): Gen<boolean> {
  if (kvmWorld(k.m).ppc970) return yield* k.kvmppc_hv_entry_970(vcpu); // PPC970: label 30, the whole TLB
  if (!(yield* k.kvmppc_hv_entry_count(vcpu))) return false; // secondary_too_late
  if (vcpu.arch.ptid === 0) yield* k.kvmppc_partition_switch(vcpu);
  yield* k.kvmppc_in_guest(vcpu);
  const kvm = vcpu.kvm;
  k.multi([vcpu.obj, WRITE, kvm.lastVcpuObj, WRITE], E_LAST);
  yield;
  const r5 = vcpu.vcpu_id;
  const r6 = ((k.cpu() & ~3) | (r5 & 3)) & 0xffff; // lhz PACAPACAINDEX; rldimi r6,r5,0,62
  const r8 = vcpu.arch.last_cpu; // lhz VCPU_LAST_CPU
  const r0 = kvm.arch.last_vcpu[r6]; // lhz KVM_LAST_VCPU(r7)
  if (r6 === r8 && r0 === (r5 & 0xffff)) return true;
  vcpu.arch.last_cpu = r6; // sth r6,VCPU_LAST_CPU(r4)
  kvm.arch.last_vcpu[r6] = r5 & 0xffff; // sth r5,KVM_LAST_VCPU(r7)
  yield* k.kvmppc_flush_lpid_tlb();
  return true;
}

/** kvmppc_core_init_vm (v3.7, the part modelled): allocate the LPID. Nothing about stale TLB entries. */
export function* kvmppc_core_init_vm(k: KK, kvm: Kvm): Gen<number> {
  const lpid = yield* k.kvmppc_alloc_lpid();
  if (lpid < 0) return -12; // -ENOMEM
  k.W(kvm.needFlushObj, E_INIT);
  yield;
  kvm.arch.lpid = lpid;
  kvm.partition.lpid = lpid;
  return 0;
}

/** kvmppc_core_vcpu_create (v3.7): the vcpu joins vcore id / threads_per_core, allocated on first use. */
export function* kvmppc_core_vcpu_create(k: KK, kvm: Kvm, id: number, ops: GuestOp[]): Gen<KvmVcpu | null> {
  const core = Math.floor(id / k.m.threadsPerCore);
  if (core >= kvm.arch.vcores.length) return null;
  k.W(kvm.onlineObj, E_VCORE);
  yield;
  let vc = kvm.arch.vcores[core];
  if (vc === null) kvm.arch.vcores[core] = vc = new KvmppcVcore(k.m, kvm, core);
  const vcpu = new KvmVcpu(k.m, kvm, id, vc, ops);
  vc.vcpus.push(vcpu);
  kvm.vcpus.push(vcpu);
  return vcpu;
}

/**
 * kvmppc_alloc_reset_hpt (v3.7) for a VM whose HPT exists (QEMU's KVM_PPC_ALLOCATE_HTAB at a guest reset): under
 * kvm->lock, refuse (-EBUSY) if a vcpu is inside KVM_RUN, else clear rma_setup_done, zero the whole HPT and
 * fill last_vcpu[] with 0xff bytes (no vcpu id), so every vcpu's next entry flushes its LPID. The rmap chains and revmap are left as they are; no TLB is flushed here.
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
    k.multi([...whole_hpt(kvm), kvm.lastVcpuObj, WRITE], E_RESET_CLEAR);
    yield;
    memset_hpt(kvm);
    kvm.arch.last_vcpu.fill(0xffff); // an invalid vcpu number: each vcpu flushes on its next entry
    err = 0;
  }
  yield* k.kvm_mutex_unlock(kvm);
  return err;
}
