// Fix 003, kvm-local-global: a guest reset. QEMU resets the guest's HPT (KVM_PPC_ALLOCATE_HTAB on an existing
// HPT → kvmppc_alloc_reset_hpt: zero every HPTE, no tlbie) while the cores that ran the guest may still hold its
// translations; the host then reclaims a page whose HPTE the reset wiped (kvm_unmap_rmapp finds no valid HPTE,
// so it sends no tlbie) and frees it. Whatever entry the guest makes next must flush: v3.7 fills last_vcpu[]
// with 0xff, 1b400ba0 sets every need_tlb_flush bit. The reset itself refuses to run while a vcpu is inside
// KVM_RUN (rma_setup_done / vcpus_running, each side behind a full barrier), so no vcpu is in the guest during
// the memset. Threads only: when QEMU resets, when kswapd reclaims, and which core runs the vcore are the
// explorer's. Harm: a guest load through a stale entry to a freed page.

import { int, bool } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import { READ } from "../../sim/machine";
import type { Gen } from "../../sim/machine";
import { event } from "../../sim/event";
import { KvmWorld } from "../../kvm/index";
import type { GuestOp, KK, Kvm } from "../../kvm/index";
import { kvmLocalGlobalOps, kvmLocalGlobalAfter, kvmLocalGlobal2019, bootedVm, GUEST_EA } from "./scenario";
import { kswapd_reclaim } from "./one_vcore";
import * as broken from "./broken";

export const kvmHptResetParams = {
  threads: int(1, 4, 4, "hardware threads per POWER7 core (v3.7's entry check assumes 4)"),
  accesses: int(1, 4, 2, "guest loads of GUEST_EA by vcpu 0, one per guest entry"),
  reuse: bool(false, "whether the host hands the freed page to another tenant at once"),
};

export type KvmHptResetParams = ParamsOf<typeof kvmHptResetParams>;

export const kvmHptReset = defineScenario({
  id: "kvm-hpt-reset",
  fix: "kvm-local-global",
  title: "HV KVM: QEMU resets the guest's HPT while cores may still hold its translations; the host reclaims a page",
  description:
    "A one-vcpu guest loads a page, one entry at a time, on either of two cores. QEMU resets its HPT " +
    "(kvmppc_alloc_reset_hpt, retried while a vcpu is in KVM_RUN) and kswapd reclaims the page.",
  ops: kvmLocalGlobalOps,
  variants: {
    before: {},
    after: kvmLocalGlobalAfter,
    "2019": kvmLocalGlobal2019,
    "no-setall": { ...kvmLocalGlobalAfter, kvmppc_alloc_reset_hpt: broken.kvmppc_alloc_reset_hpt_no_setall },
    "no-busy": { ...kvmLocalGlobalAfter, kvmppc_alloc_reset_hpt: broken.kvmppc_alloc_reset_hpt_no_busy },
  },
  machine: (p) => ({ cpus: 3 * p.threads, threadsPerCore: p.threads }),
  params: kvmHptResetParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 3000 },
  setup(k, m, p) {
    if (p.threads < 2) throw new Error("kvm-hpt-reset needs 2 or more threads per core (qemu and kswapd share core 2)");
    const w = new KvmWorld(m, { frames: 3, tlbEntries: 2 });
    const kvm = bootedVm(w, 1);
    const kk: KK = k;
    const ops: GuestOp[] = [];
    for (let i = 0; i < p.accesses; i++) ops.push({ op: "load", ea: GUEST_EA });
    for (let core = 0; core < 2; core++) m.spawn(core * p.threads, `core${core}`, kk.kvm_host_cpu_run([kvm]));
    m.spawn(2 * p.threads, "qemu", qemu_reset(kk, kvm, [{ id: 0, ops }]));
    m.spawn(2 * p.threads + 1, "kswapd", kswapd_reclaim(kk, w, kvm, p.reuse));
    return {
      observe: () => `tlb=${JSON.stringify(w.mmu.dump())} rets=${kvm.vcpus.map((v) => v.rets.join(",")).join("|")}`,
    };
  },
});

const E_BUSY_WAIT = event("qemu", "KVM_PPC_ALLOCATE_HTAB said -EBUSY: wait for the vcpus to leave KVM_RUN", {
  cost: "none",
});

/** QEMU: create the VM and its vcpu, then (at a guest reset) KVM_PPC_ALLOCATE_HTAB, again after each -EBUSY. */
export function* qemu_reset(k: KK, kvm: Kvm, guests: { id: number; ops: GuestOp[] }[]): Gen {
  yield* k.kvm_create_vm(kvm);
  yield* k.kvm_vm_ioctl_create_vcpus(kvm, guests);
  while ((yield* k.kvmppc_alloc_reset_hpt(kvm)) !== 0) {
    k.wait(kvm.runningObj, READ, E_BUSY_WAIT, () => kvm.arch.vcpus_running === 0);
    yield;
  }
}
