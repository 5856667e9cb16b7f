// The CLI's --shard, --jobs, --coverage and merge: files written, exit codes, one-line errors, nothing clobbered.

import { describe, it, expect } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cli } from "./cli_run";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "flushlab-shard-"));

describe("flushlab explore --shard / merge", { timeout: 120_000 }, () => {
  it("three shards of a violating search merge to exit 1 with a replayable schedule; a missing one to no verdict", () => {
    const d = tmp();
    const files = [0, 1, 2].map((i) => path.join(d, `${i}.json`));
    for (const [i, f] of files.entries()) {
      const r = cli("explore", "lazy-mmu-batch", "--variant", "before", "--shard", `${i}/3`, "--out", f);
      expect(r.code === 0 || r.code === 1).toBe(true);
      expect(JSON.parse(fs.readFileSync(f, "utf8")).shard).toMatchObject({ index: i, count: 3 });
    }
    const m = cli("merge", ...files, "--json");
    expect(m.code).toBe(1);
    const j = JSON.parse(m.out);
    expect(j.violation.invariant).toBe("hpte-multi-hit");
    const rp = cli("replay", "lazy-mmu-batch", "--variant", "before", "--schedule", j.violation.schedule, "--json");
    expect(rp.code).toBe(1);
    const partial = cli("merge", files[1]);
    expect(partial.out).toMatch(/missing shard\(s\): 0, 2/);
  });

  it("a clean fix's shards merge to exit 0 (exhausted); merging another variant's shard is refused", () => {
    const d = tmp();
    const a = path.join(d, "a.json");
    const b = path.join(d, "b.json");
    expect(cli("explore", "lost-update", "--variant", "spinlock", "--shard", "0/2", "--out", a).code).toBe(0);
    expect(cli("explore", "lost-update", "--variant", "spinlock", "--shard", "1/2", "--out", b).code).toBe(0);
    const m = cli("merge", a, b);
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/every shard exhausted/);
    const c = path.join(d, "c.json");
    cli("explore", "lost-update", "--variant", "racy", "--shard", "1/2", "--out", c);
    const bad = cli("merge", a, c);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/c\.json: variant "racy", but .*a\.json has "spinlock"/);
  });

  it("bad --shard and --jobs values are one-line errors; --out never overwrites a file it did not write", () => {
    expect(cli("explore", "lost-update", "--shard", "3/3").err).toMatch(/i counts from 0/);
    expect(cli("explore", "lost-update", "--shard", "x").code).toBe(2);
    expect(cli("explore", "lost-update", "--jobs", "0").err).toMatch(/--jobs takes a whole number/);
    expect(cli("explore", "lost-update", "--out", "x.json").err).toMatch(/give --shard/);
    const d = tmp();
    const mine = path.join(d, "notes.json");
    fs.writeFileSync(mine, '{"mine": true}');
    const r = cli("explore", "lost-update", "--shard", "0/2", "--out", mine);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a flushlab shard result: not overwriting/);
    expect(fs.readFileSync(mine, "utf8")).toBe('{"mine": true}');
    expect(cli("merge", mine).err).toMatch(/notes\.json: not a flushlab shard result/);
  });

  it("--coverage lists the sites not reached; --jobs 2 says how the work was spread", () => {
    const r = cli("explore", "lazy-mmu-batch", "--variant", "after", "--coverage", "--jobs", "2");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/coverage: \d+\/\d+ declared step sites reached/);
    expect(r.out).toMatch(/NOT reached at all: .*hpte_update \(lib\/fixes\/lazy-mmu-batch\/before\.ts\)/);
    expect(r.out).toMatch(/2 worker threads, \d+ subtrees searched \(work stealing\)/);
  });
});
