// Compile-time checks of the typed entry point: every `@ts-expect-error` line must be an error, and every other
// line must compile (test/types/api.test.ts runs the compiler on this file; an unused directive is an error).
import {
  explore,
  replay,
  outcomes,
  runTimed,
  Session,
  defineScenario,
  createRegistry,
  int,
  bool,
  oneOf,
} from "../../lib/index";
import type { Gen, Kernel } from "../../lib/index";
import { lazyMmuBatch, lazyMmuBefore, lazyMmuOps } from "../../lib/fixes/lazy-mmu-batch/index";
import { splitTlbFlush } from "../../lib/fixes/split-tlb-flush/index";
import { lostUpdate } from "../../lib/examples/index";
import { simOps } from "../../lib/sim/index";
import type { KernelBase } from "../../lib/sim/kernel";
import type { PK } from "../../lib/powerpc/kernel";
import type { MmuGather } from "../../lib/mm/mmu_gather";

// ---- variants --------------------------------------------------------------------------------------------------
explore(lazyMmuBatch, { variant: "before" });
// @ts-expect-error a misspelt variant
explore(lazyMmuBatch, { variant: "befor" });
// @ts-expect-error a misspelt variant (replay)
replay(lostUpdate, { schedule: "", variant: "spinlok" });
// @ts-expect-error a misspelt variant (outcomes)
outcomes(lostUpdate, { variant: "raci" });
// @ts-expect-error a misspelt variant (runTimed)
runTimed(lostUpdate, { variant: "lock" });
// @ts-expect-error a misspelt variant (Session)
new Session(lostUpdate, { variant: "spin-lock" });
// By id the definition is not known statically: any variant name compiles (and is checked at run time).
explore("lazy-mmu-batch", { variant: "anything" });

// ---- parameters ------------------------------------------------------------------------------------------------
explore(lazyMmuBatch, { params: { pages: 2, store: false } });
// @ts-expect-error a parameter of the wrong type
explore(lazyMmuBatch, { params: { pages: "2" } });
// @ts-expect-error a boolean parameter given a number
explore(lazyMmuBatch, { params: { store: 1 } });
// @ts-expect-error a parameter the scenario does not declare
explore(lazyMmuBatch, { params: { page: 2 } });
explore(splitTlbFlush, { params: { arch: "hash" } });
// @ts-expect-error a value outside a oneOf
explore(splitTlbFlush, { params: { arch: "arm" } });
// @ts-expect-error a parameter of the wrong type (runTimed)
runTimed(lostUpdate, { params: { iterations: "many" } });
const s = new Session(lostUpdate);
const cpus: number = s.params.cpus;
// @ts-expect-error the session's params are typed from the schema
const wrong: string = s.params.iterations;

// ---- overrides -------------------------------------------------------------------------------------------------
explore(lazyMmuBatch, { overrides: { arch_leave_lazy_mmu_mode: lazyMmuBefore.arch_leave_lazy_mmu_mode } });
explore(lazyMmuBatch, {
  overrides: {
    arch_leave_lazy_mmu_mode: function* (k: PK): Gen {
      yield* k.preempt_enable();
    },
  },
});
// @ts-expect-error an override that takes a parameter the function it replaces does not
explore(lazyMmuBatch, { overrides: { arch_leave_lazy_mmu_mode: function* (_k: PK, _extra: number): Gen {} } });
// @ts-expect-error an override with the wrong return type
explore(lazyMmuBatch, {
  overrides: {
    arch_leave_lazy_mmu_mode: function* (_k: PK): Gen<string> {
      return "x";
    },
  },
});
// @ts-expect-error an override of a function the scenario does not model
explore(lazyMmuBatch, { overrides: { arch_leave_lazy_mmu: function* (_k: PK): Gen {} } });

// ---- defining a scenario -----------------------------------------------------------------------------------------
const def = defineScenario({
  id: "types-demo",
  title: "typed setup",
  ops: lazyMmuOps,
  variants: { a: {}, b: { arch_leave_lazy_mmu_mode: lazyMmuBefore.arch_leave_lazy_mmu_mode } },
  machine: (p) => ({ cpus: p.cpus }),
  params: { cpus: int(2, 4, 2), fast: bool(false), mode: oneOf(["x", "y"], "x") },
  setup(k, m, p) {
    const n: number = p.cpus;
    const f: boolean = p.fast;
    const mode: "x" | "y" = p.mode;
    // `k` is typed from the ops table: the modelled functions are there, bound.
    const pk: PK = k;
    void [n, f, mode, pk, m];
    // @ts-expect-error not a modelled function of this table
    k.zap_everything();
  },
});
explore(def, { variant: "b", params: { mode: "y" } });
// @ts-expect-error variant "c" is not defined
explore(def, { variant: "c" });

defineScenario({
  id: "types-bad-override",
  title: "a variant replacing a function that is not modelled",
  ops: simOps,
  // @ts-expect-error not a modelled function
  variants: { a: { spin_lock_twice: simOps.spin_lock } },
  machine: { cpus: 1 },
  setup() {},
});

defineScenario({
  id: "types-bad-param",
  title: "a parameter declared as a plain value",
  ops: simOps,
  variants: { a: {} },
  machine: { cpus: 1 },
  // @ts-expect-error parameters are declared with int(), bool() or oneOf()
  params: { cpus: 2 },
  setup() {},
});

// ---- IPI and RCU callbacks -------------------------------------------------------------------------------------
declare const k: Kernel<typeof lazyMmuOps>;
declare const tlb: MmuGather;
// A handler that does nothing and returns nothing.
k.smp_call_function("noop", function* () {}, null, true);
// A handler typed for the scenario's kernel and its own argument.
k.smp_call_function(
  "flush",
  function* (kk: PK, t: MmuGather): Gen {
    yield* kk.preempt_disable();
    void t;
  },
  tlb,
  true,
);
k.call_rcu_sched("free", function* (_kk: KernelBase, _t: MmuGather): Gen {}, tlb);

// ---- registries ------------------------------------------------------------------------------------------------
const reg = createRegistry(lostUpdate).add(def);
explore("lost-update", { registry: reg, variant: "racy" });
// @ts-expect-error a registry holds scenario definitions
createRegistry({ id: "not-a-scenario" });

void [cpus, wrong];
