// `npm run workbook [-- --param name=value ...]`: the project's main job. Starts a private jupyter-server,
// runs every notebook headless, writes out/, and stops the server by its PID on success, failure and Ctrl-C.
import * as path from "path";
import { parseArgs } from "util";
import { parseParam, type Params } from "./notebook";
import { loadToolchain, projectRoot } from "./paths";
import { Reporter } from "./reporter";
import { startJupyterServer, tail, type JupyterServer } from "./server";
import { runWorkbook } from "./workbook-run";

const USAGE = `usage: npm run workbook -- [--param name=value]... [--cell-timeout SECONDS] [--notebooks DIR] [--out DIR]
  --param name=value   set a value in each notebook's cell tagged "parameters" (JSON if it parses, else a string)
  --cell-timeout S     interrupt a cell after S seconds and count it as failed (default 300)
  --notebooks DIR      folder of notebooks to run (default notebooks/)
  --out DIR            where executed notebooks, HTML and manifest.json go (default out/)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      param: { type: "string", multiple: true, default: [] },
      "cell-timeout": { type: "string", default: "300" },
      notebooks: { type: "string", default: "notebooks" },
      out: { type: "string", default: "out" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const root = projectRoot();
  const tc = loadToolchain(root);
  const params: Params = Object.fromEntries((values.param ?? []).map(parseParam));
  const cellTimeoutMs = Number(values["cell-timeout"]) * 1000;
  if (!(cellTimeoutMs > 0)) throw new Error(`--cell-timeout wants a positive number of seconds`);
  const notebooksDir = path.resolve(root, values.notebooks!);
  const outDir = path.resolve(root, values.out!);
  if (path.relative(root, notebooksDir).startsWith("..")) throw new Error(`--notebooks must be inside the project (${root})`);

  const rep = new Reporter();
  const t0 = Date.now();
  let server: JupyterServer | null = null;
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    rep.line(`\nworkbook: ${sig}, stopping jupyter-server (pid ${server?.pid ?? "-"})`);
    void (server?.stop(3000) ?? Promise.resolve()).finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Last resort if something exits the process without going through stop(): no orphaned server.
  process.on("exit", () => {
    if (server) try { process.kill(server.pid, "SIGTERM"); } catch { /* already gone */ }
  });
  // @jupyterlab/services logs every websocket it opens with console.debug.
  console.debug = () => undefined;
  // ...and warns on every reconnect after a kernel death, which the reporter already explains.
  const warn = console.warn.bind(console);
  console.warn = (...a: unknown[]) => (String(a[0]).startsWith("Connection lost, reconnecting") ? undefined : warn(...a));

  try {
    server = await startJupyterServer({ rootDir: root, toolchain: tc, logName: "workbook-server.log" });
    const serverStartMs = Date.now() - t0;
    rep.line(`workbook: jupyter-server ${tc.versions.jupyter_server ?? ""} on ${server.baseUrl} (pid ${server.pid}) up in ${(serverStartMs / 1000).toFixed(1)} s`);
    if (Object.keys(params).length) rep.line(`workbook: parameters ${JSON.stringify(params)}`);
    const m = await runWorkbook({ root, toolchain: tc, settings: server.settings, notebooksDir, outDir, params, cellTimeoutMs, serverStartMs, reporter: rep });
    for (const e of m.errors) rep.line(`workbook: ERROR ${e}`);
    const failed = m.notebooks.filter((n) => !n.ok).length;
    rep.line(`workbook: ${m.notebooks.length} notebook(s), ${failed} failed, ${(m.totalMs / 1000).toFixed(1)} s → ${path.relative(root, path.join(outDir, "index.html"))}`);
    return m.ok ? 0 : 1;
  } catch (e) {
    rep.line(`workbook: ERROR ${(e as Error).message}`);
    if (server) rep.line(`workbook: server log ${server.logFile}:\n${tail(server.logFile)}`);
    return 1;
  } finally {
    const s = server;
    server = null;
    await s?.stop();
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error(`workbook: ${(e as Error).message}`);
  process.exit(2);
});
