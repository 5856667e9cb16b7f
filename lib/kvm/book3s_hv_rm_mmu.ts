// The real-mode HPT hcalls and helpers that 1b400ba0 leaves alone (arch/powerpc/kvm/book3s_hv_rm_mmu.c, v3.7
// with v3.8's kvmppc_do_h_enter split): the rmap chain, H_ENTER, H_BULK_REMOVE, the invalidation used by the
// MMU notifiers, and the HDSI check. kvmppc_h_remove and kvmppc_h_protect, which the fix changes, are in
// lib/fixes/kvm-local-global/{before,after}.ts. H_BULK_REMOVE keeps v3.7's rule (tlbiel iff one online vcpu)
// in the v3.8 file read for this model; later kernels switch it to global_invalidates (later.ts of the fix).

import { READ, WRITE } from "../sim/machine";
import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import {
  HPTE_V_VALID,
  HPTE_R_R,
  HPTE_R_C,
  HPTE_R_RPN,
  HPTE_R_KEY_HI,
  HPTE_R_KEY_LO,
  HPTE_R_PP0,
  GUEST_HDSI_NOHPTE,
  guest_vpn,
  hpte_encode_avpn,
  HPTES_PER_GROUP,
  U64,
} from "../hw/power7";
import { H_SUCCESS, H_PARAMETER, H_PTEG_FULL, H_TOO_HARD, H_EXACT } from "./hvcall";
import {
  HPTE_V_ABSENT,
  HPTE_V_HVLOCK,
  KVMPPC_RMAP_INDEX,
  KVMPPC_RMAP_PRESENT,
  KVMPPC_RMAP_RC_SHIFT,
  compute_tlbie_rb,
  hpte_page_size,
  hpte_rpn,
} from "./kvm_book3s_64";
import { kvmWorld } from "./kvm_host";
import type { Kvm, KvmVcpu, RevmapEntry } from "./kvm_host";
import type { KK } from "./kernel";

const E_SEQ = event("kvmppc_do_h_enter", "read mmu_notifier_seq", { cost: "mem" });
const E_LINUX_PTE = event("lookup_linux_pte", "read the host PTE of the guest page", { cost: "mem" });
const E_SCAN = event("kvmppc_do_h_enter", "slot free? try_lock_hpte(HVLOCK|V|ABSENT)", { cost: "atomic" });
const E_RECHECK = event("kvmppc_do_h_enter", "locked slot in use: unlock", { cost: "mem" });
const E_RETRY = event("kvmppc_do_h_enter", "mmu_notifier_retry? link rmap chain, unlock rmap", { cost: "mem" });
const E_WRITE = event("kvmppc_do_h_enter", "hpte[1] = ptel; eieio; hpte[0] = pteh (unlock); ptesync", {
  cost: "hpte_insert",
});
const E_TLBIE_LOCK = event("try_lock_tlbie", "spin on kvm->arch.tlbie_lock", { cost: "atomic" });
const E_TLBIE = event("tlbie", "ptesync; tlbie RB,LPID (every core); eieio; tlbsync; ptesync", {
  cost: "tlbie",
  counter: "tlbie",
});
const E_TLBIE_UNLOCK = event("try_lock_tlbie", "kvm->arch.tlbie_lock = 0", { cost: "mem" });
const E_TLBIEL = event("tlbiel", "ptesync; tlbiel RB (this core); ptesync", { cost: "tlbiel", counter: "tlbiel" });
const E_RC = event("remove_revmap_chain", "read final R/C from hpte[1] into guest_rpte", { cost: "mem" });
const E_UNLINK = event("remove_revmap_chain", "unlink from the chain, R/C to *rmap, unlock rmap", { cost: "mem" });
const E_BULK_LOCK = event("kvmppc_h_bulk_remove", "try_lock_hpte (don't spin except for the first)", {
  cost: "atomic",
});
const E_BULK_CHECK = event("kvmppc_h_bulk_remove", "match? clear V (leave locked)", { cost: "hpte_invalidate" });
const E_BULK_DONE = event("kvmppc_h_bulk_remove", "hp[0] = 0", { cost: "mem" });
const E_FIND = event("kvmppc_hv_find_lock_hpte", "read the PTEG racily, lock the matching HPTE", { cost: "hpt_miss" });
const E_FAULT_READ = event("kvmppc_hpte_hv_fault", "read HPTE and guest_rpte, unlock", { cost: "mem" });
const E_INVAL = event("kvmppc_invalidate_hpte", "clear V", { cost: "hpte_invalidate" });

/** kvmppc_add_revmap_chain: link HPTE pte_index at the tail of gfn's chain; unlocks the rmap (one step). */
export function* kvmppc_add_revmap_chain(k: KK, kvm: Kvm, rev: RevmapEntry, gfn: number, pte_index: number): Gen {
  const s = kvm.memslot;
  const ri = gfn - s.base_gfn;
  k.W(s.rmapObj + ri, E_RETRY);
  yield;
  add_revmap_chain_locked(kvm, rev, ri, pte_index);
}

/** The body of kvmppc_add_revmap_chain (v3.8 form): link at the tail, or start the chain; keep R/C; unlock. */
export function add_revmap_chain_locked(kvm: Kvm, rev: RevmapEntry, ri: number, pte_index: number): void {
  const s = kvm.memslot;
  const rmap = s.rmap[ri];
  if ((rmap & KVMPPC_RMAP_PRESENT) !== 0n) {
    const i = Number(rmap & KVMPPC_RMAP_INDEX);
    const head = kvm.rev(i);
    const tail = kvm.rev(head.back);
    rev.forw = i;
    rev.back = head.back;
    tail.forw = pte_index;
    head.back = pte_index;
  } else {
    rev.forw = rev.back = pte_index;
    s.rmap[ri] = (rmap & ~KVMPPC_RMAP_INDEX) | BigInt(pte_index) | KVMPPC_RMAP_PRESENT;
  }
  s.rmap[ri] &= ~(1n << 63n); // unlock_rmap
}

/** remove_revmap_chain: R/C from the HPTE to guest_rpte and *rmap, unlink pte_index from its page's chain. */
export function* remove_revmap_chain(k: KK, kvm: Kvm, pte_index: number, rev: RevmapEntry, hpte_v: bigint): Gen {
  const hpt = kvm.arch.hpt;
  k.W(hpt.obj(pte_index), E_RC);
  yield;
  const rcbits = hpt.get1(pte_index) & (HPTE_R_R | HPTE_R_C); // read after the invalidation: final R/C
  const ptel = (rev.guest_rpte |= rcbits);
  const gfn = Number(hpte_rpn(ptel, hpte_page_size(hpte_v, ptel)));
  const s = kvm.memslot;
  if (gfn < s.base_gfn || gfn >= s.base_gfn + s.npages) return;
  yield* k.lock_rmap(kvm, gfn);
  const ri = gfn - s.base_gfn;
  k.W(s.rmapObj + ri, E_UNLINK);
  yield;
  let head = Number(s.rmap[ri] & KVMPPC_RMAP_INDEX);
  const next = kvm.rev(rev.forw);
  const prev = kvm.rev(rev.back);
  next.back = rev.back;
  prev.forw = rev.forw;
  if (head === pte_index) {
    head = rev.forw;
    if (head === pte_index) s.rmap[ri] &= ~(KVMPPC_RMAP_PRESENT | KVMPPC_RMAP_INDEX);
    else s.rmap[ri] = (s.rmap[ri] & ~KVMPPC_RMAP_INDEX) | BigInt(head);
  }
  s.rmap[ri] |= rcbits << KVMPPC_RMAP_RC_SHIFT;
  s.rmap[ri] &= ~(1n << 63n); // unlock_rmap
}

/**
 * do_tlbies: the inline sequence every v3.7 hcall repeats (later kernels name it do_tlbies). Global: spin on
 * kvm->arch.tlbie_lock, ptesync, tlbie each RB with the LPID, eieio; tlbsync; ptesync, unlock. Local: tlbiel each.
 */
export function* do_tlbies(k: KK, kvm: Kvm, rbs: bigint[], global: boolean): Gen {
  const mmu = kvmWorld(k.m).mmu;
  if (global) {
    k.wait(kvm.tlbieLockObj, WRITE, E_TLBIE_LOCK, () => kvm.arch.tlbie_lock === 0);
    yield;
    kvm.arch.tlbie_lock = k.cpu() + 1; // the paca's lock token
    k.multi(mmu.allTlbs, E_TLBIE);
    yield;
    for (const rb of rbs) mmu.tlbie(kvm.arch.lpid, rb);
    k.count("tlbie", rbs.length - 1);
    k.W(kvm.tlbieLockObj, E_TLBIE_UNLOCK);
    yield;
    kvm.arch.tlbie_lock = 0;
  } else {
    const core = k.m.coreOf(k.cpu());
    k.W(mmu.tlb.obj(core), E_TLBIEL);
    yield;
    for (const rb of rbs) mmu.tlbiel(core, mmu.lpidr[core], rb);
    k.count("tlbiel", rbs.length - 1);
  }
}

/**
 * kvmppc_do_h_enter (v3.8 split of v3.7's kvmppc_h_enter): translate the guest's gpa to the host page backing it,
 * find and lock a free slot of the PTEG (or the exact slot), save the guest's dword 1, link the rmap chain
 * unless an invalidation raced (then write an absent HPTE), write the HPTE.
 */
export function* kvmppc_do_h_enter(
  k: KK,
  kvm: Kvm,
  flags: bigint,
  pte_index: number,
  pteh: bigint,
  ptel: bigint,
): Gen<{ ret: number; pte_index: number }> {
  const psize = hpte_page_size(pteh, ptel);
  if (psize === 0n) return { ret: H_PARAMETER, pte_index };
  pteh &= ~(HPTE_V_HVLOCK | HPTE_V_ABSENT | HPTE_V_VALID);
  const g_ptel = ptel;
  k.R(kvm.mmuSeqObj, E_SEQ);
  yield;
  const mmu_seq = kvm.mmu_notifier_seq; // smp_rmb()
  const gpa = ptel & HPTE_R_RPN & ~(psize - 1n);
  const gfn = Number(gpa >> 12n);
  const s = kvm.memslot;
  let pa = 0n;
  let gen = -1;
  let doRmap = false;
  if (gfn < s.base_gfn || gfn >= s.base_gfn + s.npages) {
    pteh |= HPTE_V_ABSENT; // emulated MMIO: key 31
    ptel |= HPTE_R_KEY_HI | HPTE_R_KEY_LO;
  } else {
    // slot_phys[] (pinned, !using_mmu_notifiers) or lookup_linux_pte: both read the page backing gfn
    k.R(s.hostPteObj + gfn - s.base_gfn, E_LINUX_PTE);
    yield;
    const f = s.hostPte[gfn - s.base_gfn];
    if (f === null && !kvm.arch.using_mmu_notifiers) return { ret: H_TOO_HARD, pte_index };
    if (f !== null) {
      pa = BigInt(f.pfn) << 12n;
      gen = f.gen;
    }
    ptel = U64(ptel & ~(HPTE_R_PP0 - psize)) | pa;
    pteh |= pa !== 0n ? HPTE_V_VALID : HPTE_V_ABSENT;
    doRmap = true;
  }
  if (pte_index >= kvm.arch.hpt_npte) return { ret: H_PARAMETER, pte_index };
  const hpt = kvm.arch.hpt;
  if ((flags & H_EXACT) === 0n) {
    pte_index &= ~7;
    let i = 0;
    for (; i < HPTES_PER_GROUP; i++) {
      k.W(hpt.obj(pte_index + i), E_SCAN);
      yield;
      const v = hpt.get0(pte_index + i);
      if ((v & HPTE_V_VALID) === 0n && (v & (HPTE_V_HVLOCK | HPTE_V_VALID | HPTE_V_ABSENT)) === 0n) {
        hpt.set0(pte_index + i, v | HPTE_V_HVLOCK);
        break;
      }
    }
    if (i === HPTES_PER_GROUP) {
      // try_lock_hpte doesn't retry: lock each slot in turn and look again
      for (i = 0; i < HPTES_PER_GROUP; i++) {
        yield* k.try_lock_hpte_spin(kvm, pte_index + i);
        if ((hpt.get0(pte_index + i) & (HPTE_V_VALID | HPTE_V_ABSENT)) === 0n) break;
        k.W(hpt.obj(pte_index + i), E_RECHECK);
        yield;
        hpt.set0(pte_index + i, hpt.get0(pte_index + i) & ~HPTE_V_HVLOCK);
      }
      if (i === HPTES_PER_GROUP) return { ret: H_PTEG_FULL, pte_index };
    }
    pte_index += i;
  } else if (!(yield* k.try_lock_hpte(kvm, pte_index, HPTE_V_HVLOCK | HPTE_V_VALID | HPTE_V_ABSENT))) {
    yield* k.try_lock_hpte_spin(kvm, pte_index);
    if ((hpt.get0(pte_index) & (HPTE_V_VALID | HPTE_V_ABSENT)) !== 0n) {
      k.W(hpt.obj(pte_index), E_RECHECK);
      yield;
      hpt.set0(pte_index, hpt.get0(pte_index) & ~HPTE_V_HVLOCK);
      return { ret: H_PTEG_FULL, pte_index };
    }
  }
  const rev = kvm.rev(pte_index);
  rev.guest_rpte = g_ptel; // under the HPTE lock
  if (doRmap && (pteh & HPTE_V_VALID) !== 0n) {
    yield* k.lock_rmap(kvm, gfn);
    const ri = gfn - s.base_gfn;
    k.multi([s.rmapObj + ri, WRITE, kvm.mmuSeqObj, READ], E_RETRY);
    yield;
    if (kvm.arch.using_mmu_notifiers && kvm.mmu_notifier_seq !== mmu_seq) {
      pteh |= HPTE_V_ABSENT; // invalidation in progress: write a non-present HPTE
      pteh &= ~HPTE_V_VALID;
      s.rmap[ri] &= ~(1n << 63n);
    } else {
      add_revmap_chain_locked(kvm, rev, ri, pte_index);
      const rcbits = s.rmap[ri] >> KVMPPC_RMAP_RC_SHIFT; // only set R/C in the HPTE if already in *rmap
      ptel &= rcbits | ~(HPTE_R_R | HPTE_R_C);
    }
  }
  k.W(hpt.obj(pte_index), E_WRITE);
  yield;
  hpt.set1(pte_index, ptel);
  hpt.gen.set(pte_index, gen);
  hpt.set0(pte_index, pteh);
  return { ret: H_SUCCESS, pte_index };
}

/** kvmppc_h_enter: the real-mode H_ENTER; the slot used is returned in gpr[4]. */
export function* kvmppc_h_enter(
  k: KK,
  vcpu: KvmVcpu,
  flags: bigint,
  pte_index: number,
  pteh: bigint,
  ptel: bigint,
): Gen<number> {
  const r = yield* k.kvmppc_do_h_enter(vcpu.kvm, flags, pte_index, pteh, ptel);
  if (r.ret === H_SUCCESS) vcpu.arch.gpr[4] = BigInt(r.pte_index);
  return r.ret;
}

/**
 * kvmppc_h_bulk_remove (v3.7; unchanged in the v3.8 file read): up to 4 (flags|index, AVPN) requests in
 * gpr[4..11]. Collect and clear a batch, then tlbie them under the tlbie lock, or tlbiel if the VM has one
 * online vcpu; then read R/C back and unlink each. Per request the high byte of the first word gets the status.
 */
export function* kvmppc_h_bulk_remove(k: KK, vcpu: KvmVcpu): Gen<number> {
  const kvm = vcpu.kvm;
  const args = vcpu.arch.gpr; // args[j] is gpr[4 + j]
  const A = (j: number) => 4 + j;
  const hpt = kvm.arch.hpt;
  let local = false;
  let ret = H_SUCCESS;
  k.R(kvm.onlineObj, E_BULK_LOCK);
  yield;
  if (kvm.online_vcpus === 1) local = true;
  for (let i = 0; i < 4 && ret === H_SUCCESS;) {
    let n = 0;
    const batch: { j: number; pte_index: number; rev: RevmapEntry; rb: bigint }[] = [];
    for (; i < 4; ++i) {
      const j = i * 2;
      let pte_index = args[A(j)];
      let flags = pte_index >> 56n;
      pte_index &= (1n << 56n) - 1n;
      const req = flags >> 6n;
      flags &= 3n;
      if (req === 3n) {
        i = 4; // no more requests
        break;
      }
      if (req !== 1n || flags === 3n || pte_index >= BigInt(kvm.arch.hpt_npte)) {
        args[A(j)] = ((0xa0n | flags) << 56n) + pte_index; // parameter error
        ret = H_PARAMETER;
        break;
      }
      const pi = Number(pte_index);
      // to avoid deadlock, don't spin except for the first
      if (!(yield* k.try_lock_hpte(kvm, pi, HPTE_V_HVLOCK))) {
        if (n) break;
        yield* k.try_lock_hpte_spin(kvm, pi);
      }
      k.W(hpt.obj(pi), E_BULK_CHECK);
      yield;
      const hp0 = hpt.get0(pi);
      let found = false;
      if ((hp0 & (HPTE_V_ABSENT | HPTE_V_VALID)) !== 0n) {
        const a1 = args[A(j + 1)];
        if (flags === 0n)
          found = true; // absolute
        else if (flags === 1n)
          found = (hp0 & a1) === 0n; // andcond
        else if (flags === 2n) found = (hp0 & ~0x7fn) === a1; // AVPN
      }
      if (!found) {
        hpt.set0(pi, hp0 & ~HPTE_V_HVLOCK);
        args[A(j)] = ((0x90n | flags) << 56n) + pte_index;
        continue;
      }
      args[A(j)] = ((0x80n | flags) << 56n) + pte_index;
      const rev = kvm.rev(pi);
      if ((hp0 & HPTE_V_VALID) === 0n) {
        const rcbits = rev.guest_rpte & (HPTE_R_R | HPTE_R_C); // insert R and C bits from the guest view
        args[A(j)] |= rcbits << (56n - 5n);
        hpt.set0(pi, 0n);
        continue;
      }
      hpt.set0(pi, hp0 & ~HPTE_V_VALID); // leave it locked
      batch.push({ j, pte_index: pi, rev, rb: compute_tlbie_rb(hpt.get0(pi), hpt.get1(pi), pi) });
      ++n;
    }
    if (!n) break;
    // now that we've collected a batch, do the tlbies
    yield* k.do_tlbies(
      kvm,
      batch.map((b) => b.rb),
      !local,
    );
    // read PTE low words after tlbie to get final R/C values
    for (const b of batch) {
      yield* k.remove_revmap_chain(kvm, b.pte_index, b.rev, hpt.get0(b.pte_index));
      const rcbits = b.rev.guest_rpte & (HPTE_R_R | HPTE_R_C);
      args[A(b.j)] |= rcbits << (56n - 5n);
      k.W(hpt.obj(b.pte_index), E_BULK_DONE);
      yield;
      hpt.set0(b.pte_index, 0n);
    }
  }
  return ret;
}

/** kvmppc_invalidate_hpte: clear V, then a global tlbie under the tlbie lock (the MMU-notifier path). */
export function* kvmppc_invalidate_hpte(k: KK, kvm: Kvm, pte_index: number): Gen {
  const hpt = kvm.arch.hpt;
  k.W(hpt.obj(pte_index), E_INVAL);
  yield;
  hpt.set0(pte_index, hpt.get0(pte_index) & ~HPTE_V_VALID);
  const rb = compute_tlbie_rb(hpt.get0(pte_index), hpt.get1(pte_index), pte_index);
  yield* k.do_tlbies(kvm, [rb], true);
}

/**
 * kvmppc_hv_find_lock_hpte: search ea's two PTEGs for an HPTE with `valid` bits (V, or V|ABSENT), lock it and
 * return its index, or -1. One step for the racy read; a matching entry is locked with the spin.
 */
export function* kvmppc_hv_find_lock_hpte(k: KK, kvm: Kvm, vsid: number, ea: number, valid: bigint): Gen<number> {
  const hpt = kvm.arch.hpt;
  const vpn = guest_vpn(vsid, ea);
  const avpn = hpte_encode_avpn(vpn);
  for (const sec of [false, true]) {
    const g = hpt.group(vpn, sec);
    const objs: number[] = [];
    for (let i = g; i < g + HPTES_PER_GROUP; i++) objs.push(hpt.obj(i), READ);
    k.multi(objs, E_FIND);
    yield;
    for (let i = g; i < g + HPTES_PER_GROUP; i++) {
      const v = hpt.get0(i) & ~HPTE_V_HVLOCK;
      if ((v & valid) === 0n || (v & (~0x7fn | 0x2n)) !== (avpn | (sec ? 0x2n : 0n))) continue;
      yield* k.try_lock_hpte_spin(kvm, i);
      const v2 = hpt.get0(i) & ~HPTE_V_HVLOCK;
      if ((v2 & valid) !== 0n && (v2 & (~0x7fn | 0x2n)) === (avpn | (sec ? 0x2n : 0n))) return i; // still locked
      yield* k.unlock_hpte(kvm, i, v2);
    }
  }
  return -1;
}

/**
 * kvmppc_hpte_hv_fault (real mode, on an HDSI): find the HPTE (valid or absent) for the address. No HPTE: the
 * guest's own fault (status back to the guest: 1 here). Valid by now: retry (0). Absent: save it for the
 * virtual-mode handler and return -1. (Permission and storage-key checks: the model's guest pages are RW.)
 */
export function* kvmppc_hpte_hv_fault(k: KK, vcpu: KvmVcpu, vsid: number, ea: number, status: number): Gen<number> {
  const kvm = vcpu.kvm;
  const valid = HPTE_V_VALID | (status === GUEST_HDSI_NOHPTE ? HPTE_V_ABSENT : 0n);
  const index = yield* k.kvmppc_hv_find_lock_hpte(kvm, vsid, ea, valid);
  if (index < 0) return status === GUEST_HDSI_NOHPTE ? 1 : 0;
  const hpt = kvm.arch.hpt;
  k.W(hpt.obj(index), E_FAULT_READ);
  yield;
  const v = hpt.get0(index) & ~HPTE_V_HVLOCK;
  const r = hpt.get1(index);
  hpt.set0(index, v); // unlock_hpte
  if (status === GUEST_HDSI_NOHPTE && (v & HPTE_V_VALID) !== 0n) return 0;
  vcpu.arch.pgfault_addr = ea;
  vcpu.arch.pgfault_index = index;
  vcpu.arch.pgfault_hpte = [v, r];
  return -1; // send the fault up to host virtual mode
}
