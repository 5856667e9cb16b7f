// Runs setup (idempotent: build, kernelspec, checks) and starts one real jupyter-server for the kernel tests.
import { execFileSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { loadToolchain, projectRoot } from "../kernel/paths";
import { startJupyterServer } from "../kernel/server";

declare module "vitest" {
  export interface ProvidedContext {
    jupyter: { port: number; token: string; pid: number };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = projectRoot(process.cwd());
  execFileSync("bash", ["kernel/setup.sh"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, FLUSHLAB_SETUP_QUIET: "1" },
  });
  console.debug = () => undefined;
  const server = await startJupyterServer({
    rootDir: root,
    toolchain: loadToolchain(root),
    logName: "test-server.log",
  });
  project.provide("jupyter", { port: server.port, token: server.token, pid: server.pid });
  // stop() clears its own fallback timer; a stray one would keep vitest alive for 10 s after the summary.
  return () => server.stop();
}
