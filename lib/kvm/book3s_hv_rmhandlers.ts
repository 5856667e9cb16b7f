// Guest entry and exit on POWER7 (arch/powerpc/kvm/book3s_hv_rmhandlers.S, v3.7), modelled as functions. The
// pieces every era shares are here; kvmppc_hv_entry itself, whose TLB-flush check 1b400ba0 rewrote, is in
// lib/fixes/kvm-local-global/{before,after,later}.ts and is built from these pieces.

import { READ, WRITE } from "../sim/machine";
import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import { HOST_LPID, POWER7_TLB_SETS } from "../hw/power7";
import { kvmWorld, LPID_RSVD } from "./kvm_host";
import type { KvmVcpu } from "./kvm_host";
import type { KK } from "./kernel";

const E_ENTRY_COUNT = event("kvmppc_hv_entry", "lwarx/stwcx.: entry count++ iff no thread is exiting", {
  cost: "atomic",
});
const E_SWITCH = event("kvmppc_hv_entry", "LPID = LPID_RSVD; ptesync; SDR1 = kvm->arch.sdr1; LPID = kvm->arch.lpid", {
  cost: "ptesync",
});
const E_IN_GUEST = event("kvmppc_hv_entry", "vcore->in_guest = 1: secondaries continue", { cost: "mem" });
const E_WAIT_PRIMARY = event("kvmppc_hv_entry", "secondary: wait for the primary's partition switch", { cost: "mem" });
const E_FLUSH = event("kvmppc_hv_entry", "ptesync; 128 × tlbiel IS=0b10 (flush this LPID on this core); ptesync", {
  cost: "lpid_flush",
  counter: "full-LPID flushes",
});
const E_970_FLUSH = event(
  "kvmppc_hv_entry",
  "PPC970: native_tlbie_lock; HID4 = reserved LPID; drop it; 256 × tlbiel (the whole TLB); ptesync",
  { cost: "lpid_flush", counter: "full-LPID flushes" },
);
const E_970_SWITCH = event("kvmppc_hv_entry", "PPC970: take kvm->arch.tlbie_lock; SDR1; HID4 = guest LPID; drop it", {
  cost: "ptesync",
});
const E_970_EXIT = event("kvmppc_interrupt", "PPC970: back to the host partition (HID4, SDR1)", { cost: "ptesync" });
const E_EXIT_COUNT = event("kvmppc_interrupt", "exit count++ (entry_exit_count += 0x100)", { cost: "atomic" });
const E_EXIT_WAIT = event("kvmppc_interrupt", "primary: wait for every thread to exit", { cost: "mem" });
const E_EXIT_SWITCH = event("kvmppc_interrupt", "LPID = host LPID; SDR1 = host; in_guest = 0", { cost: "ptesync" });

/** Increment the vcore's entry count unless exits have started (then: secondary_too_late, false). */
export function* kvmppc_hv_entry_count(k: KK, vcpu: KvmVcpu): Gen<boolean> {
  const vc = vcpu.arch.vcore;
  k.W(vc.obj, E_ENTRY_COUNT);
  yield;
  if (vc.entry_exit_count >= 0x100) return false;
  vc.entry_exit_count++;
  return true;
}

/** The primary thread's switch to the guest partition: this core's LPIDR and SDR1. */
export function* kvmppc_partition_switch(k: KK, vcpu: KvmVcpu): Gen {
  const w = kvmWorld(k.m);
  const core = k.m.coreOf(k.cpu());
  k.W(w.mmu.lpidrBase + core, E_SWITCH);
  yield;
  w.mmu.sdr1[core] = vcpu.kvm.partition;
  w.mmu.lpidr[core] = vcpu.kvm.arch.lpid;
}

/** Primary: vcore->in_guest = 1; secondary: spin until it is. */
export function* kvmppc_in_guest(k: KK, vcpu: KvmVcpu): Gen {
  const vc = vcpu.arch.vcore;
  if (vcpu.arch.ptid === 0) {
    k.W(vc.obj, E_IN_GUEST);
    yield;
    vc.in_guest = 1;
  } else {
    k.wait(vc.obj, READ, E_WAIT_PRIMARY, () => vc.in_guest !== 0);
    yield;
  }
}

/** The entry code's full flush: POWER7_TLB_SETS tlbiels with IS = 0b10, RB = 0x800 + set << 12 (one step). */
export function* kvmppc_flush_lpid_tlb(k: KK): Gen {
  const w = kvmWorld(k.m);
  const core = k.m.coreOf(k.cpu());
  k.W(w.mmu.tlb.obj(core), E_FLUSH);
  yield;
  w.mmu.flushLpid(core);
  k.count("tlbiel", POWER7_TLB_SETS);
  k.count(`full-LPID flushes on core ${core}`);
}

/**
 * The PPC970 host → guest switch of kvmppc_hv_entry (label 30, every era here): the TLB is not LPID-tagged, so
 * it is invalidated whole on every entry, under the host's tlbie lock; the partition is loaded under the
 * guest's. One thread per core: no entry count, no secondaries.
 */
export function* kvmppc_hv_entry_970(k: KK, vcpu: KvmVcpu): Gen<boolean> {
  const w = kvmWorld(k.m);
  const kvm = vcpu.kvm;
  const core = k.m.coreOf(k.cpu());
  k.multi([w.mmu.tlb.obj(core), WRITE, w.mmu.lpidrBase + core, WRITE], E_970_FLUSH);
  yield;
  w.mmu.lpidr[core] = LPID_RSVD;
  w.mmu.tlb.invalidateWhere(core, () => true);
  k.count("tlbiel", 256);
  k.count(`full-LPID flushes on core ${core}`);
  k.wait(kvm.tlbieLockObj, WRITE, E_970_SWITCH, () => kvm.arch.tlbie_lock === 0, w.mmu.lpidrBase + core, WRITE);
  yield;
  w.mmu.sdr1[core] = kvm.partition;
  w.mmu.lpidr[core] = kvm.arch.lpid;
  return true;
}

/**
 * kvmppc_interrupt → the exit path: count this thread out; the primary waits for every thread that entered,
 * then switches the core back to the host partition.
 */
export function* kvmppc_interrupt(k: KK, vcpu: KvmVcpu): Gen {
  const w = kvmWorld(k.m);
  const vc = vcpu.arch.vcore;
  if (w.ppc970) {
    // its whole-TLB flush on the way out is not modelled: entries stay until the next entry's (never fewer)
    const core = k.m.coreOf(k.cpu());
    k.W(w.mmu.lpidrBase + core, E_970_EXIT);
    yield;
    w.mmu.lpidr[core] = HOST_LPID;
    w.mmu.sdr1[core] = null;
    return;
  }
  k.W(vc.obj, E_EXIT_COUNT);
  yield;
  vc.entry_exit_count += 0x100;
  if (vcpu.arch.ptid !== 0) return;
  k.wait(vc.obj, READ, E_EXIT_WAIT, () => vc.entry_exit_count >> 8 === (vc.entry_exit_count & 0xff));
  yield;
  const core = k.m.coreOf(k.cpu());
  k.multi([w.mmu.lpidrBase + core, WRITE, vc.obj, WRITE], E_EXIT_SWITCH);
  yield;
  w.mmu.lpidr[core] = HOST_LPID;
  w.mmu.sdr1[core] = null;
  vc.in_guest = 0;
}
