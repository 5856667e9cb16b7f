// Which scenarios are known by id: an explicit registry a test or a notebook can make for itself, and the
// default one that `explore("lazy-mmu-batch")`, the CLI and the bench look ids up in. Defining a scenario does
// not register it; whoever assembles a set of scenarios adds them (lib/scenarios.ts for the project's own).

import { ModelError } from "../sim/machine";
import type { AnyScenario } from "./scenario";

export interface Registry {
  /** Add scenarios; re-adding an id replaces it (a notebook cell run twice). */
  add(...defs: AnyScenario[]): Registry;
  /** The scenario of that id; a ModelError naming the known ids if there is none. */
  get(id: string): AnyScenario;
  has(id: string): boolean;
  /** Every scenario, in the order added. */
  list(): AnyScenario[];
}

export function createRegistry(...defs: AnyScenario[]): Registry {
  const byId = new Map<string, AnyScenario>();
  const reg: Registry = {
    add(...more) {
      for (const d of more) byId.set(d.id, d);
      return reg;
    },
    get(id) {
      const s = byId.get(id);
      if (!s) {
        const known = [...byId.keys()].sort().join(", ") || "(none)";
        throw new ModelError(`unknown scenario "${id}" (known: ${known})`);
      }
      return s;
    },
    has: (id) => byId.has(id),
    list: () => [...byId.values()],
  };
  return reg.add(...defs);
}

/** The registry ids are looked up in by default. */
export const defaultRegistry: Registry = createRegistry();

/** Every scenario of the default registry. */
export function scenarios(): AnyScenario[] {
  return defaultRegistry.list();
}

/** A scenario of the default registry by id. */
export function getScenario(id: string): AnyScenario {
  return defaultRegistry.get(id);
}

/** A definition, or an id looked up in `registry`. */
export function resolveScenario<D extends AnyScenario>(
  s: D | string,
  registry: Registry = defaultRegistry,
): D | AnyScenario {
  return typeof s === "string" ? registry.get(s) : s;
}
