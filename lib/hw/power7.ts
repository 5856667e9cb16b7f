// POWER7 partitioned translation (no kernel file: the ISA 2.06 rules HV KVM relies on). Cores of N hardware
// threads share one TLB whose entries are tagged with the LPID they were filled under (the host is LPID 0), so a
// guest's translations survive a switch to another partition. Each core has LPIDR and SDR1 registers set by the
// primary thread on guest entry. On a TLB miss the hardware searches the partition's HPT, whose entries hold HOST
// real addresses (KVM translated gpa → hpa when it inserted them); an entry KVM marked HPTE_V_ABSENT has V clear,
// so the hardware does not see it and the access takes an HDSI to the hypervisor.
//
// tlbie (by LPID + VA) reaches every core's TLB; tlbiel only this core's. A guest load or store is ONE step
// touching the core's TLB, its LPIDR, every HPTE of the VPN's two PTEGs and every host frame: the frame list is a
// static over-approximation (all frames), so no access ever has to be re-announced when a translation changes.

import { READ, WRITE, filled } from "../sim/machine";
import type { Machine } from "../sim/machine";
import { event } from "../sim/event";
import type { KernelBase } from "../sim/kernel";
import { checkFrameAccess } from "../sim/page_alloc";
import type { PageAllocator } from "../sim/page_alloc";
import { HwTlb, TLB_C, TLB_W } from "./tlb";

/** Congruence classes of the POWER7 TLB (POWER7_TLB_SETS, a later kernel name for the entry code's 128). */
export const POWER7_TLB_SETS = 128;
/** tlbiel RB with IS = 0b10: invalidate one set's entries for the LPID in LPIDR (TLBIEL_INVAL_SET_LPID). */
export const TLBIEL_INVAL_SET_LPID = 0x800;
export const HOST_LPID = 0;

// HPTE dword bits the hardware interprets (asm/mmu-hash64.h, v3.7). Dwords are u64: bigint here.
export const HPTES_PER_GROUP = 8;
export const HPTE_V_AVPN_SHIFT = 7n;
export const HPTE_V_LARGE = 0x4n;
export const HPTE_V_SECONDARY = 0x2n;
export const HPTE_V_VALID = 0x1n;
export const HPTE_R_PP0 = 0x8000000000000000n;
export const HPTE_R_KEY_HI = 0x3000000000000000n;
export const HPTE_R_RPN_SHIFT = 12n;
export const HPTE_R_RPN = 0x0ffffffffffff000n;
export const HPTE_R_KEY_LO = 0xe00n;
export const HPTE_R_R = 0x100n;
export const HPTE_R_C = 0x80n;
export const HPTE_R_W = 0x40n;
export const HPTE_R_I = 0x20n;
export const HPTE_R_M = 0x10n;
export const HPTE_R_G = 0x8n;
export const HPTE_R_N = 0x4n;
export const HPTE_R_PP = 0x3n;
/** PP 0b10: read/write for both keys; 0b11 read-only. */
export const PP_RW = 0x2n;
export const PP_RO = 0x3n;
export const U64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** A 4 KiB page in a 256 MiB segment: VPN = VSID × 2^16 + page-in-segment (va >> 12). */
export function guest_vpn(vsid: number, ea: number): number {
  return vsid * 65536 + (Math.floor(ea / 4096) % 65536);
}

/** hpt_hash(va, 4K, 256M): VSID xor page index (the ISA's primary hash, low bits). */
export function hpt_hash(vpn: number): number {
  return ((Math.floor(vpn / 65536) % 2 ** 31) ^ (vpn % 65536)) >>> 0;
}

/** hpte_encode_v for a 4 KiB page: AVPN = VA >> 23 = VPN >> 11, above the 7 flag bits. */
export function hpte_encode_avpn(vpn: number): bigint {
  return BigInt(Math.floor(vpn / 2048)) << HPTE_V_AVPN_SHIFT;
}

/** The RB a tlbie/tlbiel carries for a 4 KiB page: VA[14:65] = the VPN, left in place. */
export function rb_of_vpn(vpn: number): bigint {
  return U64(BigInt(vpn) << 12n);
}

/**
 * A partition's hashed page table, allocated by the hypervisor (kvm->arch.hpt_virt): 2^order bytes of 16-byte
 * HPTEs, stored sparsely (only touched entries exist). One shared object per HPTE.
 */
export class PartitionHpt {
  readonly npte: number;
  readonly mask: number;
  readonly base: number;
  /** Dword 0 and 1 of each touched HPTE; absent = 0. */
  readonly v = new Map<number, bigint>();
  readonly r = new Map<number, bigint>();
  /** Ghost: generation of the host frame when the entry was made to point at it (use-after-free). */
  readonly gen = new Map<number, number>();
  constructor(
    m: Machine,
    readonly order: number,
    name: string,
  ) {
    this.npte = 2 ** order / 16;
    this.mask = this.npte / HPTES_PER_GROUP - 1;
    this.base = m.newObjs(this.npte, `${name}.hpte`);
  }
  obj(i: number): number {
    return this.base + i;
  }
  get0(i: number): bigint {
    return this.v.get(i) ?? 0n;
  }
  get1(i: number): bigint {
    return this.r.get(i) ?? 0n;
  }
  set0(i: number, v: bigint): void {
    this.v.set(i, U64(v));
  }
  set1(i: number, r: bigint): void {
    this.r.set(i, U64(r));
  }
  /** First HPTE index of the primary or secondary PTEG of a VPN. */
  group(vpn: number, secondary: boolean): number {
    const h = hpt_hash(vpn);
    return ((secondary ? ~h : h) & this.mask) * HPTES_PER_GROUP;
  }
  /** The valid HPTEs the hardware would match for vpn (V set, H bit of the group searched, AVPN equal). */
  search(vpn: number): number[] {
    const avpn = hpte_encode_avpn(vpn);
    const out: number[] = [];
    for (const sec of [false, true]) {
      const g = this.group(vpn, sec);
      for (let i = g; i < g + HPTES_PER_GROUP; i++) {
        const v = this.get0(i);
        if ((v & HPTE_V_VALID) === 0n || ((v & HPTE_V_SECONDARY) !== 0n) !== sec) continue;
        if ((v & ~0x7fn) === avpn && (v & HPTE_V_LARGE) === 0n) out.push(i);
      }
    }
    return out;
  }
}

/** What a partition's translation needs: its HPT, the owner's identity (ghost) and the host frames. */
export interface Partition {
  /** Set when the VM gets its LPID (kvmppc_core_init_vm). */
  lpid: number;
  readonly hpt: PartitionHpt;
  /** Ghost identity of the VM (LPIDs are reused; VM ids are not). */
  readonly vmId: number;
}

export const GUEST_OK = 0;
/** HDSI with DSISR_NOHPTE: no valid HPTE matched (none, or KVM marked it absent). */
export const GUEST_HDSI_NOHPTE = 1;
/** HDSI for a protection fault: a store through a read-only HPTE. */
export const GUEST_HDSI_PROT = 2;

const E_LOAD = event("(hw) guest load", "TLB[LPID] → partition HPT translate and load", { cost: "mem" });
const E_STORE = event("(hw) guest store", "TLB[LPID] → partition HPT translate and store", { cost: "mem" });

/** The POWER7 MMU of one machine: per-core LPID-tagged TLBs, LPIDR/SDR1 per core. */
export class Power7Mmu {
  readonly tlb: HwTlb;
  readonly cores: number;
  /** LPIDR of each core, and its object (read by every guest access, written by partition switches). */
  readonly lpidr: number[];
  readonly lpidrBase: number;
  /** SDR1 of each core: the partition whose HPT the hardware searches (null: the host's, not modelled). */
  readonly sdr1: (Partition | null)[];
  /** Ghost: VM id that filled each TLB entry. */
  readonly owner: number[];
  /** Ghost: the HPTE each TLB entry was filled from (its C bit is what a later store through the entry sets). */
  readonly slot: number[];
  /** [tlb obj, WRITE, …] for every core: what a tlbie touches. */
  readonly allTlbs: number[] = [];
  constructor(
    readonly m: Machine,
    readonly pa: PageAllocator,
    tlbEntries: number,
  ) {
    this.tlb = new HwTlb(m, tlbEntries);
    this.cores = this.tlb.cores;
    this.lpidr = filled(this.cores, HOST_LPID);
    this.lpidrBase = m.newObjs(this.cores, "LPIDR@core");
    this.sdr1 = new Array<Partition | null>(this.cores).fill(null);
    this.owner = filled(this.cores * tlbEntries, -1);
    this.slot = filled(this.cores * tlbEntries, -1);
    for (let c = 0; c < this.cores; c++) this.allTlbs.push(this.tlb.obj(c), WRITE);
  }

  /** TLB tag of a guest translation: LPID × 2^36 + VPN (VPNs stay below 2^36 with the model's VSIDs). */
  static tag(lpid: number, vpn: number): number {
    return lpid * 2 ** 36 + vpn;
  }
  static lpidOfTag(tag: number): number {
    return Math.floor(tag / 2 ** 36);
  }

  /** tlbie RB,RS: invalidate the VA for LPID `lpid` in every core's TLB (one step, completion included). */
  tlbie(lpid: number, rb: bigint): number {
    let n = 0;
    for (let c = 0; c < this.cores; c++) n += this.tlbiel(c, lpid, rb);
    return n;
  }

  /** tlbiel RB on `core` for LPID `lpid` (the value in that core's LPIDR while the guest's hcall runs). */
  tlbiel(core: number, lpid: number, rb: bigint): number {
    const vpn = Number(rb >> 12n);
    return this.tlb.invalidate(core, Power7Mmu.tag(lpid, vpn));
  }

  /** POWER7_TLB_SETS × tlbiel IS=0b10 on `core`: every entry of the LPID in its LPIDR goes. */
  flushLpid(core: number): void {
    const lpid = this.lpidr[core];
    this.tlb.invalidateWhere(core, (t) => Power7Mmu.lpidOfTag(t) === lpid);
  }

  /** Objects a guest access by `cpu` to vpn may touch: core TLB, LPIDR, both PTEGs' HPTEs, every frame. */
  announceList(cpu: number, part: Partition, vpn: number, write: boolean): number[] {
    const core = this.m.coreOf(cpu);
    const out = [this.tlb.obj(core), WRITE, this.lpidrBase + core, READ];
    for (const sec of [false, true]) {
      const g = part.hpt.group(vpn, sec);
      for (let i = g; i < g + HPTES_PER_GROUP; i++) out.push(part.hpt.obj(i), WRITE);
    }
    const kind = write ? WRITE : READ;
    for (const f of this.pa.frames) out.push(f.id, kind);
    return out;
  }

  /** One guest load or store at guest effective address `ea` (VPN `vpn`), as one announced step. */
  *access(k: KernelBase, part: Partition, vpn: number, ea: number, write: boolean) {
    k.multi(this.announceList(k.cpu(), part, vpn, write), write ? E_STORE : E_LOAD);
    yield;
    return this.translate(k, vpn, ea, write);
  }

  /** The hardware's translation and access, inside one step: TLB first, then the HPT of the core's SDR1. */
  translate(k: KernelBase, vpn: number, ea: number, write: boolean): number {
    const cpu = k.cpu();
    const core = this.m.coreOf(cpu);
    const part = this.sdr1[core];
    const lpid = this.lpidr[core];
    if (part === null || lpid === HOST_LPID) throw new Error(`cpu${cpu}: guest access with the host partition loaded`);
    const tlb = this.tlb;
    const tag = Power7Mmu.tag(lpid, vpn);
    let pfn: number;
    let gen: number;
    let via: string;
    const t = tlb.lookup(core, tag);
    if (t >= 0) {
      if (write && (tlb.flags[t] & TLB_W) === 0) return GUEST_HDSI_PROT;
      if (write && (tlb.flags[t] & TLB_C) === 0) {
        // C goes to the HPTE the entry came from, valid or not, until a TLB invalidation removes the entry
        const s = this.slot[t];
        if (s >= 0 && (part.hpt.get0(s) & ~0x7fn) === hpte_encode_avpn(vpn))
          part.hpt.set1(s, part.hpt.get1(s) | HPTE_R_C);
        tlb.flags[t] |= TLB_C;
      }
      if (this.owner[t] !== part.vmId) {
        k.violation(
          "cross-partition-translation",
          `cpu${cpu} guest ${write ? "store" : "load"} at 0x${ea.toString(16)} (LPID ${lpid}, VM ${part.vmId}) hit a core ${core} TLB entry filled by VM ${this.owner[t]} under the same LPID`,
        );
        return GUEST_OK;
      }
      pfn = tlb.pfn[t];
      gen = tlb.gen[t];
      via = `core ${core} TLB (LPID ${lpid})`;
    } else {
      const hits = part.hpt.search(vpn);
      if (hits.length > 1) {
        k.violation(
          "hpte-multi-hit",
          `cpu${cpu} guest access at 0x${ea.toString(16)}: ${hits.length} valid HPTEs match (${hits.join(", ")})`,
        );
        return GUEST_OK;
      }
      if (hits.length === 0) return GUEST_HDSI_NOHPTE;
      const s = hits[0];
      const r = part.hpt.get1(s);
      const writable = (r & HPTE_R_PP) === PP_RW || (r & HPTE_R_PP) === 0n;
      if (write && !writable) return GUEST_HDSI_PROT;
      part.hpt.set1(s, r | HPTE_R_R | (write ? HPTE_R_C : 0n));
      pfn = Number((r & HPTE_R_RPN) >> HPTE_R_RPN_SHIFT);
      gen = part.hpt.gen.get(s) ?? -1;
      const i = tlb.fill(core, tag, pfn, gen, (writable ? TLB_W : 0) | (write || (r & HPTE_R_C) !== 0n ? TLB_C : 0));
      this.owner[i] = part.vmId;
      this.slot[i] = s;
      via = `HPTE ${s}`;
    }
    const f = this.pa.frames[pfn];
    const who = `cpu${cpu} guest ${write ? "store" : "load"} at 0x${ea.toString(16)} (VM ${part.vmId}, LPID ${lpid}) via ${via}`;
    if (!checkFrameAccess(k, f, gen, who)) return GUEST_OK;
    if (write) f.data++;
    return GUEST_OK;
  }

  /** Valid TLB entries per core, decoded (display and tests). */
  dump(): { core: number; lpid: number; vpn: number; pfn: number; vm: number }[] {
    return this.tlb.dump().map((e) => {
      const i = this.tlb.lookup(e.core, e.tag);
      return { core: e.core, lpid: Power7Mmu.lpidOfTag(e.tag), vpn: e.tag % 2 ** 36, pfn: e.pfn, vm: this.owner[i] };
    });
  }
}
