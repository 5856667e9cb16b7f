// The step trace: one record per executed step, kept as plain data so timelines, tests and replays can use it.

/** One executed step of the machine. */
export interface TraceStep {
  /** Step index in the execution, from 0. */
  i: number;
  /** Explorer process id (each CPU has a task context and an interrupt context). */
  proc: number;
  cpu: number;
  /** Which context of the CPU ran the step. */
  ctx: "task" | "irq";
  /** Name of the thread (task) or handler running in that context. */
  thread: string;
  /** Kernel function the step belongs to (for example `zap_pte_range`). */
  fn: string;
  /** What the step does, in the kernel's terms (for example `clear PTE`). */
  what: string;
  /** Shared object touched, by name (for example `pte[3]`), or "" for a local step. */
  obj: string;
  /** R: read, W: write or read-modify-write, -: no shared access. */
  kind: "R" | "W" | "-";
  /** Values chosen by `choose()` during this step, if any. */
  choices?: number[];
  /** Virtual time when the step completed (timed mode only), ns. */
  t?: number;
}

/** A violation found by the explorer or by a replay. */
export interface Violation {
  /** Invariant name, naming the harm (for example `hpte-multi-hit`). */
  invariant: string;
  /** What went wrong, in the kernel's terms. */
  message: string;
  /** Compact schedule string that `replay` reproduces exactly. */
  schedule: string;
  /** Number of steps up to and including the violating one. */
  steps: number;
  /** Preemptions in the schedule (switches away from a CPU that could have continued). */
  preemptions: number;
  /** Index of the violating step in `trace`. */
  at: number;
  /** Kernel functions involved in the schedule, in order of first appearance. */
  functions: string[];
  trace: TraceStep[];
}
