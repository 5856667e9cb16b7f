// Setup's last check: the chosen Jupyter starts a server and a tslab kernel that imports flushlab/display.
import { loadToolchain, projectRoot } from "./paths";
import { startJupyterServer } from "./server";
import { KernelSession } from "./session";

async function main(): Promise<void> {
  const root = projectRoot();
  const t0 = Date.now();
  console.debug = () => undefined;
  const server = await startJupyterServer({
    rootDir: root,
    toolchain: loadToolchain(root),
    logName: "doctor-server.log",
  });
  const serverMs = Date.now() - t0;
  try {
    const ks = await KernelSession.open(server.settings, "doctor.ipynb");
    try {
      const r = await ks.execute(
        'import { escapeHtml } from "flushlab/display";\nescapeHtml("<" + (40 + 2) + ">")',
        60_000,
      );
      const out = r.outputs.map((o) => ("text" in o ? o.text : "")).join("");
      if (r.status !== "ok" || !out.includes("&lt;42&gt;"))
        throw new Error(`tslab cell failed (${r.status}): ${out.trim()}`);
      console.log(`doctor: server ${serverMs} ms, tslab kernel ${ks.startMs} ms, first cell ${r.ms} ms: ok`);
    } finally {
      await ks.close();
    }
  } finally {
    await server.stop();
  }
}

main().catch((e) => {
  console.error(`doctor: ${(e as Error).message}`);
  process.exit(1);
});
