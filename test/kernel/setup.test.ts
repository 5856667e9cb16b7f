// kernel/setup.sh's choices, and the promise that Jupyter writes nothing to the user's home.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { signNotebooks } from "../../kernel/export";
import { writeNotebook, readNotebook } from "../../kernel/notebook";
import { loadToolchain } from "../../kernel/paths";
import { startJupyterServer } from "../../kernel/server";
import { KernelSession } from "../../kernel/session";
import { FIXTURES, ROOT, scratch } from "./helpers";

const setup = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync("bash", [path.join(ROOT, "kernel", "setup.sh"), ...args], { env, cwd: ROOT })
    .toString()
    .trim();

describe("kernel/setup.sh", () => {
  it("skips a `jupyter` on PATH that cannot run a server and falls back to a working one", () => {
    const bin = scratch("fake-bin");
    fs.writeFileSync(path.join(bin, "jupyter"), "#!/bin/sh\necho 'not really jupyter'\n", { mode: 0o755 });
    const chosen = setup(["--print-jupyter"], { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    expect(chosen).not.toContain(bin);
    expect(chosen).toBe(`${loadToolchain(ROOT).jupyter} ${loadToolchain(ROOT).python}`);
  });

  it("registered the tslab kernelspec under .jupyter/ with an absolute binary path", () => {
    const tc = loadToolchain(ROOT);
    expect(tc.env.JUPYTER_PATH).toBe(path.join(ROOT, ".jupyter", "share", "jupyter"));
    const spec = JSON.parse(fs.readFileSync(path.join(tc.env.JUPYTER_PATH, "kernels", "tslab", "kernel.json"), "utf8"));
    expect(spec.argv).toEqual([
      path.join(ROOT, "node_modules", ".bin", "tslab"),
      "kernel",
      "--config-path",
      "{connection_file}",
    ]);
    expect(fs.readlinkSync(path.join(ROOT, "node_modules", "flushlab"))).toBe("..");
  });

  it("runs a server, a kernel and the notary without writing anything to $HOME", async () => {
    const home = scratch("home");
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const tc = loadToolchain(ROOT);
      const server = await startJupyterServer({ rootDir: ROOT, toolchain: tc, logName: "home-test-server.log" });
      try {
        const ks = await KernelSession.open(server.settings, "test/kernel/tmp/home/check.ipynb");
        const r = await ks.execute('import { table } from "flushlab/display";\ntable([{ a: 1 }]);', 30_000);
        await ks.close();
        expect(r.status).toBe("ok");
        // The contents API is what makes the server create its notebook secret.
        const nb = path.join(home, "n.ipynb");
        writeNotebook(nb, readNotebook(path.join(FIXTURES, "cli", "params.ipynb")));
        const res = await fetch(`${server.baseUrl}api/contents/test/kernel/tmp/home/n.ipynb?token=${server.token}`);
        expect(res.status).toBe(200);
        signNotebooks(tc, [nb]);
      } finally {
        await server.stop();
      }
      fs.rmSync(path.join(home, "n.ipynb"));
      expect(fs.readdirSync(home, { recursive: true })).toEqual([]);
    } finally {
      process.env.HOME = saved;
    }
  });
});
