// Cross-CPU function calls (kernel/smp.c). The sender queues the function on each target's IPI queue; a
// target runs it in interrupt context only where it has IRQs enabled. With wait=1 the sender is not runnable
// until every handler has run, so an IRQ-off CPU holds it off, as on real hardware; and such an IPI is taken by
// a CPU with IRQs on before its task's next step (the machine's prompt delivery).

import { Gen, Csd, READ, WRITE } from "./machine";
import { KernelBase } from "./kernel";
import { event } from "./event";

/**
 * An IPI handler: runs in the target CPU's interrupt context with the sender's `k` and `arg`. A method type,
 * so a handler typed for the scenario's kernel (K, PK) or that returns nothing (`function* (k) {}`) fits.
 */
export type SmpCallFunc<A = unknown> = { handler(k: KernelBase, arg: A): Gen<unknown> }["handler"];

const E_SEND = event("smp_call_function", "send IPIs", { cost: "ipi_send", counter: "IPI rounds" });
const E_SEND_MORE = event("smp_call_function", "send one more IPI", { cost: "ipi_send" });
const E_WAIT = event("smp_call_function", "wait for handlers", { cost: "ipi_wait" });
const E_UNLOCK = event("generic_smp_call_function_single_interrupt", "csd_unlock: the sender may go on", {
  cost: "mem",
});

interface CallSingleData {
  readonly fn: SmpCallFunc;
  readonly info: unknown;
  readonly csd: Csd;
}

/** The IPI handler proper: csd->func(csd->info), then csd_unlock as its own step (the handler's completion). */
function* generic_smp_call_function_single_interrupt(k: KernelBase, data: unknown): Gen {
  const d = data as CallSingleData;
  yield* d.fn(k, d.info);
  k.W(d.csd.id, E_UNLOCK);
  yield; // the machine counts the handler done when it returns, within this step
}

function* callFunctionMany<A>(
  k: KernelBase,
  targets: number[],
  name: string,
  fn: SmpCallFunc<A>,
  arg: A,
  wait: boolean,
): Gen {
  const m = k.m;
  const me = m.cur;
  if (me.irqsOff || me.irq) {
    // kernel/smp.c WARN_ON_ONCE(irqs_disabled()): two CPUs doing this to each other deadlock
    k.violation(
      "smp_call_function-irqs-off",
      `${me.name} called smp_call_function with IRQs disabled (deadlock-prone)`,
    );
    return;
  }
  if (targets.length === 0) return;
  const csd: Csd = { id: m.newObj(`csd(${name})`), pending: 0 };
  const pairs: number[] = [];
  for (const t of targets) pairs.push(m.ipiqObj[t], WRITE);
  k.multi(pairs, E_SEND);
  yield;
  const readyAt = k.now() + m.ipiLatency;
  const data: CallSingleData = { fn, info: arg, csd };
  for (const t of targets)
    m.queueIpi(t, { name, fn: generic_smp_call_function_single_interrupt, arg: data, csd, readyAt, sync: wait });
  csd.pending = targets.length;
  k.count("IPIs", targets.length);
  // the APIC send loop costs the sender once per target (x2APIC: one ICR write each)
  for (let i = 1; i < targets.length; i++) {
    k.local(E_SEND_MORE);
    yield;
  }
  if (wait) {
    k.wait(csd.id, READ, E_WAIT, () => csd.pending === 0);
    yield;
  }
}

/** smp_call_function: run `fn(arg)` on every other online CPU. */
export function* smp_call_function<A>(k: KernelBase, name: string, fn: SmpCallFunc<A>, arg: A, wait: boolean): Gen {
  const targets: number[] = [];
  for (let c = 0; c < k.m.ncpu; c++) if (c !== k.m.cur.cpu) targets.push(c);
  yield* callFunctionMany(k, targets, name, fn, arg, wait);
}

/** smp_call_function_single: run `fn(arg)` on `cpu` (not the caller's). */
export function* smp_call_function_single<A>(
  k: KernelBase,
  cpu: number,
  name: string,
  fn: SmpCallFunc<A>,
  arg: A,
  wait: boolean,
): Gen {
  yield* callFunctionMany(k, cpu === k.m.cur.cpu ? [] : [cpu], name, fn, arg, wait);
}

/** smp_call_function_many: run `fn(arg)` on the CPUs in `mask` except the caller. */
export function* smp_call_function_many<A>(
  k: KernelBase,
  mask: number,
  name: string,
  fn: SmpCallFunc<A>,
  arg: A,
  wait: boolean,
): Gen {
  const targets: number[] = [];
  for (let c = 0; c < k.m.ncpu; c++) if (c !== k.m.cur.cpu && (mask & (1 << c)) !== 0) targets.push(c);
  yield* callFunctionMany(k, targets, name, fn, arg, wait);
}
