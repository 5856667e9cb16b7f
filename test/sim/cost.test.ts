// Cost-model keys: the runtime registers only its own; each subsystem registers its keys beside its code, and
// every step site of the model names a registered key.

import { describe, it, expect } from "vitest";
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_COSTS, allEvents, costModel, defineCosts } from "../../lib/sim/index";
import "../../lib/index";

const SIM = path.join(__dirname, "../../lib/sim");

describe("cost model registry", () => {
  it("lib/sim names no subsystem's cost", () => {
    const subsystem = [
      "tlbie",
      "tlbiel",
      "hash_fault",
      "hpte_insert",
      "hpte_invalidate",
      "pte_update",
      "invlpg",
      "tlb_shootdown",
      "page_fault",
      "hpt_miss",
      "hcall",
    ];
    const found: string[] = [];
    for (const f of fs.readdirSync(SIM).filter((n) => n.endsWith(".ts"))) {
      const src = fs.readFileSync(path.join(SIM, f), "utf8");
      for (const key of subsystem)
        if (new RegExp(`\\b${key}\\s*:|cost:\\s*"${key}"`).test(src)) found.push(`${f}: ${key}`);
    }
    expect(found).toEqual([]);
  });

  it("subsystems register their keys with the cost model's defaults", () => {
    expect(DEFAULT_COSTS.tlbie).toBe(550);
    expect(DEFAULT_COSTS.tlbiel).toBe(13);
    expect(DEFAULT_COSTS.invlpg).toBe(100);
    expect(DEFAULT_COSTS.page_fault).toBe(1000);
    expect(DEFAULT_COSTS.mem).toBe(2);
    expect(costModel({ tlbie: 300 }).tlbie).toBe(300);
  });

  it("every step site names a registered cost", () => {
    const missing = allEvents()
      .filter((e) => !(e.cost in DEFAULT_COSTS))
      .map((e) => `${e.fn}: ${e.cost}`);
    expect(missing).toEqual([]);
  });

  it("a key registered again with a different default is refused", () => {
    expect(() => defineCosts({ tlbie: 550 })).not.toThrow();
    expect(() => defineCosts({ tlbie: 1 })).toThrow(/registered twice/);
    expect(() => defineCosts({ warp: -1 })).toThrow(/finite number/);
  });
});
