// Small test programs as scenarios: named threads of steps on shared variables and locks.

import { defineScenario, ScenarioDef } from "../../lib/explore/scenario";
import { simOps, event, spin_lock_init, Spinlock, READ } from "../../lib/sim/index";
import type { Gen } from "../../lib/sim/machine";
import type { KernelBase } from "../../lib/sim/kernel";

export type Op =
  | { t: "read"; v: number; reg: number }
  | { t: "write"; v: number; reg: number; add: number }
  | { t: "inc"; v: number }
  | { t: "lock"; l: number }
  | { t: "unlock"; l: number }
  | { t: "choose"; reg: number }
  | { t: "irqoff" }
  | { t: "irqon" }
  | { t: "ipi"; v: number } // v: the variable the handlers update
  | { t: "rcu"; v: number } // after a grace period, this CPU's interrupt context doubles v and adds 1
  | { t: "wait"; v: number; val: number; reg: number } // busy-wait until v ≥ val, then read it into reg
  // a modelled function reads v and gives it back (how 0: returns it; 1: into a caller's local array;
  // 2: a nested call returns the sum of two reads), and one step later the thread puts it in reg
  | { t: "call"; v: number; reg: number; how: 0 | 1 | 2 };

export interface Program {
  vars: number;
  locks: number;
  threads: Op[][];
  /** Assert at the end that variable 0 differs from this value. */
  forbid?: number;
}

const E_READ = event("prog", "read var");
const E_WRITE = event("prog", "write var");
const E_INC = event("prog", "increment var");
const E_HANDLER = event("prog_ipi", "handler writes var");
const E_RCU_CB = event("prog_rcu", "callback writes var");
const E_WAIT = event("prog", "wait for var");

interface Vars {
  ids: number[];
  vals: number[];
}

function* runThread(
  k: KernelBase & SimOpsBound & ProgOpsBound,
  ops: Op[],
  vars: Vars,
  locks: Spinlock[],
  regs: number[],
): Gen {
  for (const op of ops) {
    switch (op.t) {
      case "read":
        k.R(vars.ids[op.v], E_READ);
        yield;
        regs[op.reg] = vars.vals[op.v];
        break;
      case "write":
        k.W(vars.ids[op.v], E_WRITE);
        yield;
        vars.vals[op.v] = regs[op.reg] + op.add;
        break;
      case "inc":
        k.W(vars.ids[op.v], E_INC);
        yield;
        vars.vals[op.v]++;
        break;
      case "lock":
        yield* k.spin_lock(locks[op.l]);
        break;
      case "unlock":
        yield* k.spin_unlock(locks[op.l]);
        break;
      case "choose":
        k.R(vars.ids[0], E_READ);
        yield;
        regs[op.reg] = k.choose(2, "coin") * 10 + vars.vals[0];
        break;
      case "irqoff":
        yield* k.local_irq_disable();
        break;
      case "irqon":
        yield* k.local_irq_enable();
        break;
      case "ipi": {
        // every other CPU adds 100 to variable v in its interrupt context
        yield* k.smp_call_function(
          "prog_ipi",
          function* (kk: KernelBase, a: unknown): Gen {
            kk.W(vars.ids[a as number], E_HANDLER);
            yield;
            vars.vals[a as number] += 100;
          },
          op.v,
          true,
        );
        break;
      }
      case "rcu":
        yield* k.call_rcu_sched("prog_rcu", progRcu, { vars, v: op.v });
        break;
      case "call": {
        const local = [0];
        let x = 0;
        if (op.how === 0) x = (yield* k.prog_get(vars, op.v)) as number;
        else if (op.how === 1) yield* k.prog_get_into(vars, op.v, local);
        else x = (yield* k.prog_sum(vars, op.v)) as number;
        k.R(vars.ids[1 - op.v], E_GAP);
        yield;
        regs[op.reg] = op.how === 1 ? local[0] : x;
        break;
      }
      case "wait": {
        const v = op.v;
        const val = op.val;
        k.wait(vars.ids[v], READ, E_WAIT, () => vars.vals[v] >= val);
        yield;
        regs[op.reg] = vars.vals[v];
        break;
      }
    }
  }
}

/** The RCU callback of an `rcu` op: a read-modify-write whose result depends on what ran before it. */
function* progRcu(k: KernelBase, a: { vars: Vars; v: number }): Gen {
  k.W(a.vars.ids[a.v], E_RCU_CB);
  yield;
  a.vars.vals[a.v] = a.vars.vals[a.v] * 2 + 1;
}

const E_CALL_READ = event("prog_get", "read var");
const E_GAP = event("prog", "a step between the call and its use");

/** A modelled function with steps of its own that returns what it read. */
function* prog_get(k: KernelBase, vars: Vars, v: number): Gen<number> {
  k.R(vars.ids[v], E_CALL_READ);
  yield;
  return vars.vals[v];
}

/** The same, leaving the value in an array its caller holds (not in the world). */
function* prog_get_into(k: KernelBase & ProgOpsBound, vars: Vars, v: number, out: number[]): Gen {
  out[0] = yield* k.prog_get(vars, v);
}

/** Two reads, a step apart, by nested calls: their sum. */
function* prog_sum(k: KernelBase & ProgOpsBound, vars: Vars, v: number): Gen<number> {
  const a = yield* k.prog_get(vars, v);
  const b = yield* k.prog_get(vars, 1 - v);
  return a + 10 * b;
}

const progOps = { ...simOps, prog_get, prog_get_into, prog_sum };

type SimOpsBound = { [N in keyof typeof simOps]: (...a: any[]) => any };
type ProgOpsBound = { [N in keyof typeof progOps]: (...a: any[]) => any };

let nextId = 0;

/** A scenario running `prog`: each thread on its own CPU; observation = all variables and registers. */
export function programScenario(prog: Program): ScenarioDef<typeof progOps, Record<string, never>> {
  return defineScenario({
    id: `test-prog-${nextId++}`,
    title: "generated program",
    ops: progOps,
    variants: { base: {} },
    // RCU-sched only where a thread uses it: it makes idle interrupt contexts read every CPU's state
    machine: { cpus: prog.threads.length, rcu: prog.threads.some((t) => t.some((op) => op.t === "rcu")) },
    bounds: { maxSteps: 500 },
    setup(k, m) {
      const vars: Vars = { ids: [], vals: [] };
      for (let i = 0; i < prog.vars; i++) {
        vars.ids.push(m.newObj(`v${i}`));
        vars.vals.push(0);
      }
      const locks: Spinlock[] = [];
      for (let i = 0; i < prog.locks; i++) locks.push(spin_lock_init(m, `L${i}`));
      const regs = prog.threads.map(() => [0, 0]);
      // State that outlives a step where the runtime can walk it, as base subsystems keep theirs (the
      // registers too: observe() reads them after their thread has returned)
      m.ext.prog = { vars, locks, regs };
      prog.threads.forEach((ops, c) => m.spawn(c, `t${c}`, runThread(k as never, ops, vars, locks, regs[c])));
      return {
        final() {
          if (prog.forbid !== undefined && vars.vals[0] === prog.forbid)
            k.violation("forbidden-value", `v0 = ${prog.forbid}`);
        },
        observe: () => `${vars.vals.join(",")}|${regs.map((r) => r.join(",")).join(";")}`,
      };
    },
  });
}
