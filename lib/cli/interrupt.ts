// Ctrl-C during a search. The search is one synchronous loop, so a SIGINT handler on its thread would never run:
// the command runs in a worker thread, this thread takes the signal and raises a shared flag the search polls at
// its progress reports, and the worker prints the partial summary and exits 130. A second Ctrl-C ends at once.

import { Worker, isMainThread, parentPort, workerData } from "worker_threads";

type Run = (
  argv: string[],
  out: (s: string) => void,
  err: (s: string) => void,
  isTty: boolean,
  interrupted: () => boolean,
) => number;

interface Data {
  flushlabCli: true;
  argv: string[];
  isTty: boolean;
  flag: SharedArrayBuffer;
}

type Message = { out: string } | { err: string } | { code: number };

/** Run `argv` through `file` (the CLI's main module) in a worker; SIGINT here sets its interrupt flag. */
export function runInWorker(file: string, argv: string[], isTty: boolean): void {
  const flag = new SharedArrayBuffer(4);
  const bit = new Int32Array(flag);
  const data: Data = { flushlabCli: true, argv, isTty, flag };
  const w = new Worker(file, { workerData: data });
  const onSigint = () => {
    if (Atomics.load(bit, 0) === 1) process.exit(130);
    Atomics.store(bit, 0, 1);
  };
  process.on("SIGINT", onSigint);
  w.on("message", (m: Message) => {
    if ("out" in m) process.stdout.write(m.out + "\n");
    else if ("err" in m) process.stderr.write(m.err);
    else process.exitCode = m.code;
  });
  w.on("error", (e) => {
    process.stderr.write(`${e.stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
  w.on("exit", () => process.off("SIGINT", onSigint));
}

/** This thread is a CLI worker started by runInWorker. */
export function isCliWorker(): boolean {
  return !isMainThread && (workerData as Partial<Data> | null)?.flushlabCli === true;
}

/** The worker's side: run the command, sending its output and exit code to the main thread. */
export function cliWorker(run: Run): void {
  const d = workerData as Data;
  const bit = new Int32Array(d.flag);
  const post = (m: Message) => parentPort!.postMessage(m);
  const code = run(
    d.argv,
    (s) => post({ out: s }),
    (s) => post({ err: s }),
    d.isTty,
    () => Atomics.load(bit, 0) === 1,
  );
  post({ code });
}
