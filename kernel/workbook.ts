// `npm run workbook [-- --param name=value ...]`: the project's main job. Starts a private jupyter-server,
// runs every notebook headless, writes out/, and stops the server by its PID on success, failure and Ctrl-C.
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { parseParam, type Params } from "./notebook";
import { loadToolchain, projectRoot } from "./paths";
import { Reporter } from "./reporter";
import { startJupyterServer, tail, type JupyterServer } from "./server";
import { checkOutDir, OutDir, OutDirError } from "./out-dir";
import { conflictMessage, listNotebooks, plannedFiles, runWorkbook } from "./workbook-run";
import { releaseWorkbook } from "./classroom/release";

const USAGE = `usage: npm run workbook -- [--param name=value]... [--cell-timeout SECONDS] [--notebooks DIR] [--out DIR]
  --param name=value   set a value in each notebook's cell tagged "parameters" (JSON if it parses, else a string)
  --cell-timeout S     interrupt a cell after S seconds and count it as failed (default 300)
  --notebooks PATH     folder of notebooks to run, or one .ipynb file (default notebooks/)
  --out DIR            where executed notebooks, HTML and manifest.json go (default out/); never a source
                       folder or workbook/, and files there that the runner did not write are never replaced`;

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
  if (!(cellTimeoutMs > 0)) throw new UsageError(`--cell-timeout wants a positive number of seconds`);
  const asked = path.resolve(root, values.notebooks!);
  const outDir = path.resolve(root, values.out!);
  if (path.relative(root, asked).startsWith(".."))
    throw new UsageError(`--notebooks must be inside the project (${root})`);
  // notebooks/ is the instructor's source (solutions, hidden tests): what runs, and lands in out/, is its release.
  const inSource = path.relative(path.join(root, "notebooks"), asked);
  const notebooksDir =
    fs.existsSync(asked) && !inSource.startsWith("..") && !path.isAbsolute(inSource)
      ? path.join(releaseWorkbook(root), inSource)
      : asked;
  // Everything that can be refused is refused before a server starts.
  const files = listNotebooks(notebooksDir);
  const sourceDir = fs.statSync(notebooksDir).isFile() ? path.dirname(notebooksDir) : notebooksDir;
  checkOutDir(outDir, [
    { dir: sourceDir, what: "the notebooks being run" },
    { dir: path.join(root, "notebooks"), what: "the workbook's source notebooks" },
    { dir: path.join(root, "workbook"), what: "the student's working copy" },
    { dir: path.join(root, "release"), what: "the released (student) notebooks" },
  ]);
  const conflicts = new OutDir(outDir).conflicts(plannedFiles(root, files));
  if (conflicts.length) throw new UsageError(conflictMessage(path.relative(root, outDir) || outDir, conflicts));

  const rep = new Reporter();
  const t0 = Date.now();
  let server: JupyterServer | null = null;
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    rep.line(`\nworkbook: ${sig}, shutting down the kernels, then jupyter-server (pid ${server?.pid ?? "-"})`);
    void (server?.stop(3000) ?? Promise.resolve()).finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Last resort if something exits the process without going through stop(): no orphaned server or kernel.
  process.on("exit", () => server?.killSync());
  // @jupyterlab/services logs every websocket it opens with console.debug.
  console.debug = () => undefined;
  // ...and warns on every reconnect after a kernel death, which the reporter already explains.
  const warn = console.warn.bind(console);
  console.warn = (...a: unknown[]) =>
    String(a[0]).startsWith("Connection lost, reconnecting") ? undefined : warn(...a);

  try {
    server = await startJupyterServer({ rootDir: root, toolchain: tc, logName: "workbook-server.log" });
    const serverStartMs = Date.now() - t0;
    rep.line(
      `workbook: jupyter-server ${tc.versions.jupyter_server ?? ""} on ${server.baseUrl} (pid ${server.pid}) up in ${(serverStartMs / 1000).toFixed(1)} s`,
    );
    if (Object.keys(params).length) rep.line(`workbook: parameters ${JSON.stringify(params)}`);
    const m = await runWorkbook({
      root,
      toolchain: tc,
      settings: server.settings,
      notebooksDir,
      outDir,
      params,
      cellTimeoutMs,
      serverStartMs,
      reporter: rep,
    });
    for (const e of m.errors) rep.line(`workbook: ERROR ${e}`);
    const failed = m.notebooks.filter((n) => !n.ok).length;
    rep.line(
      `workbook: ${m.notebooks.length} notebook(s), ${failed} failed, ${(m.totalMs / 1000).toFixed(1)} s → ${path.relative(root, path.join(outDir, "index.html"))}`,
    );
    return m.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof OutDirError) throw e;
    rep.line(`workbook: ERROR ${(e as Error).message}`);
    // The server's log only helps when the server is what failed.
    if (server && (await Promise.race([server.exited.then(() => true), Promise.resolve(false)])))
      rep.line(`workbook: server log ${server.logFile}:\n${tail(server.logFile)}`);
    return 1;
  } finally {
    const s = server;
    await s?.stop();
    server = null;
  }
}

/** Bad input: one line, exit 2, nothing started. */
class UsageError extends Error {}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`workbook: ${(e as Error).message}`);
    process.exit(2);
  },
);
