// Host virtual-mode HPT code (arch/powerpc/kvm/book3s_64_mmu_hv.c, v3.7): the MMU-notifier unmap that walks a
// guest page's rmap chain (kvm_unmap_hva → kvm_unmap_rmapp: mark each HPTE absent, global tlbie, unlink, R/C to
// the rmap), and the HDSI handler that maps an absent page again (kvmppc_book3s_hv_page_fault). Plus the
// notifier entry of virt/kvm/kvm_main.c and the one piece of host mm the fault needs (get_user_pages_fast).

import { READ, WRITE } from "../sim/machine";
import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import { GFP_KERNEL } from "../sim/page_alloc";
import type { PageFrame } from "../sim/page_alloc";
import { HPTE_V_VALID, HPTE_R_R, HPTE_R_C, HPTE_R_PP0, U64 } from "../hw/power7";
import {
  HPTE_V_ABSENT,
  HPTE_V_HVLOCK,
  KVMPPC_RMAP_INDEX,
  KVMPPC_RMAP_PRESENT,
  KVMPPC_RMAP_RC_SHIFT,
  hpte_page_size,
  hpte_rpn,
} from "./kvm_book3s_64";
import { add_revmap_chain_locked } from "./book3s_hv_rm_mmu";
import { kvmWorld } from "./kvm_host";
import type { Kvm, KvmVcpu } from "./kvm_host";
import type { KK } from "./kernel";

const E_SEQ_INC = event("kvm_mmu_notifier_invalidate_page", "kvm->mmu_notifier_seq++", { cost: "mem" });
const E_RMAP_HEAD = event("kvm_unmap_rmapp", "chain empty? first HPTE: try_lock_hpte", { cost: "atomic" });
const E_RMAP_DROP = event("kvm_unmap_rmapp", "HPTE busy: unlock rmap", { cost: "mem" });
const E_RMAP_WAITH = event("kvm_unmap_rmapp", "wait for HVLOCK to clear", { cost: "mem" });
const E_RMAP_UNLINK = event("kvm_unmap_rmapp", "unlink; V && rpn == gfn? mark ABSENT", { cost: "mem" });
const E_RMAP_RC = event("kvm_unmap_rmapp", "harvest R/C; unlock rmap; unlock HPTE", { cost: "mem" });
const E_GUP = event("get_user_pages_fast", "read the host PTE of the guest page", { cost: "mem" });
const E_GUP_SET = event("handle_mm_fault", "map the new page in qemu's mm", { cost: "page_fault" });
const E_PF_READ = event("kvmppc_book3s_hv_page_fault", "lock HPTE, read it and guest_rpte, unlock", { cost: "mem" });
const E_PF_SEQ = event("kvmppc_book3s_hv_page_fault", "mmu_seq = kvm->mmu_notifier_seq", { cost: "mem" });
const E_PF_CHECK = event("kvmppc_book3s_hv_page_fault", "HPTE changed under us? retry", { cost: "mem" });
const E_PF_SET = event("kvmppc_book3s_hv_page_fault", "mmu_notifier_retry? link rmap, unlock rmap", { cost: "mem" });
const E_PF_WRITE = event("kvmppc_book3s_hv_page_fault", "hptep[1] = r; eieio; hptep[0] = valid (unlock)", {
  cost: "hpte_insert",
});

/** kvm_mmu_notifier_invalidate_page (virt/kvm/kvm_main.c, v3.7): bump the sequence, unmap the page from the guest. */
export function* kvm_mmu_notifier_invalidate_page(k: KK, kvm: Kvm, gfn: number): Gen {
  k.W(kvm.mmuSeqObj, E_SEQ_INC); // under kvm->mmu_lock, which nothing else modelled here takes
  yield;
  kvm.mmu_notifier_seq++;
  yield* k.kvm_unmap_hva(kvm, gfn);
}

/** kvm_unmap_hva → kvm_handle_hva (only with MMU notifiers): the memslot page behind the host address, then kvm_unmap_rmapp. */
export function* kvm_unmap_hva(k: KK, kvm: Kvm, gfn: number): Gen<number> {
  if (!kvm.arch.using_mmu_notifiers) return 0; // PPC970: guest memory is pinned, the HPTEs stay
  const s = kvm.memslot;
  if (gfn < s.base_gfn || gfn >= s.base_gfn + s.npages) return 0;
  return yield* k.kvm_unmap_rmapp(kvm, gfn);
}

/**
 * kvm_unmap_rmapp: for every HPTE on gfn's chain, lock it (dropping the rmap lock to wait if it is busy), unlink
 * it, and if it still maps gfn mark it absent and invalidate it with a global tlbie; harvest R/C into the rmap.
 */
export function* kvm_unmap_rmapp(k: KK, kvm: Kvm, gfn: number): Gen<number> {
  const s = kvm.memslot;
  const ri = gfn - s.base_gfn;
  const hpt = kvm.arch.hpt;
  for (;;) {
    yield* k.lock_rmap(kvm, gfn);
    const present = (s.rmap[ri] & KVMPPC_RMAP_PRESENT) !== 0n;
    if (!present) {
      yield* k.unlock_rmap(kvm, gfn);
      break;
    }
    const i = Number(s.rmap[ri] & KVMPPC_RMAP_INDEX);
    k.multi([hpt.obj(i), WRITE, s.rmapObj + ri, READ], E_RMAP_HEAD);
    yield;
    const v0 = hpt.get0(i);
    if ((v0 & HPTE_V_HVLOCK) !== 0n) {
      // unlock rmap before spinning on the HPTE lock
      k.W(s.rmapObj + ri, E_RMAP_DROP);
      yield;
      s.rmap[ri] &= ~(1n << 63n);
      k.wait(hpt.obj(i), READ, E_RMAP_WAITH, () => (hpt.get0(i) & HPTE_V_HVLOCK) === 0n);
      yield;
      continue;
    }
    hpt.set0(i, v0 | HPTE_V_HVLOCK);
    k.multi([s.rmapObj + ri, WRITE, hpt.obj(i), WRITE], E_RMAP_UNLINK);
    yield;
    const rev = kvm.rev(i);
    const j = rev.forw;
    if (j === i) {
      s.rmap[ri] &= ~(KVMPPC_RMAP_PRESENT | KVMPPC_RMAP_INDEX); // chain is now empty
    } else {
      const next = kvm.rev(j);
      const prev = kvm.rev(rev.back);
      next.back = rev.back;
      prev.forw = j;
      s.rmap[ri] = (s.rmap[ri] & ~KVMPPC_RMAP_INDEX) | BigInt(j);
    }
    const ptel = rev.guest_rpte;
    const psize = hpte_page_size(hpt.get0(i), ptel);
    const maps = (hpt.get0(i) & HPTE_V_VALID) !== 0n && hpte_rpn(ptel, psize) === BigInt(gfn);
    if (maps) {
      hpt.set0(i, hpt.get0(i) | HPTE_V_ABSENT);
      yield* k.kvmppc_invalidate_hpte(kvm, i);
    }
    k.multi([s.rmapObj + ri, WRITE, hpt.obj(i), WRITE], E_RMAP_RC);
    yield;
    if (maps) {
      const rcbits = hpt.get1(i) & (HPTE_R_R | HPTE_R_C);
      s.rmap[ri] |= rcbits << KVMPPC_RMAP_RC_SHIFT;
      rev.guest_rpte = ptel | rcbits;
    }
    s.rmap[ri] &= ~(1n << 63n); // unlock_rmap
    hpt.set0(i, hpt.get0(i) & ~HPTE_V_HVLOCK);
  }
  return 0;
}

/** get_user_pages_fast on the guest page's host address: the backing page, faulting a new one in if reclaimed. */
export function* get_user_pages_fast(k: KK, kvm: Kvm, gfn: number): Gen<PageFrame | null> {
  const s = kvm.memslot;
  const ri = gfn - s.base_gfn;
  k.R(s.hostPteObj + ri, E_GUP);
  yield;
  const f = s.hostPte[ri];
  if (f !== null) return f;
  const nf = yield* k.alloc_page(kvmWorld(k.m).pa, GFP_KERNEL, `vm${kvm.id} gfn ${gfn}`);
  if (nf === null) return null;
  k.W(s.hostPteObj + ri, E_GUP_SET);
  yield;
  if (s.hostPte[ri] !== null) {
    kvmWorld(k.m).pa.give(nf); // raced with another fault: use the page already there
    return s.hostPte[ri];
  }
  s.hostPte[ri] = nf;
  return nf;
}

/**
 * kvmppc_book3s_hv_page_fault (v3.7): the guest touched an absent HPTE. Re-read it under its lock (retry if it
 * changed since the real-mode check), get the host page, then under the HPTE and rmap locks, unless an MMU
 * notifier ran meanwhile (mmu_notifier_retry), point the HPTE at the page, link it on the chain and make it valid.
 * Returns RESUME_GUEST (0): the guest retries the access either way.
 */
export function* kvmppc_book3s_hv_page_fault(k: KK, vcpu: KvmVcpu): Gen<number> {
  const kvm = vcpu.kvm;
  const hpt = kvm.arch.hpt;
  const index = vcpu.arch.pgfault_index;
  const rev = kvm.rev(index);
  yield* k.try_lock_hpte_spin(kvm, index);
  k.W(hpt.obj(index), E_PF_READ);
  yield;
  const h0 = hpt.get0(index) & ~HPTE_V_HVLOCK;
  const h1 = hpt.get1(index);
  const h2 = rev.guest_rpte;
  hpt.set0(index, h0); // lwsync; unlock
  if (h0 !== vcpu.arch.pgfault_hpte[0] || h1 !== vcpu.arch.pgfault_hpte[1]) return 0;
  const psize = hpte_page_size(h0, h2);
  const gfn = Number(hpte_rpn(h2, psize));
  const s = kvm.memslot;
  if (gfn < s.base_gfn || gfn >= s.base_gfn + s.npages) return 0; // MMIO emulation: not modelled
  k.R(kvm.mmuSeqObj, E_PF_SEQ);
  yield;
  const mmu_seq = kvm.mmu_notifier_seq; // smp_rmb()
  const page = yield* k.get_user_pages_fast(kvm, gfn);
  if (page === null) return 0;
  const gen = page.gen;
  let r = U64((h2 & ~(HPTE_R_PP0 - psize)) | (BigInt(page.pfn) << 12n));
  yield* k.try_lock_hpte_spin(kvm, index);
  k.W(hpt.obj(index), E_PF_CHECK);
  yield;
  if ((hpt.get0(index) & ~HPTE_V_HVLOCK) !== h0 || hpt.get1(index) !== h1 || rev.guest_rpte !== h2) {
    hpt.set0(index, hpt.get0(index) & ~HPTE_V_HVLOCK); // HPTE changed under us: let the guest retry
    return 0;
  }
  const newv = (h0 & ~HPTE_V_ABSENT) | HPTE_V_VALID;
  yield* k.lock_rmap(kvm, gfn);
  const ri = gfn - s.base_gfn;
  k.multi([s.rmapObj + ri, WRITE, kvm.mmuSeqObj, READ, hpt.obj(index), WRITE], E_PF_SET);
  yield;
  if (kvm.mmu_notifier_seq !== mmu_seq) {
    s.rmap[ri] &= ~(1n << 63n);
    hpt.set0(index, hpt.get0(index) & ~HPTE_V_HVLOCK);
    return 0;
  }
  const rcbits = s.rmap[ri] >> KVMPPC_RMAP_RC_SHIFT; // only set R/C in the real HPTE if set in *rmap
  r &= rcbits | ~(HPTE_R_R | HPTE_R_C);
  // (the "HPTE was previously valid" branch needs the HPTE valid here; it is absent on this path)
  add_revmap_chain_locked(kvm, rev, ri, index);
  k.W(hpt.obj(index), E_PF_WRITE);
  yield;
  hpt.set1(index, r);
  hpt.gen.set(index, gen);
  hpt.set0(index, newv);
  return 0;
}

const hptPairs = new WeakMap<Kvm, number[]>();

/** [obj, WRITE] for every HPTE of the VM's HPT: what the reset's memset of the whole table touches. */
export function whole_hpt(kvm: Kvm): number[] {
  let p = hptPairs.get(kvm);
  if (p === undefined) {
    p = [];
    for (let i = 0; i < kvm.arch.hpt_npte; i++) p.push(kvm.arch.hpt.obj(i), WRITE);
    hptPairs.set(kvm, p);
  }
  return p;
}

/** memset(kvm->arch.hpt_virt, 0, 1ul << order): every HPTE invalid, HVLOCK bits included (inside a step). */
export function memset_hpt(kvm: Kvm): void {
  const hpt = kvm.arch.hpt;
  hpt.v.clear();
  hpt.r.clear();
  hpt.gen.clear();
}
