// Shard result files and their merge (shard_result.ts): one verdict from the parts, refusals by fingerprint.

import { describe, it, expect } from "vitest";
import { exploreShard } from "../../lib/explore/scaled";
import { mergeShards, parseShardFile, MergeError, ShardResultFile } from "../../lib/explore/shard_result";
import { explore, replay } from "../../lib/explore/explore";
import "../../lib/fixes/index";
import "../../lib/examples/index";

const parts = (id: string, variant: string, n: number, all = false): { name: string; result: ShardResultFile }[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `r/${i}.json`,
    // through JSON, as the files are read
    result: parseShardFile(`r/${i}.json`, JSON.stringify(exploreShard(id, { index: i, count: n }, { variant, all }))),
  }));

describe("merge", () => {
  it("a clean fix: all shards exhausted give an exhaustive clean verdict; one missing gives none", () => {
    const ps = parts("lazy-mmu-batch", "after", 3);
    const m = mergeShards(ps);
    expect(m.exhaustive).toBe(true);
    expect(m.violation).toBeNull();
    expect(m.missing).toEqual([]);
    const partial = mergeShards([ps[0], ps[2]]);
    expect(partial.exhaustive).toBe(false);
    expect(partial.missing).toEqual([1]);
  });

  it("a duplicate shard is reported and counted once", () => {
    const ps = parts("lazy-mmu-batch", "after", 2);
    const m = mergeShards([...ps, { name: "again.json", result: ps[1].result }]);
    expect(m.duplicates).toEqual([{ index: 1, files: ["again.json"] }]);
    expect(m.executions).toBe(ps[0].result.executions + ps[1].result.executions);
  });

  it("the first violation by the stable order, whichever file comes first; it replays", () => {
    const ps = parts("lazy-mmu-batch", "before", 3, true);
    const a = mergeShards(ps);
    const b = mergeShards([...ps].reverse());
    expect(a.violation).not.toBeNull();
    expect(b.violation!.schedule).toBe(a.violation!.schedule);
    expect(a.violation!.key).toEqual(
      ps.flatMap((p) => p.result.violations.map((v) => v.key)).sort((x, y) => x[0] - y[0] || x[1] - y[1])[0],
    );
    expect(replay("lazy-mmu-batch", { schedule: a.violation!.schedule }).violation?.invariant).toBe("hpte-multi-hit");
    // same verdict as the unsharded search
    expect(explore("lazy-mmu-batch", { variant: "before" }).violation?.invariant).toBe(a.violation!.invariant);
  });

  it("refuses parts of a different model, parameters or search, naming the file", () => {
    const ps = parts("lost-update", "spinlock", 2);
    const forged = { name: "x.json", result: { ...ps[1].result, fingerprint: "deadbeef" } };
    expect(() => mergeShards([ps[0], forged])).toThrow(/x\.json: a different model \(fingerprint deadbeef/);
    const other = parseShardFile(
      "p.json",
      JSON.stringify(exploreShard("lost-update", { index: 1, count: 3 }, { variant: "spinlock" })),
    );
    expect(() => mergeShards([ps[0], { name: "p.json", result: other }])).toThrow(MergeError);
    expect(() => mergeShards([ps[0], { name: "p.json", result: other }])).toThrow(/shard count/);
    const params = parseShardFile(
      "q.json",
      JSON.stringify(
        exploreShard("lost-update", { index: 1, count: 2 }, { variant: "spinlock", params: { iterations: 2 } }),
      ),
    );
    expect(() => mergeShards([ps[0], { name: "q.json", result: params }])).toThrow(/q\.json: params/);
  });

  it("a file that is not a shard result is refused with its name", () => {
    expect(() => parseShardFile("a.json", "{")).toThrow(/a\.json: not JSON/);
    expect(() => parseShardFile("b.json", '{"x":1}')).toThrow(/b\.json: not a flushlab shard result/);
  });
});
