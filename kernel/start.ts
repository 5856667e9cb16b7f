// `npm start`: the workbook in the browser UI (JupyterLab if installed, else nbclassic) with the tslab kernel,
// on a private server over the working copy in workbook/. Prints the URL with its token; Ctrl-C stops it.
import { spawn } from "child_process";
import * as path from "path";
import { parseArgs } from "util";
import { loadToolchain, projectRoot } from "./paths";
import { freePort, startJupyterServer } from "./server";
import { seedWorkingCopy } from "./workcopy";
import { releaseWorkbook } from "./classroom/release";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      workdir: { type: "string", default: "workbook" },
      source: { type: "string" },
      port: { type: "string", default: "8888" },
    },
  });
  const root = projectRoot();
  const tc = loadToolchain(root);
  const workDir = path.resolve(root, values.workdir!);
  // By default the student's copy is seeded from the release of notebooks/ (never its solutions or hidden tests).
  const source = values.source ? path.resolve(root, values.source) : releaseWorkbook(root);
  const seeded = seedWorkingCopy(source, workDir);
  const rel = path.relative(root, workDir);
  if (seeded.copied.length) console.log(`start: copied ${seeded.copied.join(", ")} into ${rel}/`);
  if (seeded.kept.length)
    console.log(`start: kept your copies of ${seeded.kept.join(", ")} in ${rel}/ (delete one to get a fresh copy)`);

  // Port 8888 if free (a stable bookmark), else any free port.
  const port = await freePort(Number(values.port));
  const server = await startJupyterServer({ rootDir: workDir, toolchain: tc, port, logName: "ui-server.log" });
  const first = [...seeded.copied, ...seeded.kept].sort()[0];
  const q = `?token=${server.token}`;
  const home = tc.ui === "lab" ? `${server.baseUrl}lab${q}` : `${server.baseUrl}tree${q}`;
  console.log(
    `start: ${tc.ui} UI with the tslab (TypeScript) kernel, serving ${rel}/ (server pid ${server.pid}, log ${path.relative(root, server.logFile)})`,
  );
  console.log(`start: open ${home}`);
  if (first)
    console.log(
      `start: first notebook ${server.baseUrl}${tc.ui === "lab" ? "lab/tree" : "notebooks"}/${encodeURIComponent(first)}${q}`,
    );
  console.log("start: press Ctrl-C to stop");
  if ((process.env.DISPLAY || process.env.WAYLAND_DISPLAY) && !process.env.FLUSHLAB_NO_BROWSER) {
    spawn("xdg-open", [home], { stdio: "ignore", detached: true })
      .on("error", () => undefined)
      .unref();
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      console.log(`\nstart: ${sig}, stopping the server (pid ${server.pid})`);
      void server.stop().then(() => resolve(0));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    void server.exited.then((code) => {
      if (!stopping) {
        console.error(`start: the server exited (code ${code}); see ${server.logFile}`);
        resolve(1);
      }
    });
  });
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`start: ${(e as Error).message}`);
    process.exit(1);
  },
);
