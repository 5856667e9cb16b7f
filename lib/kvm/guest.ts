// The guest (not kernel code): each vcpu's guest kernel is a list of operations, one executed per guest entry —
// a load or store through the MMU (an HDSI goes to kvmppc_hpte_hv_fault in real mode, and to the host's page
// fault handler on exit; the access is retried on the next entry), or a real-mode hcall with the arguments the
// guest chose. A guest is not trusted: nothing stops it using H_LOCAL or touching a page it removed.

import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import { GUEST_OK, GUEST_HDSI_NOHPTE, guest_vpn } from "../hw/power7";
import { BOOK3S_INTERRUPT_H_DATA_STORAGE, kvmWorld } from "./kvm_host";
import type { KvmVcpu } from "./kvm_host";
import type { KK } from "./kernel";

/** The VSID of the guest kernel's segment (from its SLB); every guest in the model uses the same one. */
export const GUEST_VSID = 0x2a5;

const E_HCALL = event("guest_run", "sc 1: into the real-mode hcall handler (and hrfid back)", {
  cost: "hcall",
  counter: "hcalls",
});

/** Run the vcpu's next guest operation; advances its program unless the access must be retried. */
export function* guest_run(k: KK, vcpu: KvmVcpu): Gen {
  const op = vcpu.ops[vcpu.pc];
  if (op === undefined) return;
  if (op.op !== "load" && op.op !== "store") {
    k.local(E_HCALL); // the round trip's cost in timed mode; touches nothing shared
    yield;
  }
  switch (op.op) {
    case "load":
    case "store": {
      const w = kvmWorld(k.m);
      const st = yield* w.mmu.access(k, vcpu.kvm.partition, guest_vpn(GUEST_VSID, op.ea), op.ea, op.op === "store");
      if (st === GUEST_OK) break;
      const r = yield* k.kvmppc_hpte_hv_fault(vcpu, GUEST_VSID, op.ea, st);
      if (r === -1) {
        vcpu.arch.trap = BOOK3S_INTERRUPT_H_DATA_STORAGE; // to the host; the access is retried
        return;
      }
      if (r === 0) return; // retry
      k.count(st === GUEST_HDSI_NOHPTE ? "guest DSIs" : "guest protection faults");
      break; // reflected to the guest as a DSI: its own fault handler's business
    }
    case "h_remove":
      vcpu.rets.push(yield* k.kvmppc_h_remove(vcpu, op.flags, op.pte_index, op.avpn));
      break;
    case "h_bulk_remove":
      for (let i = 0; i < 8; i++) vcpu.arch.gpr[4 + i] = op.args[i] ?? (i % 2 === 0 ? 0xc0n << 56n : 0n); // req 3: end of list
      vcpu.rets.push(yield* k.kvmppc_h_bulk_remove(vcpu));
      break;
    case "h_protect":
      vcpu.rets.push(yield* k.kvmppc_h_protect(vcpu, op.flags, op.pte_index, op.avpn));
      break;
    case "h_enter":
      vcpu.rets.push(yield* k.kvmppc_h_enter(vcpu, op.flags, op.pte_index, op.pteh, op.ptel));
      break;
  }
  vcpu.pc++;
}
