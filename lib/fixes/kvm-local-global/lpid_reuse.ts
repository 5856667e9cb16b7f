// Fix 003, kvm-local-global: LPID reuse. A VM runs on a core (its translations stay in that core's TLB, tagged
// with its LPID), is destroyed (kvmppc_core_destroy_vm frees the LPID, no flush), and the next VM created gets
// the same LPID (kvmppc_alloc_lpid takes the lowest free one) and runs on either core. Harm: the new VM's access
// hits an entry the old VM filled. 1b400ba0 sets every need_tlb_flush bit at creation for exactly this; v3.7
// flushed anyway, because a new vcpu's last_cpu is -1 and its first entry on any thread looks like a move.
// Threads only: placement and the order of entries are the explorer's.

import { int } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import { READ } from "../../sim/machine";
import type { Gen } from "../../sim/machine";
import { event } from "../../sim/event";
import { KvmWorld, VCORE_INACTIVE, vmFinished } from "../../kvm/index";
import type { GuestOp, KK, Kvm } from "../../kvm/index";
import { kvmLocalGlobalOps, kvmLocalGlobalAfter, kvmLocalGlobal2019, bootedVm, GUEST_EA } from "./scenario";
import { spawnGuestCores } from "./one_vcore";
import * as broken from "./broken";

export const kvmLpidReuseParams = {
  threads: int(1, 4, 4, "hardware threads per POWER7 core"),
  accesses: int(1, 4, 1, "guest loads of GUEST_EA by the second VM's vcpu"),
};

export type KvmLpidReuseParams = ParamsOf<typeof kvmLpidReuseParams>;

export const kvmLpidReuse = defineScenario({
  id: "kvm-lpid-reuse",
  fix: "kvm-local-global",
  title: "HV KVM: a VM is destroyed and the next one gets its LPID on the cores that ran it",
  description:
    "qemu creates VM 1 (one vcpu that loads a page), waits for it to finish, destroys it, and creates VM 2, which " +
    "gets the same LPID and loads the same effective address; two cores may pick either vcore up.",
  ops: kvmLocalGlobalOps,
  variants: {
    before: {},
    after: kvmLocalGlobalAfter,
    "2019": kvmLocalGlobal2019,
    "no-init-setall": { ...kvmLocalGlobalAfter, kvmppc_core_init_vm: broken.kvmppc_core_init_vm_no_setall },
  },
  machine: (p) => ({ cpus: 3 * p.threads, threadsPerCore: p.threads }),
  params: kvmLpidReuseParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 3000 },
  setup(k, m, p) {
    const w = new KvmWorld(m, { frames: 3, tlbEntries: 2 });
    const vm1 = bootedVm(w, 1);
    const vm2 = bootedVm(w, 2);
    const kk: KK = k;
    const load: GuestOp = { op: "load", ea: GUEST_EA };
    const second: GuestOp[] = [];
    for (let i = 0; i < p.accesses; i++) second.push(load);
    spawnGuestCores(kk, m, p.threads, 0, [vm1, vm2]);
    m.spawn(2 * p.threads, "qemu", qemu_two_vms(kk, w, vm1, [{ id: 0, ops: [load] }], vm2, [{ id: 0, ops: second }]));
    return { observe: () => `lpids=${vm1.arch.lpid},${vm2.arch.lpid} tlb=${JSON.stringify(w.mmu.dump())}` };
  },
});

const E_WAIT_DONE = event("kvm_vm_release", "qemu exits once VM 1's vcpus are done and out of the guest", {
  cost: "none",
});

/** qemu: run VM 1 to completion, destroy it, then create VM 2 (which reuses the LPID). */
export function* qemu_two_vms(
  k: KK,
  w: KvmWorld,
  vm1: Kvm,
  g1: { id: number; ops: GuestOp[] }[],
  vm2: Kvm,
  g2: { id: number; ops: GuestOp[] }[],
): Gen {
  yield* k.kvm_create_vm(vm1);
  yield* k.kvm_vm_ioctl_create_vcpus(vm1, g1);
  k.wait(
    w.runqObj,
    READ,
    E_WAIT_DONE,
    () => vmFinished(vm1) && vm1.arch.vcores.every((vc) => vc === null || vc.vcore_state === VCORE_INACTIVE),
  );
  yield;
  yield* k.kvmppc_core_destroy_vm(vm1);
  yield* k.kvm_create_vm(vm2);
  yield* k.kvm_vm_ioctl_create_vcpus(vm2, g2);
}
