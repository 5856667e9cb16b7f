// A tslab kernel reached through @jupyterlab/services (KernelManager + SessionManager; ServiceManager
// crashes on jupyter-server 1.x), and one cell's execution collected as nbformat outputs.
import {
  KernelManager,
  SessionManager,
  type Kernel,
  type KernelMessage,
  type ServerConnection,
  type Session,
} from "@jupyterlab/services";

/** An nbformat v4 output. */
export type Output =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string }
  | {
      output_type: "display_data" | "execute_result";
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
      execution_count?: number | null;
    }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

/**
 * ok / error: the kernel's execute_reply status (tslab reports errors only here, never as an `error` message).
 * abort: tslab refused the request (its 200 ms window after an error). timeout: we interrupted the cell.
 * dead: the kernel died or was restarted under us; the notebook cannot go on.
 */
export type CellStatus = "ok" | "error" | "abort" | "timeout" | "dead";

export interface CellResult {
  status: CellStatus;
  executionCount: number | null;
  outputs: Output[];
  ms: number;
  /** iopub message types seen, in order (tests use it to check tslab's protocol quirks). */
  iopubTypes: string[];
  /** The execute_request's msg_id: iopub messages that arrive later with it as parent belong to this cell. */
  msgId: string;
}

/** Output that arrived for a cell after its reply (a timer or an unawaited promise of that cell). */
export type LateOutputHandler = (msgId: string, msg: KernelMessage.IIOPubMessage) => void;

/** update_display_data replaces outputs by display_id, also in earlier cells: one map per kernel session. */
export type DisplayRegistry = Map<string, Output[]>;

export class KernelSession {
  private deadReason = "";
  private onDeath: ((why: string) => void) | null = null;
  readonly displays: DisplayRegistry = new Map();
  /** Requests whose reply came: tslab sends a timer's output with the parent header of the last request. */
  private readonly finished = new Set<string>();
  private lateHandler: LateOutputHandler | null = null;

  private constructor(
    readonly session: Session.ISessionConnection,
    readonly kernel: Kernel.IKernelConnection,
    private readonly managers: { kernels: KernelManager; sessions: SessionManager },
    readonly info: KernelMessage.IInfoReply,
    /** Session create → kernel_info_reply. */
    readonly startMs: number,
  ) {
    kernel.statusChanged.connect((_, status) => {
      // The server restarts a dead kernel on its own ("restarting"); services then says "autorestarting".
      if (status === "dead") this.markDead("the kernel process died and the server could not restart it");
      else if (status === "autorestarting" || status === "restarting")
        this.markDead("the kernel process died; the server restarted it, so all state is gone");
    });
    kernel.connectionStatusChanged.connect((_, status) => {
      if (status === "disconnected") this.markDead("connection to the server lost");
    });
    kernel.iopubMessage.connect((_, msg) => {
      const parent = (msg.parent_header as { msg_id?: string }).msg_id;
      if (parent && this.finished.has(parent) && msg.header.msg_type !== "status") this.lateHandler?.(parent, msg);
    });
  }

  /** Receives iopub output that arrives for an already finished cell. */
  onLateOutput(handler: LateOutputHandler): void {
    this.lateHandler = handler;
  }

  /** Starts a kernel whose cwd is the directory of `path` (relative to the server's root_dir). */
  static async open(settings: ServerConnection.ISettings, path: string, kernelName = "tslab"): Promise<KernelSession> {
    const t0 = Date.now();
    const kernels = new KernelManager({ serverSettings: settings });
    const sessions = new SessionManager({ kernelManager: kernels, serverSettings: settings });
    try {
      await sessions.ready;
      const session = await sessions.startNew({ path, type: "notebook", name: path, kernel: { name: kernelName } });
      const kernel = session.kernel;
      if (!kernel) throw new Error(`session ${path} has no kernel`);
      const info = await kernel.info;
      return new KernelSession(session, kernel, { kernels, sessions }, info, Date.now() - t0);
    } catch (e) {
      sessions.dispose();
      kernels.dispose();
      throw e;
    }
  }

  get dead(): string {
    return this.deadReason;
  }

  private markDead(why: string): void {
    if (this.deadReason) return;
    this.deadReason = why;
    this.onDeath?.(why);
  }

  /** Runs one cell; never throws for cell-level failures, they come back as a status. */
  /** `silent`: an internal request of the runner, kept out of the kernel's history. */
  async execute(code: string, timeoutMs: number, silent = false): Promise<CellResult> {
    const t0 = Date.now();
    const outputs: Output[] = [];
    const iopubTypes: string[] = [];
    if (this.deadReason) return { status: "dead", executionCount: null, outputs, ms: 0, iopubTypes, msgId: "" };
    const future = this.kernel.requestExecute({
      code,
      store_history: !silent,
      stop_on_error: false,
      allow_stdin: false,
      silent: false,
    });
    const msgId = future.msg.header.msg_id;
    future.onIOPub = (msg) => {
      iopubTypes.push(msg.header.msg_type);
      collect(msg, outputs, this.displays);
    };
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const died = new Promise<"dead">((resolve) => (this.onDeath = () => resolve("dead")));
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    const done = future.done.then(
      (reply) => reply,
      () => "dead" as const,
    );
    try {
      let first = await Promise.race([done, timeout, died]);
      if (first === "timeout") {
        timedOut = true;
        await this.kernel.interrupt().catch(() => undefined);
        // An interrupted tslab cell replies within milliseconds; a kernel that does not is as good as dead.
        let grace: NodeJS.Timeout | undefined;
        first = await Promise.race([
          done,
          died,
          new Promise<"dead">((r) => (grace = setTimeout(() => r("dead"), 10_000))),
        ]);
        clearTimeout(grace);
        if (first === "dead" && !this.deadReason)
          this.markDead(`kernel did not answer an interrupt after the ${timeoutMs} ms cell timeout`);
      }
      if (first === "dead") {
        // A reply may still be in flight when the death is noticed; the death wins, the cell did not finish.
        if (!this.deadReason) this.markDead("kernel connection closed during the cell");
        return { status: "dead", executionCount: null, outputs, ms: Date.now() - t0, iopubTypes, msgId };
      }
      const reply = first as KernelMessage.IExecuteReplyMsg;
      const content = reply.content as { status: string; execution_count?: number | null };
      const status: CellStatus = timedOut
        ? "timeout"
        : content.status === "ok"
          ? "ok"
          : content.status === "abort" || content.status === "aborted"
            ? "abort"
            : "error";
      return {
        status,
        executionCount: content.execution_count ?? null,
        outputs,
        ms: Date.now() - t0,
        iopubTypes,
        msgId,
      };
    } finally {
      this.finished.add(msgId);
      clearTimeout(timer);
      this.onDeath = null;
      future.dispose();
    }
  }

  /** Shuts the kernel down (best effort: a dead kernel may already be gone) and releases the managers. */
  async close(): Promise<void> {
    // After a death the server restarts the kernel; a shutdown before the new kernel is up fails with a 500
    // (jupyter_client's `ready` future is unset), so wait for it to answer kernel_info first.
    if (this.deadReason) {
      await withTimeout(this.connected(), 15_000);
      await withTimeout(
        this.kernel.requestKernelInfo().catch(() => undefined),
        15_000,
      );
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.session.shutdown();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.session.dispose();
    this.managers.sessions.dispose();
    this.managers.kernels.dispose();
  }

  /** Resolves when services has its websocket back (it reconnects on its own after an auto-restart). */
  private connected(): Promise<void> {
    if (this.kernel.connectionStatus === "connected") return Promise.resolve();
    return new Promise((resolve) => {
      const on = (_: unknown, status: string) => {
        if (status !== "connected") return;
        this.kernel.connectionStatusChanged.disconnect(on);
        resolve();
      };
      this.kernel.connectionStatusChanged.connect(on);
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

// services starts `reconnect()` after an auto-restart without awaiting it; if we dispose first, that promise
// rejects with this exact message and nobody can catch it. Anything else stays fatal, as Node's default.
process.on("unhandledRejection", (reason) => {
  if (reason instanceof Error && reason.message === "Kernel connection disconnected") return;
  throw reason;
});

/** Applies one iopub message to the cell's outputs, the way nbclient builds an executed notebook. */
export function collect(msg: KernelMessage.IIOPubMessage, outputs: Output[], displays: DisplayRegistry): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- content's shape depends on msg_type, switched on below
  const c = msg.content as any;
  switch (msg.header.msg_type) {
    case "stream": {
      const last = outputs[outputs.length - 1];
      if (last?.output_type === "stream" && last.name === c.name) last.text += c.text;
      else outputs.push({ output_type: "stream", name: c.name, text: c.text });
      break;
    }
    case "display_data":
    case "execute_result": {
      const out: Output =
        msg.header.msg_type === "execute_result"
          ? {
              output_type: "execute_result",
              data: c.data,
              metadata: c.metadata ?? {},
              execution_count: c.execution_count ?? null,
            }
          : { output_type: "display_data", data: c.data, metadata: c.metadata ?? {} };
      outputs.push(out);
      const id: string | undefined = c.transient?.display_id;
      if (id) displays.set(id, [...(displays.get(id) ?? []), out]);
      break;
    }
    case "update_display_data": {
      for (const o of displays.get(c.transient?.display_id) ?? []) {
        if (o.output_type === "display_data" || o.output_type === "execute_result") {
          o.data = c.data;
          o.metadata = c.metadata ?? {};
        }
      }
      break;
    }
    case "error":
      outputs.push({ output_type: "error", ename: c.ename, evalue: c.evalue, traceback: c.traceback ?? [] });
      break;
    case "clear_output":
      outputs.length = 0;
      break;
  }
}
