// The kernel type seen by HV KVM code: the runtime's primitives, the KVM ops every era shares
// (lib/kvm/index.ts), and the functions whose version depends on the era (fix 003's folder supplies them).

import type { Gen } from "../sim/machine";
import type { KernelBase, Bound } from "../sim/kernel";
import type { kvmOps } from "./index";
import type { GuestOp, Kvm, KvmVcpu } from "./kvm_host";

/** Functions 1b400ba0 changes or adds: the base calls them through `k`; each scenario installs an era's. */
export interface KvmEraOps {
  kvmppc_h_remove(vcpu: KvmVcpu, flags: bigint, pte_index: number, avpn: bigint): Gen<number>;
  kvmppc_h_protect(vcpu: KvmVcpu, flags: bigint, pte_index: number, avpn: bigint): Gen<number>;
  kvmppc_hv_entry(vcpu: KvmVcpu): Gen<boolean>;
  kvmppc_core_init_vm(kvm: Kvm): Gen<number>;
  kvmppc_core_vcpu_create(kvm: Kvm, id: number, ops: GuestOp[]): Gen<KvmVcpu | null>;
  kvmppc_alloc_reset_hpt(kvm: Kvm): Gen<number>;
  global_invalidates(kvm: Kvm, flags: bigint): Gen<boolean>;
  kvmppc_check_need_tlb_flush(kvm: Kvm, pcpu: number): Gen;
}

export interface KK extends KernelBase, Bound<typeof kvmOps>, KvmEraOps {}
