// Running vcores on physical cores (arch/powerpc/kvm/book3s_hv.c, v3.7): kvmppc_run_core puts a vcore on the
// core of whichever CPU runs it, its runnable vcpus on that core's threads (ptid in runnable order), enters the
// guest, and handles the exits (HDSI → kvmppc_book3s_hv_page_fault) once every thread is back; destroying a VM
// frees its LPID without flushing. Placement is data: kvm_host_cpu (the host scheduler, no kernel function)
// lets the explorer choose which runnable vcore this core's CPU picks up; tasks stay pinned.

import { READ, WRITE } from "../sim/machine";
import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import { VCORE_INACTIVE, VCORE_RUNNING, BOOK3S_INTERRUPT_H_DATA_STORAGE, kvmWorld } from "./kvm_host";
import type { Kvm, KvmVcpu, KvmppcVcore, KvmWorld } from "./kvm_host";
import type { KK } from "./kernel";

const E_PICK = event("kvmppc_run_vcpu", "a runnable vcore: take it (vcore_state = RUNNING, pcpu)", {
  cost: "spin_lock",
});
const E_START = event("kvmppc_start_thread", "paca[cpu + ptid].kvm_hstate.kvm_vcpu = vcpu", { cost: "ipi_send" });
const E_RELEASE = event("kvmppc_run_core", "vcore_state = VCORE_INACTIVE", { cost: "spin_unlock" });
const E_STOP = event("kvmppc_run_core", "no vcore left: secondary threads stay offline", { cost: "none" });
const E_SEC_WAIT = event("kvm_start_guest", "secondary thread: nap until given a vcpu", { cost: "none" });
const E_SEC_DONE = event("kvm_start_guest", "back to nap: kvm_hstate.kvm_vcpu = NULL", { cost: "mem" });
const E_NAP_WAIT = event("kvmppc_wait_for_nap", "wait for the secondary thread to nap again", { cost: "none" });
const E_RUNNING_INC = event("kvmppc_vcpu_run", "atomic_inc(&vcpus_running); smp_mb()", { cost: "atomic" });
const E_RMA_TEST = event("kvmppc_vcpu_run", "if (!kvm->arch.rma_setup_done)", { cost: "mem" });
const E_RUNNING_DEC = event("kvmppc_vcpu_run", "atomic_dec(&vcpus_running)", { cost: "atomic" });
const E_MUTEX = event("mutex_lock", "take kvm->lock (sleep while held)", { cost: "spin_lock" });
const E_UNMUTEX = event("mutex_unlock", "release kvm->lock", { cost: "spin_unlock" });
const E_SETUP = event("kvmppc_hv_setup_htab_rma", "rma_setup_done? else VRMA set up; smp_wmb; rma_setup_done = 1", {
  cost: "mem",
});
const E_DESTROY = event("kvmppc_core_destroy_vm", "free the HPT; the VM is gone", { cost: "mem" });

function runnable(vc: KvmppcVcore | null): vc is KvmppcVcore {
  return vc !== null && vc.kvm.created && !vc.kvm.destroyed && vc.vcore_state === VCORE_INACTIVE && !vc.done;
}

function allFinished(vms: Kvm[]): boolean {
  return vms.every((vm) => vm.destroyed || (vm.created && vm.arch.vcores.every((vc) => vc === null || vc.done)));
}

/**
 * The host scheduler on one core's primary thread (no kernel function): whenever a vcore of `vms` is runnable,
 * pick one (the explorer chooses which) and run it here with kvmppc_run_core; stop when every VM is finished.
 */
export function* kvm_host_cpu(k: KK, vms: Kvm[]): Gen {
  yield* host_loop(k, vms, (vc) => k.kvmppc_run_core(vc));
}

/**
 * kvm_host_cpu with each run going through KVM_RUN's entry (kvmppc_vcpu_run: vcpus_running and the HTAB setup),
 * for scenarios that reset the HPT; the others skip those steps.
 */
export function* kvm_host_cpu_run(k: KK, vms: Kvm[]): Gen {
  yield* host_loop(k, vms, (vc) => k.kvmppc_vcpu_run(vc));
}

function* host_loop(k: KK, vms: Kvm[], run: (vc: KvmppcVcore) => Gen): Gen {
  const w = kvmWorld(k.m);
  const cpu = k.cpu();
  for (;;) {
    k.wait(w.runqObj, WRITE, E_PICK, () => allFinished(vms) || vms.some((vm) => vm.arch.vcores.some(runnable)));
    yield;
    const avail: KvmppcVcore[] = [];
    for (const vm of vms) for (const vc of vm.arch.vcores) if (runnable(vc)) avail.push(vc);
    if (avail.length === 0) break;
    const vc = avail[k.choose(avail.length, "vcore this core picks up")];
    vc.vcore_state = VCORE_RUNNING;
    vc.pcpu = cpu;
    yield* run(vc);
  }
  yield* stop_secondaries(k, w, cpu);
}

/** Tell this core's secondary threads that no vcpu will come (they exit their nap loop). */
function* stop_secondaries(k: KK, w: KvmWorld, cpu: number): Gen {
  const tpc = k.m.threadsPerCore;
  if (tpc === 1) return;
  const objs: number[] = [];
  for (let t = 1; t < tpc; t++) objs.push(w.hstateObj + cpu + t, WRITE);
  k.multi(objs, E_STOP);
  yield;
  for (let t = 1; t < tpc; t++) w.stopped[cpu + t] = true;
}

/**
 * kvmppc_run_core: give each runnable vcpu a thread of this core (ptid in runnable order; secondaries are woken
 * through their paca), enter the guest on the primary thread, and once the core is back in the host handle each
 * vcpu's exit (a page fault maps the page again), then release the vcore.
 */
export function* kvmppc_run_core(k: KK, vc: KvmppcVcore): Gen {
  const w = kvmWorld(k.m);
  const cpu = k.cpu();
  const run = vc.vcpus.filter((v) => !v.done).slice(0, k.m.threadsPerCore);
  vc.entry_exit_count = 0;
  vc.in_guest = 0;
  for (let p = 0; p < run.length; p++) {
    const vcpu = run[p];
    vcpu.arch.ptid = p;
    vcpu.arch.trap = 0;
    if (p === 0) continue;
    k.W(w.hstateObj + cpu + p, E_START);
    yield;
    w.hstate[cpu + p] = { kvm_vcpu: vcpu, kvm_vcore: vc };
  }
  const vcpu = run[0];
  w.hstate[cpu] = { kvm_vcpu: vcpu, kvm_vcore: vc }; // kvmppc_core_vcpu_load: this CPU's own paca
  if (yield* k.kvmppc_hv_entry(vcpu)) {
    yield* k.guest_run(vcpu);
    yield* k.kvmppc_interrupt(vcpu);
  }
  w.hstate[cpu] = { kvm_vcpu: null, kvm_vcore: null };
  // kvmppc_wait_for_nap: every secondary started is back in its nap loop before the vcore is let go
  for (let p = 1; p < run.length; p++) {
    k.wait(w.hstateObj + cpu + p, READ, E_NAP_WAIT, () => w.hstate[cpu + p].kvm_vcpu === null);
    yield;
  }
  for (const v of run) {
    if (v.arch.trap === BOOK3S_INTERRUPT_H_DATA_STORAGE) yield* k.kvmppc_book3s_hv_page_fault(v);
    v.arch.trap = 0;
  }
  k.W(w.runqObj, E_RELEASE);
  yield;
  vc.vcore_state = VCORE_INACTIVE;
}

/** A secondary thread (kvm_start_guest in book3s_hv_rmhandlers.S): nap until given a vcpu, run it, nap again. */
export function* kvm_secondary_thread(k: KK): Gen {
  const w = kvmWorld(k.m);
  const cpu = k.cpu();
  for (;;) {
    k.wait(w.hstateObj + cpu, READ, E_SEC_WAIT, () => w.stopped[cpu] || w.hstate[cpu].kvm_vcpu !== null);
    yield;
    const vcpu = w.hstate[cpu].kvm_vcpu;
    if (vcpu === null) return;
    if (yield* k.kvmppc_hv_entry(vcpu)) {
      yield* k.guest_run(vcpu);
      yield* k.kvmppc_interrupt(vcpu);
    }
    k.W(w.hstateObj + cpu, E_SEC_DONE);
    yield;
    w.hstate[cpu] = { kvm_vcpu: null, kvm_vcore: null };
  }
}

/** mutex_lock(&kvm->lock): sleep until it is free, then hold it (the owner as CPU + 1). */
export function* kvm_mutex_lock(k: KK, kvm: Kvm): Gen {
  k.wait(kvm.lockObj, WRITE, E_MUTEX, () => kvm.lock === 0);
  yield;
  kvm.lock = k.cpu() + 1;
}

/** mutex_unlock(&kvm->lock). */
export function* kvm_mutex_unlock(k: KK, kvm: Kvm): Gen {
  k.W(kvm.lockObj, E_UNMUTEX);
  yield;
  kvm.lock = 0;
}

/**
 * kvmppc_vcpu_run (v3.7, the part modelled) for the vcpus of one vcore: count them into vcpus_running, full
 * barrier, and if an HPT reset cleared rma_setup_done set the HTAB up again under kvm->lock before running.
 * The barrier pairs with kvmppc_alloc_reset_hpt's: either the reset sees vcpus_running, or the vcpu sees the
 * reset's rma_setup_done = 0 and waits on kvm->lock for it to finish.
 */
export function* kvmppc_vcpu_run(k: KK, vc: KvmppcVcore): Gen {
  const kvm = vc.kvm;
  const n = Math.min(vc.vcpus.filter((v) => !v.done).length, k.m.threadsPerCore); // one vcpu task per vcpu taken
  k.W(kvm.runningObj, E_RUNNING_INC);
  yield;
  kvm.arch.vcpus_running += n;
  k.R(kvm.rmaObj, E_RMA_TEST);
  yield;
  if (!kvm.arch.rma_setup_done) yield* k.kvmppc_hv_setup_htab_rma(kvm);
  yield* k.kvmppc_run_core(vc);
  k.W(kvm.runningObj, E_RUNNING_DEC);
  yield;
  kvm.arch.vcpus_running -= n;
}

/** kvmppc_hv_setup_htab_rma (v3.7): under kvm->lock, unless already done, set up the VRMA and rma_setup_done = 1. */
export function* kvmppc_hv_setup_htab_rma(k: KK, kvm: Kvm): Gen<number> {
  yield* k.kvm_mutex_lock(kvm);
  k.W(kvm.rmaObj, E_SETUP);
  yield;
  // kvmppc_map_vrma's bolted real-mode HPTEs are not modelled (the guest's accesses here are all translated)
  kvm.arch.rma_setup_done = 1;
  yield* k.kvm_mutex_unlock(kvm);
  return 0;
}

/** kvmppc_core_destroy_vm (v3.7): kvmppc_free_hpt frees the HPT and the LPID; no TLB flush anywhere. */
export function* kvmppc_core_destroy_vm(k: KK, kvm: Kvm): Gen {
  const w = kvmWorld(k.m);
  k.W(w.runqObj, E_DESTROY);
  yield;
  kvm.destroyed = true;
  yield* k.kvmppc_free_lpid(kvm.arch.lpid);
}

/** Whether every vcpu of `kvm` has run its guest program to the end (for thread bodies that wait on it). */
export function vmFinished(kvm: Kvm): boolean {
  return kvm.created && kvm.arch.vcores.every((vc) => vc === null || vc.done);
}

export type { KvmVcpu };
