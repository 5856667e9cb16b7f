// Models include/linux/mm_types.h (struct mm_struct, vm_area_struct, struct page) and the page-table pages of
// include/asm-generic/pgtable.h, v2.6.22 to v3.14. Page tables are pgd → pmd → pte: the pud level is folded
// into the pgd (as on 3-level configurations); pmd and pte levels are real. Every table page is a real frame
// from the PageAllocator, so it can be freed and reused, and every entry is its own shared object.

import { Machine, filled } from "../sim/machine";
import { PageAllocator, PageFrame, PAGE_ALLOCATED } from "../sim/page_alloc";
import { Spinlock, spin_lock_init } from "../sim/spinlock";
import { CELL_OBJECT } from "../sim/objects";
import { PteLayout, PAGE_SHIFT } from "./pgtable";

export const PGD_LEVEL = 0;
export const PMD_LEVEL = 1;
export const PTE_LEVEL = 2;
const LEVEL_NAME = ["pgd", "pmd", "pte"];

export interface MmConfig {
  /** Page frames in the machine (data pages and page-table pages share them). */
  frames: number;
  /** Entries per table level (kernel: 512 each on ppc64 4K; tiny values keep searches small). */
  ptrsPerPte?: number;
  ptrsPerPmd?: number;
  ptrsPerPgd?: number;
  /** The architecture's Linux PTE bit layout (powerpc's PPC64, x86's X86): generic code reads bits through it. */
  layout: PteLayout;
  /** Pages an mmu_gather holds before it must flush (MMU_GATHER_BUNDLE = 8 without extra batch pages). */
  gatherMax?: number;
  /** GFP_NOWAIT/ATOMIC allocations may fail (explorable). */
  allocMayFail?: boolean;
}

/** One page of a page table: a frame, its entries (one shared object each) and, for PTE pages, the split PTL. */
export class PtPage {
  /** Entry values: a Linux PTE, or for upper levels the child table's pfn + 1 (0 = none). */
  readonly ent: number[];
  /** Object id of entry 0; entry i is `base + i`. */
  readonly base: number;
  /** Frame generation this table was allocated in (a pointer to the table is only good for this lifetime). */
  readonly gen: number;
  /** Split PTE lock (PTE pages only): pte_lockptr. */
  readonly ptl: Spinlock | null;
  readonly pteps: Ptep[] = [];
  constructor(
    readonly w: MmWorld,
    readonly frame: PageFrame,
    readonly level: number,
    n: number,
    readonly vaStart: number,
  ) {
    const m = w.m;
    this.ent = filled(n);
    const tag = `${LEVEL_NAME[level]}@pfn${frame.pfn}`;
    this.base = m.newObjs(n, tag);
    this.gen = frame.gen;
    this.ptl = level === PTE_LEVEL ? spin_lock_init(m, `ptl@pfn${frame.pfn}`) : null;
    for (let i = 0; i < n; i++) this.pteps.push(new Ptep(this, i, this.base + i));
  }
  /** Entry i is object base + i. */
  [CELL_OBJECT](field: string, index: number): number {
    return field === "ent" && index >= 0 ? this.base + index : -1;
  }
  /** Whether the frame still holds this table (not freed, not reused). */
  get live(): boolean {
    return this.frame.state === PAGE_ALLOCATED && this.frame.gen === this.gen;
  }
}

/** A pointer to one entry of a table page (pte_t *): its object id is what steps announce. */
export class Ptep {
  constructor(
    readonly pt: PtPage,
    readonly i: number,
    readonly id: number,
  ) {}
  get v(): number {
    return this.pt.ent[this.i];
  }
  set v(x: number) {
    this.pt.ent[this.i] = x;
  }
}

/** A file's page cache and backing store (struct address_space + the disk blocks). */
export class AddressSpace {
  readonly id: number;
  /** index → pfn of the cached page, or -1. */
  readonly pages: number[];
  /** Version of each block on disk (what a read returns, what writeback stores). */
  readonly disk: number[];
  /** VMAs mapping this file (i_mmap), for page_mkclean. */
  readonly i_mmap: Vma[] = [];
  constructor(
    m: Machine,
    readonly name: string,
    readonly npages: number,
  ) {
    this.id = m.newObj(`${name}.mapping`);
    this.pages = filled(npages, -1);
    this.disk = filled(npages);
  }
}

/** struct page: the mm's view of a frame. Its flags/mapcount word is a shared object per frame. */
export class PageInfo {
  /** PG_dirty */
  dirty = false;
  /** PG_locked: the page lock (lock_page), held across writeback's clean-and-submit and a shared write fault. */
  locked = false;
  /** page_count: page-cache reference + mappings + gathers. */
  count = 0;
  /** page_mapcount: PTEs mapping the page. */
  mapcount = 0;
  anon = false;
  mapping: AddressSpace | null = null;
  index = 0;
  /** rmap: (mm, address) of each PTE mapping the page. */
  readonly rmap: { mm: MmStruct; addr: number }[] = [];
  constructor(
    readonly id: number,
    readonly frame: PageFrame,
  ) {}
  /** Its own fields and rmap entries; not the structures it points to. */
  [CELL_OBJECT](field: string): number {
    return field === "mapping" || field === "frame" ? -1 : this.id;
  }
}

export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_SHARED = 0x8;

/** vm_area_struct: [start, end) of an mm, anonymous or a shared file mapping. */
export class Vma {
  constructor(
    readonly mm: MmStruct,
    readonly start: number,
    readonly end: number,
    readonly flags: number,
    readonly file: AddressSpace | null,
    /** File page index of `start`. */
    readonly pgoff: number,
  ) {}
  get anon(): boolean {
    return this.file === null;
  }
}

/** mm_struct: the page tables, the context id (VSIDs derive from it), users and the CPUs that ran it. */
export class MmStruct {
  readonly id: number;
  /** Object of cpu_vm_mask (mm_cpumask). */
  readonly maskId: number;
  /** Objects of mm_users / mm_count. */
  readonly usersId: number;
  cpu_vm_mask = 0;
  mm_users = 1;
  mm_count = 1;
  readonly vmas: Vma[] = [];
  /** mm->page_table_lock: serialises populating upper levels. */
  readonly page_table_lock: Spinlock;
  readonly pgd: PtPage;
  constructor(
    readonly w: MmWorld,
    readonly contextId: number,
    readonly name: string,
  ) {
    const m = w.m;
    this.id = m.newObj(`${name}`);
    this.maskId = m.newObj(`${name}.cpu_vm_mask`);
    this.usersId = m.newObj(`${name}.mm_users`);
    this.page_table_lock = spin_lock_init(m, `${name}.page_table_lock`);
    this.pgd = w.newTable(w.pa.take("pgd"), PGD_LEVEL, 0);
  }
  find_vma(addr: number): Vma | null {
    for (const v of this.vmas) if (addr >= v.start && addr < v.end) return v;
    return null;
  }
}

/** A hardware model (hash MMU, x86 TLBs) installed on an MmWorld; its accesses are pulled, never re-announced. */
export interface HwModel {
  /** The world it translates for. */
  readonly w: MmWorld;
}

/** The MmWorld built on machine `m` (each execution builds its own). */
export function mmWorld(m: Machine): MmWorld {
  const w = m.ext.mmWorld as MmWorld | undefined;
  if (!w) throw new Error("no MmWorld on this machine: build one in the scenario's setup (new MmWorld(m, cfg))");
  return w;
}

/** The memory-management state of one machine: frames, struct pages, tables, address spaces, hardware. */
export class MmWorld {
  readonly pa: PageAllocator;
  readonly L: PteLayout;
  readonly ptrsPerPte: number;
  readonly ptrsPerPmd: number;
  readonly ptrsPerPgd: number;
  readonly gatherMax: number;
  /** struct page per pfn. */
  readonly pages: PageInfo[] = [];
  /** Table page held by each pfn, or null. */
  readonly tables: (PtPage | null)[] = [];
  /** mm running on each CPU (current->active_mm), or null. */
  readonly current: (MmStruct | null)[];
  /** current->mm of each CPU's task: null for a kernel thread (which borrows active_mm lazily, or use_mm's one). */
  readonly current_mm: (MmStruct | null)[];
  readonly mms: MmStruct[] = [];
  readonly files: AddressSpace[] = [];
  /** Version counter for user stores (each store writes a fresh version into the frame). */
  storeSeq = 0;
  private nextContext = 1;
  hw: HwModel | null = null;

  constructor(
    readonly m: Machine,
    readonly cfg: MmConfig,
  ) {
    this.pa = new PageAllocator(m, { frames: cfg.frames, mayFail: cfg.allocMayFail ?? false });
    this.L = cfg.layout;
    this.ptrsPerPte = cfg.ptrsPerPte ?? 512;
    this.ptrsPerPmd = cfg.ptrsPerPmd ?? 512;
    this.ptrsPerPgd = cfg.ptrsPerPgd ?? 512;
    this.gatherMax = cfg.gatherMax ?? 8;
    const base = m.newObjs(cfg.frames, "page");
    for (let i = 0; i < cfg.frames; i++) {
      this.pages.push(new PageInfo(base + i, this.pa.frames[i]));
      this.tables.push(null);
    }
    this.current = new Array(m.ncpu).fill(null);
    this.current_mm = new Array(m.ncpu).fill(null);
    m.ext.mmWorld = this;
  }

  /** Bytes covered by one entry of a table at `level`. */
  span(level: number): number {
    const p = 1 << PAGE_SHIFT;
    if (level === PTE_LEVEL) return p;
    if (level === PMD_LEVEL) return p * this.ptrsPerPte;
    return p * this.ptrsPerPte * this.ptrsPerPmd;
  }
  index(level: number, addr: number): number {
    const n = level === PTE_LEVEL ? this.ptrsPerPte : level === PMD_LEVEL ? this.ptrsPerPmd : this.ptrsPerPgd;
    return Math.floor(addr / this.span(level)) % n;
  }

  /** Wrap a freshly allocated frame as an empty table page (no step: nobody can see it yet). */
  newTable(f: PageFrame, level: number, vaStart: number): PtPage {
    const n = level === PTE_LEVEL ? this.ptrsPerPte : level === PMD_LEVEL ? this.ptrsPerPmd : this.ptrsPerPgd;
    f.use = `${LEVEL_NAME[level]} table`;
    const t = new PtPage(this, f, level, n, vaStart);
    this.tables[f.pfn] = t;
    return t;
  }

  /** The child table an upper-level entry points to, or null. */
  child(e: number): PtPage | null {
    return e === 0 ? null : this.tables[e - 1];
  }

  /** mm_alloc: a new address space with a fresh context id (no step). */
  mm_alloc(name = `mm${this.mms.length}`): MmStruct {
    const mm = new MmStruct(this, this.nextContext++, name);
    this.mms.push(mm);
    return mm;
  }

  /** A file with `npages` blocks, each on disk at version 0 (no step). */
  newFile(name: string, npages: number): AddressSpace {
    const f = new AddressSpace(this.m, name, npages);
    this.files.push(f);
    return f;
  }

  /** mmap of anonymous memory (no step: building the initial state). */
  mmap_anon(mm: MmStruct, start: number, npages: number): Vma {
    const v = new Vma(mm, start, start + npages * (1 << PAGE_SHIFT), VM_READ | VM_WRITE, null, 0);
    mm.vmas.push(v);
    return v;
  }

  /** mmap(MAP_SHARED) of a file (no step). */
  mmap_file(mm: MmStruct, start: number, npages: number, file: AddressSpace, pgoff = 0): Vma {
    const v = new Vma(mm, start, start + npages * (1 << PAGE_SHIFT), VM_READ | VM_WRITE | VM_SHARED, file, pgoff);
    mm.vmas.push(v);
    file.i_mmap.push(v);
    return v;
  }

  /** Ghost walk (no step, no checks): the PTE pointer for addr, or null. For invariants and tests. */
  lookup(mm: MmStruct, addr: number): Ptep | null {
    const pmd = this.child(mm.pgd.ent[this.index(PGD_LEVEL, addr)]);
    if (!pmd || !pmd.live) return null;
    const pte = this.child(pmd.ent[this.index(PMD_LEVEL, addr)]);
    if (!pte || !pte.live) return null;
    return pte.pteps[this.index(PTE_LEVEL, addr)];
  }

  /** Ghost read of the Linux PTE for addr (0 when no table). */
  pteValue(mm: MmStruct, addr: number): number {
    const p = this.lookup(mm, addr);
    return p ? p.v : 0;
  }

  /** Build the tables down to addr's PTE without steps (initial state); returns the PTE pointer. */
  buildTables(mm: MmStruct, addr: number): Ptep {
    const gi = this.index(PGD_LEVEL, addr);
    let pmd = this.child(mm.pgd.ent[gi]);
    if (!pmd) {
      pmd = this.newTable(this.pa.take("pmd"), PMD_LEVEL, addr - (addr % this.span(PGD_LEVEL)));
      mm.pgd.ent[gi] = pmd.frame.pfn + 1;
    }
    const mi = this.index(PMD_LEVEL, addr);
    let pte = this.child(pmd.ent[mi]);
    if (!pte) {
      pte = this.newTable(this.pa.take("pte"), PTE_LEVEL, addr - (addr % this.span(PMD_LEVEL)));
      pmd.ent[mi] = pte.frame.pfn + 1;
    }
    return pte.pteps[this.index(PTE_LEVEL, addr)];
  }

  page(f: PageFrame): PageInfo {
    return this.pages[f.pfn];
  }
}
