// Fix 003, kvm-local-global: the using_mmu_notifiers == 0 branch (PPC970). There the TLB is not LPID-tagged, so
// every guest entry invalidates it whole, and guest memory is pinned (kvmppc_get_guest_page keeps a
// get_user_pages reference in slot_phys[] until the VM is destroyed): kvm_unmap_hva does nothing and reclaim
// cannot free a page the guest may reach. So both eras honour H_LOCAL (v3.7 always; 1b400ba0's
// global_invalidates in its last branch). The scenario is kvm-local-global's on a PPC970: two vcores on two
// cores, vcpu 0 removes the page's HPTE with H_LOCAL while vcpu 1 loads it, kswapd reclaims it. `pinned=false`
// drops KVM's reference (no kernel did): a what-if that shows the pin is what makes the branch safe.

import { int, bool } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import { KvmWorld, H_LOCAL, H_AVPN } from "../../kvm/index";
import type { GuestOp, KK } from "../../kvm/index";
import {
  kvmLocalGlobalOps,
  kvmLocalGlobalAfter,
  bootedVm,
  guestPteIndex,
  GUEST_EA,
  GUEST_GFN,
  GUEST_AVPN,
} from "./scenario";
import { qemu_create, kswapd_reclaim } from "./one_vcore";

export const kvmPinnedParams = {
  accesses: int(1, 4, 2, "guest loads of GUEST_EA by vcpu 1, one per guest entry"),
  pinned: bool(true, "whether KVM holds its slot_phys[] reference (every kernel does; false is a what-if)"),
  reuse: bool(false, "whether the host hands a freed page to another tenant at once"),
};

export type KvmPinnedParams = ParamsOf<typeof kvmPinnedParams>;

export const kvmPinned = defineScenario({
  id: "kvm-pinned",
  fix: "kvm-local-global",
  title: "HV KVM on PPC970 (no MMU notifiers, pinned memory): H_LOCAL is honoured, and safe",
  description:
    "A two-vcore guest on two PPC970 cores (one thread each). vcpu 0 removes a page's HPTE with H_LOCAL (a " +
    "tlbiel in both eras) while vcpu 1 loads the page; kswapd tries to reclaim it.",
  ops: kvmLocalGlobalOps,
  variants: { before: {}, after: kvmLocalGlobalAfter },
  machine: { cpus: 4, threadsPerCore: 1 },
  params: kvmPinnedParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 3000 },
  setup(k, m, p) {
    const w = new KvmWorld(m, { frames: 3, tlbEntries: 2, ppc970: true });
    const kvm = bootedVm(w, 1);
    kvm.arch.using_mmu_notifiers = 0; // kvmppc_core_init_vm: !!cpu_has_feature(CPU_FTR_ARCH_206), 0 on a PPC970
    if (p.pinned) kvm.memslot.slot_phys[GUEST_GFN] = kvm.memslot.hostPte[GUEST_GFN]; // pinned by the boot H_ENTER
    const kk: KK = k;
    const reader: GuestOp[] = [];
    for (let i = 0; i < p.accesses; i++) reader.push({ op: "load", ea: GUEST_EA });
    const guests = [
      { id: 0, ops: [{ op: "h_remove", flags: H_LOCAL | H_AVPN, pte_index: guestPteIndex(kvm), avpn: GUEST_AVPN }] },
      { id: 1, ops: reader }, // threads_per_core 1: vcpu 1 is vcore 1
    ] satisfies { id: number; ops: GuestOp[] }[];
    m.spawn(0, "core0", kk.kvm_host_cpu([kvm]));
    m.spawn(1, "core1", kk.kvm_host_cpu([kvm]));
    m.spawn(2, "qemu", qemu_create(kk, kvm, guests));
    m.spawn(3, "kswapd", kswapd_reclaim(kk, w, kvm, p.reuse));
    return {
      observe: () => `tlb=${JSON.stringify(w.mmu.dump())} rets=${kvm.vcpus.map((v) => v.rets.join(",")).join("|")}`,
    };
  },
});
