// POWER7 HV KVM's threading, as far as it protects a real-mode walk (arch/powerpc/kvm/book3s_hv_rmhandlers.S and
// book3s_hv.c, v4.0/v4.1, recalled, not read): while a vcore runs, the host's secondary threads of that core are
// offline (POWER7 KVM needs the host at SMT=1), so cpu_online_mask holds only the core's primary thread and a
// kick_all_cpus_sync reaches the primary alone. An interrupt for the primary while it is in the guest makes it
// leave the guest, and on the way out the primary waits until every thread of the vcore has left the guest too
// ("primary thread waits for all the secondaries to exit guest"); a secondary in a real-mode hcall (MSR_EE = 0)
// finishes the hcall before it sees the exit request. Only then does the primary return to the host and take the
// IPI. So a real-mode H_ENTER on a secondary thread is over before the IPI's sender can go on: that is why real
// mode needs no local_irq_save, and it is what this file models.

import type { Gen, Machine } from "../../sim/machine";
import { READ } from "../../sim/machine";
import { event } from "../../sim/event";
import { hard_irq_entry, hard_irq_return } from "./era";
import type { TK } from "./era";
import type { KvmVcpu } from "../../kvm/index";

/** The vcore's threads as the exit protocol sees them (one object: VCORE_ENTRY_EXIT's bytes). */
export interface VcoreThreads {
  readonly obj: number;
  /** Threads in the guest (entry count minus exit count), primary included. */
  in_guest: number;
  /** The primary has entered the guest and started the secondaries (kvmppc_run_core → kvmppc_start_thread). */
  running: boolean;
  /** The primary has started the exit (an interrupt for it, or its guest is done): secondaries must leave. */
  exiting: boolean;
}

/** The vcore's exit state; `threads` (the scenario's setup) is how many threads entered the guest together. */
export function vcoreThreads(m: Machine, threads = 0): VcoreThreads {
  let v = m.ext.thpVcore as VcoreThreads | undefined;
  if (v === undefined)
    m.ext.thpVcore = v = { obj: m.newObj("vcore.entry_exit_count"), in_guest: threads, running: false, exiting: false };
  return v;
}

const E_START = event("kvmppc_run_core", "primary: EE off, enter the guest, start the secondary threads", {
  cost: "mem",
});
const E_SEC_START = event("kvm_start_guest", "secondary thread: nap until the primary starts the vcore", {
  cost: "none",
});
const E_IN_GUEST = event("kvmppc_hv_entry", "primary in the guest until an interrupt for it (or the guest is done)", {
  cost: "none",
});
const E_WAIT_EXIT = event("guest_exit_cont", "primary: wait for all the secondaries to exit guest", { cost: "none" });
const E_SEC_EXIT = event("hcall_try_real_mode", "hcall done; exit requested: leave the guest (exit count++)", {
  cost: "mem",
});

/**
 * The primary thread: in the guest with the vcore's other threads (MSR_EE = 0 as far as the host is concerned);
 * leaves when an interrupt for it is pending or every secondary's guest work is done; then guest_exit_cont waits
 * for the secondaries, and the return to the host turns MSR_EE on (the latched IPI runs then).
 */
export function* kvmppc_vcore_primary(k: TK): Gen {
  const v = vcoreThreads(k.m);
  const cpu = k.cpu();
  yield* hard_irq_entry(k);
  k.W(v.obj, E_START);
  yield;
  v.running = true;
  k.wait(k.m.ipiqObj[cpu], READ, E_IN_GUEST, () => k.m.pendingIpis(cpu) > 0 || v.in_guest === 1, v.obj);
  yield;
  v.exiting = true;
  yield* k.guest_exit_cont(v);
  v.in_guest--;
  yield* hard_irq_return(k);
}

/** guest_exit_cont (book3s_hv_rmhandlers.S): the primary waits until the secondaries' exit count catches up. */
export function* guest_exit_cont(k: TK, v: VcoreThreads): Gen {
  k.wait(v.obj, READ, E_WAIT_EXIT, () => v.in_guest === 1);
  yield;
}

/**
 * A secondary thread's guest H_ENTER (its CPU offline to the host): the hcall runs in real mode with MSR_EE = 0
 * via hcall_try_real_mode → kvmppc_h_enter (kvmppc_do_h_enter, realmode); back on the way into the guest it sees
 * the exit request (or its guest is done), leaves the guest and naps (offline: no host interrupt reaches it).
 */
export function* hcall_try_real_mode(
  k: TK,
  vcpu: KvmVcpu,
  flags: bigint,
  pte_index: number,
  pteh: bigint,
  ptel: bigint,
): Gen<number> {
  const v = vcoreThreads(k.m);
  k.wait(v.obj, READ, E_SEC_START, () => v.running); // napping until the primary starts the vcore
  yield;
  yield* hard_irq_entry(k);
  const ret = yield* k.kvmppc_h_enter(vcpu, flags, pte_index, pteh, ptel);
  k.W(v.obj, E_SEC_EXIT);
  yield;
  v.in_guest--;
  yield* hard_irq_return(k); // napping, offline: nothing is sent to it
  return ret;
}
