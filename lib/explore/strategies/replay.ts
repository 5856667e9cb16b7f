// Replay: re-execute a decision list on a fresh machine. Past the end of the list the serial policy runs on
// (the last context continues while it can), so a prefix is a complete schedule.

import type { Machine } from "../../sim/machine";
import type { Strategy } from "../strategy";
import { serialPick } from "../exec";
import { Decision, ScheduleError } from "../schedule";

/** Replays `d`, checking that each decision fits the model; serial past its end. */
export class ReplayPicker implements Strategy {
  private i = 0;
  constructor(private readonly d: readonly Decision[]) {}

  pick(m: Machine, enabled: number, last: number): number {
    if (this.i < this.d.length) {
      const x = this.d[this.i++];
      if (x.choice)
        throw new ScheduleError(
          `schedule does not fit this model: decision ${this.i - 1} is a choose() value where a context must be scheduled`,
        );
      if ((enabled & (1 << x.value)) === 0) {
        const name = x.value < m.ctxs.length ? m.ctxs[x.value].name : `context ${x.value}`;
        throw new ScheduleError(`schedule does not fit this model: at step ${m.steps}, ${name} cannot run`);
      }
      return x.value;
    }
    return serialPick(enabled, last);
  }

  choose(n: number): number {
    if (this.i < this.d.length) {
      const x = this.d[this.i++];
      if (!x.choice)
        throw new ScheduleError(
          `schedule does not fit this model: decision ${this.i - 1} schedules a context where a choose() value is due`,
        );
      if (x.value >= n) throw new ScheduleError(`schedule does not fit this model: choose(${n}) given ${x.value}`);
      return x.value;
    }
    return 0;
  }

  get consumed(): number {
    return this.i;
  }
}
