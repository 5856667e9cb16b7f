import { describe, it, expect } from "vitest";
import { Machine } from "../../lib/sim/machine";
import { makeKernel } from "../../lib/sim/kernel";
import { simOps } from "../../lib/sim/index";
import { mmOps, MmWorld } from "../../lib/mm/index";
import { PPC64, pte_hidx, _PAGE_HASHPTE, _PAGE_DIRTY } from "../../lib/powerpc/index";
import type { Gen } from "../../lib/sim/machine";
import {
  powerpcHashOps,
  powerpcHash,
  prefault,
  hpt_hash,
  make_va,
  get_vsid,
  vsid_scramble,
  hpte_encode_v,
  va_to_vpn,
  hash_of_vpn,
  HPTE_V_VALID,
  HPTE_V_SECONDARY,
  PP_RW,
  PP_RO,
} from "../../lib/powerpc/index";
import type { PK } from "../../lib/powerpc/index";

const ops = { ...simOps, ...mmOps, ...powerpcHashOps };
const BASE = 0x10000000;

/** Run threads serially (lowest runnable context first) to completion; returns the machine. */
function runSerial(m: Machine): void {
  for (let n = 0; n < 20000; n++) {
    if (m.violation) return;
    const en = m.enabledMask();
    if (en === 0) return;
    m.step(31 - Math.clz32(en & -en));
  }
  throw new Error("did not finish");
}

function machine(cpus = 2, tpc = 1, ptegs = 4, overrides = {}) {
  const k = makeKernel(ops, overrides) as unknown as PK;
  const m = new Machine({ cpus, threadsPerCore: tpc }, k);
  k.m = m;
  const w = new MmWorld(m, { layout: PPC64, frames: 24, ptrsPerPte: 4, ptrsPerPmd: 2, ptrsPerPgd: 2 });
  const hw = powerpcHash(w, { ptegs, tlbEntries: 4 });
  return { k, m, w, hw };
}

describe("hash functions and VSIDs", () => {
  it("vsid_scramble is (proto × 200730139) mod (2^36 − 1)", () => {
    expect(vsid_scramble(1)).toBe(200730139);
    // 2^16 * 200730139 = 13154641002496 mod 68719476735 = hand-computed below
    const want = Number((65536n * 200730139n) % 68719476735n);
    expect(vsid_scramble(65536)).toBe(want);
    expect(get_vsid(1, BASE)).toBe(vsid_scramble((1 << 16) | 1));
  });
  it("hpt_hash: primary = vsid ^ page index, secondary = ~primary", () => {
    const vsid = 0x123456789;
    const ea = 0x10003000; // segment 1, page 3 in segment
    const va = make_va(vsid, ea);
    expect(va).toBe((0x123456789n << 28n) | 0x3000n);
    expect(hpt_hash(va, 12)).toBe(0x123456789n ^ 3n);
    const vpn = va_to_vpn(vsid, ea);
    expect(hash_of_vpn(vpn)).toBe(Number((0x123456789n ^ 3n) & 0xffffffffn));
    expect(hpte_encode_v(va, HPTE_V_VALID)).toBe(((va >> 23n) << 7n) | 1n);
  });
  it("group index uses hash & mask, secondary uses ~hash & mask", () => {
    const { hw } = machine(1, 1, 4);
    const vpn = va_to_vpn(5, 0x2000); // hash = 5 ^ 2 = 7
    expect(hw.hpt.group(vpn, false)).toBe((7 & 3) * 8);
    expect(hw.hpt.group(vpn, true)).toBe((~7 & 3) * 8);
  });
});

describe("hash_page: insertion, secondary group, eviction, hidx", () => {
  it("a first touch inserts in the primary group, stores hidx and HASHPTE; a clean page's HPTE is read-only", () => {
    const { k, m, w, hw } = machine(1);
    const mm = w.mm_alloc();
    w.mmap_anon(mm, BASE, 4);
    m.spawn(
      0,
      "t",
      (function* (): Gen {
        yield* k.switch_mm(mm);
        yield* k.user_access(mm, BASE, false);
      })(),
    );
    runSerial(m);
    expect(m.violation).toBeNull();
    const pte = w.pteValue(mm, BASE);
    expect(pte & _PAGE_HASHPTE).toBeTruthy();
    expect(pte & _PAGE_DIRTY).toBe(0);
    const vpn = va_to_vpn(get_vsid(mm.contextId, BASE), BASE);
    const slot = hw.hpt.slotOf(vpn, pte_hidx(pte));
    expect(hw.hpt.matches(slot, vpn)).toBe(true);
    expect(pte_hidx(pte) & 8).toBe(0); // primary
    expect(hw.hpt.r[slot] & 3).toBe(PP_RO);
  });
  it("the first store to a clean page takes a hash fault that sets DIRTY and makes the HPTE writable", () => {
    const { k, m, w, hw } = machine(1);
    const mm = w.mm_alloc();
    w.mmap_anon(mm, BASE, 4);
    let faults = 0;
    const k2 = k as any;
    const orig = k2.hash_page;
    k2.hash_page = function* (ea: number, write: boolean) {
      faults++;
      return yield* orig(ea, write);
    };
    m.spawn(
      0,
      "t",
      (function* (): Gen {
        yield* k.switch_mm(mm);
        yield* k.user_access(mm, BASE, false);
        yield* k.user_access(mm, BASE, true);
      })(),
    );
    runSerial(m);
    expect(m.violation).toBeNull();
    expect(faults).toBe(3); // read miss (→ do_page_fault), read retry inserts, store protection fault
    const pte = w.pteValue(mm, BASE);
    expect(pte & _PAGE_DIRTY).toBeTruthy();
    const vpn = va_to_vpn(get_vsid(mm.contextId, BASE), BASE);
    expect(hw.hpt.r[hw.hpt.slotOf(vpn, pte_hidx(pte))] & 3).toBe(PP_RW);
  });
  it("a full primary group sends the insert to the secondary group; both full evicts a victim", () => {
    const { k, m, w, hw } = machine(1, 1, 1); // one PTEG: primary == secondary group
    const mm = w.mm_alloc();
    w.mmap_anon(mm, BASE, 12);
    const vpn0 = va_to_vpn(get_vsid(mm.contextId, BASE), BASE);
    // fill the only PTEG with foreign valid entries
    for (let i = 0; i < 8; i++) {
      hw.hpt.vpn[i] = 1000 + i;
      hw.hpt.v[i] = HPTE_V_VALID;
      hw.hpt.rpn[i] = 0;
    }
    m.chooser = (_n, label) => (label === "hpte_remove victim slot" ? 5 : 0);
    m.spawn(
      0,
      "t",
      (function* (): Gen {
        yield* k.switch_mm(mm);
        yield* k.user_access(mm, BASE, false);
      })(),
    );
    runSerial(m);
    expect(m.violation).toBeNull();
    expect(hw.hpt.vpn[5]).toBe(vpn0);
    expect(pte_hidx(w.pteValue(mm, BASE))).toBe(5);
  });
  it("secondary group insertion records _PTEIDX_SECONDARY in hidx", () => {
    const { k, m, w, hw } = machine(1, 1, 4);
    const mm = w.mm_alloc();
    w.mmap_anon(mm, BASE, 4);
    const vpn = va_to_vpn(get_vsid(mm.contextId, BASE), BASE);
    const g = hw.hpt.group(vpn, false);
    for (let i = 0; i < 8; i++) {
      hw.hpt.vpn[g + i] = 7000 + i;
      hw.hpt.v[g + i] = HPTE_V_VALID;
    }
    m.spawn(
      0,
      "t",
      (function* (): Gen {
        yield* k.switch_mm(mm);
        yield* k.user_access(mm, BASE, true);
      })(),
    );
    runSerial(m);
    expect(m.violation).toBeNull();
    const hidx = pte_hidx(w.pteValue(mm, BASE));
    expect(hidx & 8).toBe(8);
    expect(hw.hpt.v[hw.hpt.slotOf(vpn, hidx)] & HPTE_V_SECONDARY).toBe(HPTE_V_SECONDARY);
  });
});

describe("tlbie vs tlbiel", () => {
  it("tlbiel invalidates only this core's TLB; tlbie every core's", () => {
    const { k, m, hw } = machine(4, 2);
    hw.tlb.fill(0, 42, 1, 1, 0);
    hw.tlb.fill(1, 42, 1, 1, 0);
    m.spawn(
      0,
      "t",
      (function* (): Gen {
        yield* k.tlbie(42, true);
      })(),
    );
    runSerial(m);
    expect(hw.tlb.lookup(0, 42)).toBe(-1);
    expect(hw.tlb.lookup(1, 42)).toBeGreaterThanOrEqual(0);
    m.spawn(
      2,
      "u",
      (function* (): Gen {
        yield* k.tlbie(42, false);
      })(),
    );
    runSerial(m);
    expect(hw.tlb.lookup(1, 42)).toBe(-1);
  });
  it("flush_hash_page issues the tlbie even when the slot was reused by another VA", () => {
    const { k, m, w, hw } = machine(2);
    const mm = w.mm_alloc();
    w.mmap_anon(mm, BASE, 4);
    prefault(mm, BASE, { tlbCores: [1] });
    const pte = w.pteValue(mm, BASE);
    const vpn = va_to_vpn(get_vsid(mm.contextId, BASE), BASE);
    const slot = hw.hpt.slotOf(vpn, pte_hidx(pte));
    hw.hpt.vpn[slot] = 99999; // evicted and reused
    m.spawn(
      0,
      "t",
      (function* (): Gen {
        yield* k.flush_hash_page(vpn, pte, false);
      })(),
    );
    runSerial(m);
    expect(hw.hpt.matches(slot, 99999)).toBe(true); // not ours: left alone
    expect(hw.tlb.lookup(1, vpn)).toBe(-1); // but the TLB entry is gone
  });
});
