// Bench section for fix 004 (thp-walk-irq): the timed workload's figures — IPIs per pmd clear and per collapse
// against the CPU count, virtual ns per zapped pmd before and after the 2020 IPI removal, IRQ-off time per walk,
// the primer's 496 GiB munmap carried to 128 CPUs — printed and saved to bench/results/thp-walk-irq-workload.json.

import * as fs from "node:fs";
import * as path from "node:path";
import { thpWorkloadCost, primerMunmap, PRIMER_GUEST_PMDS } from "../fixes/thp-walk-irq/workload";

export interface ThpBench {
  byCpus: {
    cpus: number;
    variant: string;
    ipis: number;
    ipiRounds: number;
    nsPerPmd: number;
    nsPerCollapse: number;
    irqOffNsPerWalk: number;
    wallMs: number;
  }[];
  primer: { pmds: number; busy: ReturnType<typeof primerMunmap>; deepIdle: ReturnType<typeof primerMunmap> };
}

/** Run the section (quick: fewer CPU counts), log it, save it beside latest.json. */
export function benchThpWalkIrq(opts: { quick?: boolean; log?: (s: string) => void; dir?: string } = {}): ThpBench {
  const log = opts.log ?? (() => {});
  const busy = primerMunmap();
  // cost-model §2.3: an IPI to a CPU in a deep stop state takes ≈620 µs more [27]
  const deepIdle = primerMunmap(128, PRIMER_GUEST_PMDS, { ipi: 1800 + 620000 });
  const out: ThpBench = { byCpus: [], primer: { pmds: PRIMER_GUEST_PMDS, busy, deepIdle } };
  log("\nthp-walk-irq workload (timed; 64 THPs munmapped, 4 collapses, 32 H_ENTERs):");
  for (const cpus of opts.quick ? [2, 15] : [2, 4, 8, 15])
    for (const variant of ["before", "after"] as const) {
      const t0 = performance.now();
      const c = thpWorkloadCost(variant, { cpus, pmds: 64, collapses: 4, walks: 32 });
      const row = {
        cpus,
        variant,
        ipis: c.ipis,
        ipiRounds: c.ipiRounds,
        nsPerPmd: Math.round(c.nsPerPmd),
        nsPerCollapse: Math.round(c.nsPerCollapse),
        irqOffNsPerWalk: Math.round(c.irqOffNsPerWalk),
        wallMs: Math.round(performance.now() - t0),
      };
      out.byCpus.push(row);
      log(
        `  ${String(cpus).padStart(2)} CPUs ${variant.padEnd(6)} ${String(row.ipis).padStart(5)} IPIs  ${String(row.nsPerPmd).padStart(5)} ns/pmd  ${String(row.nsPerCollapse).padStart(5)} ns/collapse  IRQ-off ${row.irqOffNsPerWalk} ns/walk  (${row.wallMs} ms)`,
      );
    }
  const p = out.primer;
  log(
    `  496 GiB guest, 128 CPUs: before ${p.busy.before.toFixed(2)} s (busy targets) / ${p.deepIdle.before.toFixed(1)} s (deep idle), after ${(p.busy.after * 1000).toFixed(0)} ms; measured 82 s → 39 ms`,
  );
  const dir = opts.dir ?? path.join(process.cwd(), "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "thp-walk-irq-workload.json"), JSON.stringify(out, null, 2) + "\n");
  log(`  saved ${path.relative(process.cwd(), path.join(dir, "thp-walk-irq-workload.json"))}`);
  return out;
}
