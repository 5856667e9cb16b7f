// Fix 003, kvm-local-global: deliberately broken versions of the fix (no kernel ever shipped them), for the
// scenarios to catch. Each keeps 1b400ba0's code but for one line: global_invalidates without marking the other
// cores, the entry check that clears its core's bit but skips the flush, VM creation or HPT reset that marks no
// core.

import { READ, WRITE } from "../../sim/machine";
import type { Gen } from "../../sim/machine";
import { event } from "../../sim/event";
import { kvmWorld } from "../../kvm/kvm_host";
import { H_LOCAL } from "../../kvm/hvcall";
import type { Kvm, KvmVcpu } from "../../kvm/kvm_host";
import type { KK } from "../../kvm/kernel";
import { whole_hpt, memset_hpt } from "../../kvm/book3s_64_mmu_hv";

const E_GLOBAL = event("global_invalidates", "online_vcores == 1 && this CPU runs it? (other cores NOT marked)", {
  cost: "mem",
});
const E_TEST = event("kvmppc_hv_entry", "test_bit(cpu, need_tlb_flush)", { cost: "mem" });
const E_CLEAR = event("kvmppc_hv_entry", "ldarx/andc/stdcx.: clear our bit (and no flush)", { cost: "atomic" });
const E_RESET_RMA = event("kvmppc_alloc_reset_hpt", "if (rma_setup_done) rma_setup_done = 0", { cost: "mem" });
const E_RESET_RUNNING = event("kvmppc_alloc_reset_hpt", "smp_mb(); atomic_read(&vcpus_running)", { cost: "mem" });
const E_RESET_BUSY = event("kvmppc_alloc_reset_hpt", "vcpus running: rma_setup_done = 1; -EBUSY", { cost: "mem" });
const E_RESET_CLEAR = event("kvmppc_alloc_reset_hpt", "memset(hpt, 0) (need_tlb_flush left as it is)", {
  cost: "hpte_invalidate",
});
const E_INIT = event("kvmppc_core_init_vm", "kvm->arch.lpid = lpid (need_tlb_flush left empty)", { cost: "mem" });

/** global_invalidates as 1b400ba0 has it, minus cpumask_setall: tlbiel for a running one-vcore VM, nobody told. */
export function* global_invalidates_no_setall(k: KK, kvm: Kvm, flags: bigint): Gen<boolean> {
  const hs = kvmWorld(k.m).hstate[k.cpu()];
  k.multi([kvm.onlineObj, READ, kvm.needFlushObj, WRITE], E_GLOBAL);
  yield;
  if (kvm.arch.online_vcores === 1 && hs.kvm_vcore !== null) return false;
  return kvm.arch.using_mmu_notifiers ? true : (flags & H_LOCAL) === 0n;
}

/** kvmppc_hv_entry of 1b400ba0 with the 128 tlbiels dropped: the bit is consumed, the stale entries stay. */
export function* kvmppc_hv_entry_clear_no_flush(k: KK, vcpu: KvmVcpu): Gen<boolean> {
  if (kvmWorld(k.m).ppc970) return yield* k.kvmppc_hv_entry_970(vcpu); // PPC970: label 30, the whole TLB
  if (!(yield* k.kvmppc_hv_entry_count(vcpu))) return false;
  if (vcpu.arch.ptid === 0) {
    yield* k.kvmppc_partition_switch(vcpu);
    const kvm = vcpu.kvm;
    const bit = 1 << k.cpu();
    k.R(kvm.needFlushObj, E_TEST);
    yield;
    if ((kvm.arch.need_tlb_flush & bit) !== 0) {
      k.W(kvm.needFlushObj, E_CLEAR);
      yield;
      kvm.arch.need_tlb_flush &= ~bit;
    }
  }
  yield* k.kvmppc_in_guest(vcpu);
  return true;
}

/** kvmppc_core_init_vm of 1b400ba0 without cpumask_setall: a reused LPID finds the old VM's entries. */
export function* kvmppc_core_init_vm_no_setall(k: KK, kvm: Kvm): Gen<number> {
  const lpid = yield* k.kvmppc_alloc_lpid();
  if (lpid < 0) return -12; // -ENOMEM
  k.W(kvm.needFlushObj, E_INIT);
  yield;
  kvm.arch.lpid = lpid;
  kvm.partition.lpid = lpid;
  return 0;
}

/**
 * kvmppc_alloc_reset_hpt_no_setall (1b400ba0 without cpumask_setall) for a VM whose HPT exists (QEMU's KVM_PPC_ALLOCATE_HTAB at a guest reset): under
 * kvm->lock, refuse (-EBUSY) if a vcpu is inside KVM_RUN, else clear rma_setup_done, zero the whole HPT and
 * leave need_tlb_flush alone (the broken line). The rmap chains and revmap are left as they are; no TLB is flushed here.
 */
export function* kvmppc_alloc_reset_hpt_no_setall(k: KK, kvm: Kvm): Gen<number> {
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
    // need_tlb_flush not touched: the cores that ran the VM keep the old HPT's translations
    err = 0;
  }
  yield* k.kvm_mutex_unlock(kvm);
  return err;
}

const E_NOCHECK_CLEAR = event("kvmppc_alloc_reset_hpt", "memset(hpt, 0); cpumask_setall (vcpus_running not checked)", {
  cost: "hpte_invalidate",
});

/** kvmppc_alloc_reset_hpt of 1b400ba0 without the vcpus_running check: the HPT is wiped under a running guest. */
export function* kvmppc_alloc_reset_hpt_no_busy(k: KK, kvm: Kvm): Gen<number> {
  yield* k.kvm_mutex_lock(kvm);
  k.W(kvm.rmaObj, E_RESET_RMA);
  yield;
  kvm.arch.rma_setup_done = 0;
  k.multi([...whole_hpt(kvm), kvm.needFlushObj, WRITE], E_NOCHECK_CLEAR);
  yield;
  memset_hpt(kvm);
  kvm.arch.need_tlb_flush = k.m.ncpu >= 31 ? 0x7fffffff : (1 << k.m.ncpu) - 1; // cpumask_setall
  yield* k.kvm_mutex_unlock(kvm);
  return 0;
}
