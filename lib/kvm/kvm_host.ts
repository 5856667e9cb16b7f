// The HV KVM structures (arch/powerpc/include/asm/kvm_host.h and include/linux/kvm_host.h, v3.7, with the fields
// 1b400ba0 adds: online_vcores, need_tlb_flush, vcore->last_cpu). One KvmWorld per machine holds the POWER7 MMU,
// the host page allocator, the VMs, the LPID allocator and each CPU's paca->kvm_hstate.

import type { Machine } from "../sim/machine";
import { PageAllocator } from "../sim/page_alloc";
import type { PageFrame } from "../sim/page_alloc";
import { Power7Mmu, PartitionHpt } from "../hw/power7";
import type { Partition } from "../hw/power7";

export const KVM_MAX_VCORES = 4;
export const VCORE_INACTIVE = 0;
export const VCORE_RUNNING = 1;
/** u16 -1: what kvmppc_core_vcpu_create stores in vcpu->arch.last_cpu (v3.6/3.7: "last_cpu = -1"). */
export const LAST_CPU_NONE = 0xffff;
export const BOOK3S_INTERRUPT_H_DATA_STORAGE = 0xe00;
/** LPID_RSVD: the reserved LPID loaded while SDR1 is switched (v3.7 entry code). */
export const LPID_RSVD = 0x3ff;

/** One guest operation a vcpu's guest kernel performs (the guest program is data; see guest.ts). */
export type GuestOp =
  | { op: "load" | "store"; ea: number }
  | { op: "h_remove"; flags: bigint; pte_index: number; avpn: bigint }
  | { op: "h_bulk_remove"; args: bigint[] }
  | { op: "h_protect"; flags: bigint; pte_index: number; avpn: bigint }
  | { op: "h_enter"; flags: bigint; pte_index: number; pteh: bigint; ptel: bigint };

/** struct revmap_entry (kvm_host.h): the guest's view of dword 1 and the rmap chain links. */
export interface RevmapEntry {
  guest_rpte: bigint;
  forw: number;
  back: number;
}

/** struct kvm_memory_slot with its HV arch part: one rmap word per guest page. */
export class KvmMemorySlot {
  readonly rmap: bigint[];
  /** Object of rmap[i] (the chain head and its lock bit). */
  readonly rmapObj: number;
  /** The Linux PTE of the host mapping of each guest page (userspace_addr + i pages in qemu's mm). */
  readonly hostPte: (PageFrame | null)[];
  readonly hostPteObj: number;
  /**
   * slot_phys[] (PPC970, !using_mmu_notifiers): the page kvmppc_get_guest_page pinned for each guest page (a
   * get_user_pages reference, held until the VM is destroyed), or null. Reclaim cannot free a pinned page.
   */
  readonly slot_phys: (PageFrame | null)[];
  constructor(
    m: Machine,
    readonly base_gfn: number,
    readonly npages: number,
    name: string,
  ) {
    this.rmap = new Array<bigint>(npages).fill(0n);
    this.rmapObj = m.newObjs(npages, `${name}.rmap`);
    this.hostPte = new Array<PageFrame | null>(npages).fill(null);
    this.hostPteObj = m.newObjs(npages, `${name}.linux-pte`);
    this.slot_phys = new Array<PageFrame | null>(npages).fill(null);
  }
}

/** struct kvm_vcpu (the HV arch part). */
export class KvmVcpu {
  readonly arch: {
    vcore: KvmppcVcore;
    ptid: number;
    /** Before 1b400ba0: the physical CPU this vcpu last ran on (u16), checked on entry. */
    last_cpu: number;
    /** gpr[4..11]: hcall results, as the guest reads them back. */
    gpr: bigint[];
    pgfault_addr: number;
    pgfault_index: number;
    pgfault_hpte: [bigint, bigint];
    /** Why the vcpu last left the guest (BOOK3S_INTERRUPT_H_DATA_STORAGE for a page fault, else 0). */
    trap: number;
  };
  /** Object of the vcpu's own fields (last_cpu). */
  readonly obj: number;
  /** The guest program and where it is. */
  pc = 0;
  /** Ghost log of hcall return codes, for tests. */
  readonly rets: number[] = [];
  constructor(
    m: Machine,
    readonly kvm: Kvm,
    readonly vcpu_id: number,
    vc: KvmppcVcore,
    readonly ops: GuestOp[],
  ) {
    this.arch = {
      vcore: vc,
      ptid: vc.vcpus.length,
      last_cpu: LAST_CPU_NONE,
      gpr: new Array<bigint>(12).fill(0n),
      pgfault_addr: 0,
      pgfault_index: -1,
      pgfault_hpte: [0n, 0n],
      trap: 0,
    };
    this.obj = m.newObj(`vm${kvm.id}.vcpu${vcpu_id}`);
  }
  get done(): boolean {
    return this.pc >= this.ops.length;
  }
}

/** struct kvmppc_vcore: the vcpus of one virtual core, run together on one physical core. */
export class KvmppcVcore {
  readonly vcpus: KvmVcpu[] = [];
  pcpu = -1;
  /** Added by 1b400ba0 (u16); not read by any function modelled here. */
  last_cpu = LAST_CPU_NONE;
  vcore_state = VCORE_INACTIVE;
  in_guest = 0;
  /** Threads entered (low byte) and exited (<< 8), as entry_exit_count. */
  entry_exit_count = 0;
  readonly obj: number;
  constructor(
    m: Machine,
    readonly kvm: Kvm,
    readonly index: number,
  ) {
    this.obj = m.newObj(`vm${kvm.id}.vcore${index}`);
  }
  get done(): boolean {
    return this.vcpus.every((v) => v.done);
  }
}

/** struct kvm with struct kvm_arch (HV). */
export class Kvm {
  readonly arch: {
    lpid: number;
    hpt: PartitionHpt;
    hpt_npte: number;
    hpt_mask: number;
    revmap: Map<number, RevmapEntry>;
    using_mmu_notifiers: number;
    /** 1b400ba0: vcores with an online vcpu. */
    online_vcores: number;
    /** 1b400ba0: cpumask of CPUs (thread 0 of each core) that must flush this LPID on guest entry. */
    need_tlb_flush: number;
    /** Before 1b400ba0: last vcpu id to run on each physical CPU (u16 each). */
    last_vcpu: number[];
    vcores: (KvmppcVcore | null)[];
    tlbie_lock: number;
    /** The HPT and VRMA are set up; cleared by an HPT reset, set again by the next KVM_RUN (kvmppc_hv_setup_htab_rma). */
    rma_setup_done: number;
    /** atomic_t: vcpu tasks inside KVM_RUN (kvmppc_vcpu_run); an HPT reset refuses to run while any is. */
    vcpus_running: number;
  };
  /** kvm->lock (a mutex): 0 free, else the holder's CPU + 1. */
  lock = 0;
  online_vcpus = 0;
  mmu_notifier_seq = 0;
  /** kvm->mmu_notifier_count: invalidations under way (range_start done, range_end not yet; fix 004). */
  mmu_notifier_count = 0;
  readonly memslot: KvmMemorySlot;
  readonly vcpus: KvmVcpu[] = [];
  readonly partition: Partition;
  // Objects: the tlbie lock, the flush mask / last_vcpu array, the counters hcalls read, the notifier sequence.
  readonly tlbieLockObj: number;
  readonly needFlushObj: number;
  readonly lastVcpuObj: number;
  readonly onlineObj: number;
  readonly mmuSeqObj: number;
  // Objects of the HPT-reset handshake: kvm->lock, rma_setup_done, vcpus_running.
  readonly lockObj: number;
  readonly rmaObj: number;
  readonly runningObj: number;
  /** Set by kvm_create_vm (under the world's run queue object); vcores are runnable only once created. */
  created = false;
  destroyed = false;
  constructor(
    readonly w: KvmWorld,
    readonly id: number,
    lpid: number,
    hptOrder: number,
    npages: number,
  ) {
    const m = w.m;
    const hpt = new PartitionHpt(m, hptOrder, `vm${id}`);
    this.arch = {
      lpid,
      hpt,
      hpt_npte: hpt.npte,
      hpt_mask: hpt.mask,
      revmap: new Map(),
      using_mmu_notifiers: 1,
      online_vcores: 0,
      need_tlb_flush: 0,
      last_vcpu: new Array<number>(m.ncpu).fill(0),
      vcores: new Array<KvmppcVcore | null>(KVM_MAX_VCORES).fill(null),
      tlbie_lock: 0,
      rma_setup_done: 0,
      vcpus_running: 0,
    };
    this.memslot = new KvmMemorySlot(m, 0, npages, `vm${id}`);
    this.partition = { lpid, hpt, vmId: id };
    this.tlbieLockObj = m.newObj(`vm${id}.tlbie_lock`);
    this.needFlushObj = m.newObj(`vm${id}.need_tlb_flush`);
    this.lastVcpuObj = m.newObj(`vm${id}.last_vcpu[]`);
    this.onlineObj = m.newObj(`vm${id}.online`);
    this.mmuSeqObj = m.newObj(`vm${id}.mmu_notifier_seq`);
    this.lockObj = m.newObj(`vm${id}.lock`);
    this.rmaObj = m.newObj(`vm${id}.rma_setup_done`);
    this.runningObj = m.newObj(`vm${id}.vcpus_running`);
  }
  rev(i: number): RevmapEntry {
    let r = this.arch.revmap.get(i);
    if (r === undefined) this.arch.revmap.set(i, (r = { guest_rpte: 0n, forw: i, back: i }));
    return r;
  }
}

/** local_paca->kvm_hstate of one CPU: the vcpu and vcore it is running (null when in the host). */
export interface KvmHstate {
  kvm_vcpu: KvmVcpu | null;
  kvm_vcore: KvmppcVcore | null;
}

export interface KvmWorldConfig {
  /** Host page frames (guest memory backing, refaults, reuse). */
  frames: number;
  /** TLB entries per core. */
  tlbEntries?: number;
  /** PPC970 instead of POWER7: one thread per core, the whole TLB flushed on every guest entry (no LPID check). */
  ppc970?: boolean;
}

/** Everything HV KVM state lives in, per machine. */
export class KvmWorld {
  readonly pa: PageAllocator;
  readonly mmu: Power7Mmu;
  readonly vms: Kvm[] = [];
  /** kvmppc_alloc_lpid's bitmap: LPIDs in use (LPID 0 is the host's). */
  readonly lpidInuse = new Set<number>([0]);
  readonly lpidObj: number;
  readonly hstate: KvmHstate[];
  readonly hstateObj: number;
  /**
   * Which vcores are taken, which VMs exist: the vcore locks and vcore_state of kvmppc_run_vcpu, coarsened to one
   * object. Every write of created/destroyed/vcore_state announces it; a vcpu's guest program advances only while
   * its vcore is RUNNING, so readers of "runnable" see a stable answer.
   */
  readonly runqObj: number;
  /** Per CPU: set when its core's host loop is finished, so the secondary thread leaves its nap loop. */
  readonly stopped: boolean[];
  readonly ppc970: boolean;
  constructor(
    readonly m: Machine,
    cfg: KvmWorldConfig,
  ) {
    this.ppc970 = cfg.ppc970 ?? false;
    // pfn 0 is the host kernel's: a real address of 0 means "no page" to kvmppc_do_h_enter (`if (pa)`)
    this.pa = new PageAllocator(m, { frames: cfg.frames + 1 });
    this.pa.take("host kernel");
    this.mmu = new Power7Mmu(m, this.pa, cfg.tlbEntries ?? 4);
    this.lpidObj = m.newObj("lpid_inuse");
    this.hstate = [];
    for (let c = 0; c < m.ncpu; c++) this.hstate.push({ kvm_vcpu: null, kvm_vcore: null });
    this.hstateObj = m.newObjs(m.ncpu, "paca.kvm_hstate");
    this.runqObj = m.newObj("vcore run queue");
    this.stopped = new Array<boolean>(m.ncpu).fill(false);
    m.ext.kvm = this;
  }
}

export function kvmWorld(m: Machine): KvmWorld {
  return m.ext.kvm as KvmWorld;
}
