// Schedule strings: round trip, clear errors on damage and mismatch, and a decoder that survives fuzzing.

import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { encodeSchedule, decodeSchedule, ScheduleError, explore, replay } from "../../lib/explore/index";
import "../../lib/fixes/index";
import "../../lib/examples/index";

const header = { scenario: "lost-update", variant: "racy", fingerprint: "0123abcd" };

describe("schedule strings", () => {
  it("round-trip any decision list", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ choice: fc.boolean(), value: fc.integer({ min: 0, max: 100_000 }) }), { maxLength: 300 }),
        (d) => {
          const s = encodeSchedule(header, d);
          expect(s).toMatch(/^[A-Za-z0-9._-]+$/); // copy-paste safe
          expect(decodeSchedule(s).decisions).toEqual(d);
          expect(decodeSchedule(s.slice(0, 20) + "\n  " + s.slice(20)).decisions).toEqual(d); // wrapped copies paste fine
        },
      ),
    );
  });

  it("the decoder never throws anything but ScheduleError on arbitrary input", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: "binary" }),
          fc.constantFrom("fl1.a.b.0123abcd..", "fl1", "fl2.x.y.z.w.v", ""),
        ),
        (s) => {
          try {
            decodeSchedule(s);
          } catch (e) {
            expect(e).toBeInstanceOf(ScheduleError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("any single-character change to a valid string is refused with ScheduleError", () => {
    const s = explore("lost-update", { variant: "racy" }).violation!.schedule;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: s.length - 1 }), fc.constantFrom(..."AZaz09-_.x"), (i, ch) => {
        fc.pre(s[i] !== ch);
        const bad = s.slice(0, i) + ch + s.slice(i + 1);
        expect(() => replay("lost-update", { schedule: bad })).toThrow(ScheduleError);
      }),
      { numRuns: 300 },
    );
  });

  it("mismatches say what is wrong", () => {
    const s = explore("lost-update", { variant: "racy" }).violation!.schedule;
    expect(() => replay("lost-update", { schedule: s, variant: "spinlock" })).toThrow(/for variant "racy"/);
    expect(() => replay("lost-update", { schedule: s, params: { cpus: 3 } })).toThrow(/different model/);
    expect(() => replay("lost-update", { schedule: s.replace("fl1.", "fl9.") })).toThrow(/version 9/);
    expect(() => replay("lost-update", { schedule: "hello" })).toThrow(/not a flushlab schedule/);
    expect(() => replay("lost-update", { schedule: s, overrides: { counter_inc: function* () {} } })).toThrow(
      /different model/,
    );
  });
});
