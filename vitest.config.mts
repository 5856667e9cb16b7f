// Two projects: the library's unit tests, and the Jupyter toolchain tests, which alone need the real
// jupyter-server that test/global-setup.ts starts (vitest only runs a project's globalSetup when it has tests to run).
import * as path from "node:path";
import { defineConfig } from "vitest/config";

// vitest writes a secret token under $XDG_DATA_HOME (default ~/.local/share): keep it in the project.
const xdg = path.resolve(".jupyter", "xdg");
process.env.XDG_DATA_HOME = xdg;

export default defineConfig({
  test: {
    env: { XDG_DATA_HOME: xdg },
    projects: [
      {
        test: {
          name: "lib",
          include: ["test/**/*.test.ts"],
          exclude: ["test/kernel/**", "**/node_modules/**"],
          // A hang guard, not a performance check: a search of 1 s on a quiet core takes 5+ s on a loaded one.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "kernel",
          include: ["test/kernel/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          // Kernels take ~2 s to start and this machine has 2 cores: one file at a time keeps timings honest.
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
