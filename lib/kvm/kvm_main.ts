// Generic KVM VM and vcpu creation (virt/kvm/kvm_main.c, v3.7): KVM_CREATE_VM calls the arch's init
// (kvmppc_core_init_vm: the LPID), KVM_CREATE_VCPU the arch's vcpu create, then counts the vcpu online.

import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import { kvmWorld } from "./kvm_host";
import type { GuestOp, Kvm } from "./kvm_host";
import type { KK } from "./kernel";

const E_ONLINE = event("kvm_vm_ioctl_create_vcpu", "atomic_inc(&kvm->online_vcpus)", { cost: "atomic" });
const E_CREATED = event("kvm_vm_ioctl_create_vcpu", "the VM is ready to run (qemu starts the vcpu threads)", {
  cost: "mem",
});

/** KVM_CREATE_VM: kvm_arch_init_vm → kvmppc_core_init_vm. */
export function* kvm_create_vm(k: KK, kvm: Kvm): Gen<number> {
  return yield* k.kvmppc_core_init_vm(kvm);
}

/** KVM_CREATE_VCPU for each guest (its vcpu id and program), then mark the VM runnable. */
export function* kvm_vm_ioctl_create_vcpus(k: KK, kvm: Kvm, guests: { id: number; ops: GuestOp[] }[]): Gen {
  for (const g of guests) {
    yield* k.kvmppc_core_vcpu_create(kvm, g.id, g.ops);
    k.W(kvm.onlineObj, E_ONLINE);
    yield;
    kvm.online_vcpus++;
  }
  k.W(kvmWorld(k.m).runqObj, E_CREATED);
  yield;
  kvm.created = true;
}
