// Shared by the kernel tests: the globalSetup server's connection settings and scratch folders.
import * as fs from "node:fs";
import * as path from "node:path";
import { inject } from "vitest";
import { serverSettings } from "../../kernel/server";
import { projectRoot } from "../../kernel/paths";

export const ROOT = projectRoot(process.cwd());
export const FIXTURES = path.join(ROOT, "test", "kernel", "fixtures");

export function settings() {
  const { port, token } = inject("jupyter");
  return serverSettings(port, token);
}

/** A fresh, git-ignored folder inside the project (kernels and the UI server can only see inside root_dir). */
export function scratch(name: string): string {
  const dir = path.join(ROOT, "test", "kernel", "tmp", name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Text of all stream outputs of one name in a cell. */
export function streamText(
  outputs: Array<{ output_type: string; name?: string; text?: string }>,
  name: "stdout" | "stderr",
): string {
  return outputs
    .filter((o) => o.output_type === "stream" && o.name === name)
    .map((o) => o.text)
    .join("");
}

// @jupyterlab/services logs every websocket it opens.
console.debug = () => undefined;
// ...and warns on every reconnect after a kernel death, which the kill test causes on purpose.
const warn = console.warn.bind(console);
console.warn = (...a: unknown[]) => (String(a[0]).startsWith("Connection lost, reconnecting") ? undefined : warn(...a));
