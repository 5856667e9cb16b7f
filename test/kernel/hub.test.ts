// hub/jupyterhub_config.py on Debian's jupyterhub and configurable-http-proxy: two throwaway Unix users log in
// through a test authenticator (the API's username/password token request), their servers start as them, a
// released notebook runs in each through the hub's proxy with their tokens, and their copies stay apart.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { ServerConnection } from "@jupyterlab/services";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readNotebook, sourceOf, writeNotebook, type Notebook } from "../../kernel/notebook";
import { releaseNotebook } from "../../kernel/classroom/release";
import { processesOf } from "../../kernel/classroom/sandbox";
import { runNotebook } from "../../kernel/run-notebook";
import { freePort } from "../../kernel/server";
import { FIXTURES, ROOT, streamText } from "./helpers";

const hubBin = ["/usr/bin/jupyterhub", "/usr/local/bin/jupyterhub"].find((f) => fs.existsSync(f));
const asRoot = process.getuid?.() === 0;
const USERS = ["flushlab-hubtest-0", "flushlab-hubtest-1"];
const NB = "squares.ipynb";

let base = "";
let release = "";
let hub: ChildProcess | undefined;
let hubLog = "";
let port = 0;
const password = randomBytes(12).toString("hex");
const tokens = new Map<string, string>();
const homes = new Map<string, string>();

const url = (p: string) => `http://127.0.0.1:${port}${p}`;
async function api(p: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (init.token) headers.Authorization = `token ${init.token}`;
  return fetch(url(p), { ...init, headers, redirect: "manual" });
}
const logTail = () => (fs.existsSync(hubLog) ? fs.readFileSync(hubLog, "utf8").split("\n").slice(-30).join("\n") : "");

function removeUser(u: string): void {
  for (const pid of (() => {
    try {
      return processesOf(Number(execFileSync("id", ["-u", u], { encoding: "utf8" }).trim()));
    } catch {
      return [];
    }
  })())
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  try {
    execFileSync("userdel", [u], { stdio: "ignore" });
  } catch {
    // never created
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms / 1000} s; hub log:\n${logTail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function settingsFor(user: string): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: url(`/user/${user}/`),
    wsUrl: `ws://127.0.0.1:${port}/user/${user}/`,
    token: tokens.get(user)!,
    appendToken: true,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  });
}

async function startServer(user: string): Promise<void> {
  const r = await api(`/hub/api/users/${user}/server`, { method: "POST", token: tokens.get(user) });
  expect([201, 202, 400]).toContain(r.status); // 400: already running
  await until(`${user}'s server ready`, async () => {
    const u = (await (await api(`/hub/api/users/${user}`, { token: tokens.get(user) })).json()) as {
      servers?: Record<string, { ready: boolean }>;
    };
    return u.servers?.[""]?.ready ? true : undefined;
  });
}

async function stopServer(user: string): Promise<void> {
  await api(`/hub/api/users/${user}/server`, { method: "DELETE", token: tokens.get(user) });
  await until(`${user}'s server stopped`, async () => {
    const u = (await (await api(`/hub/api/users/${user}`, { token: tokens.get(user) })).json()) as {
      servers?: Record<string, unknown>;
    };
    return u.servers?.[""] ? undefined : true;
  });
}

describe.skipIf(!hubBin || !asRoot)("JupyterHub (Debian's jupyterhub, LocalProcessSpawner, two users)", () => {
  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "flushlab-hub-"));
    fs.chmodSync(base, 0o755); // the students must traverse it to reach their homes and the release
    release = path.join(base, "release");
    fs.mkdirSync(release, { mode: 0o755 });
    const src = readNotebook(path.join(FIXTURES, "classroom", "source", NB));
    writeNotebook(path.join(release, NB), releaseNotebook(src));
    fs.chmodSync(path.join(release, NB), 0o644);
    for (const u of USERS) {
      removeUser(u);
      const home = path.join(base, "home", u);
      fs.mkdirSync(path.dirname(home), { recursive: true, mode: 0o755 });
      execFileSync("useradd", ["--create-home", "--home-dir", home, "--shell", "/usr/sbin/nologin", "--user-group", u]);
      homes.set(u, home);
    }
    port = await freePort();
    const [apiPort, proxyApiPort] = [await freePort(), await freePort()];
    const config = path.join(base, "test_config.py");
    // The repository's config, with a test authenticator instead of PAM (the users have no passwords).
    fs.writeFileSync(
      config,
      [
        "c = get_config()",
        `load_subconfig(${JSON.stringify(path.join(ROOT, "hub", "jupyterhub_config.py"))})`,
        'c.JupyterHub.authenticator_class = "dummy"',
        `c.DummyAuthenticator.password = ${JSON.stringify(password)}`,
        "",
      ].join("\n"),
    );
    hubLog = path.join(base, "hub.log");
    const log = fs.openSync(hubLog, "w");
    hub = spawn(hubBin!, ["-f", config], {
      cwd: base,
      stdio: ["ignore", log, log],
      env: {
        ...process.env,
        FLUSHLAB_HUB_PORT: String(port),
        FLUSHLAB_HUB_API_PORT: String(apiPort),
        FLUSHLAB_PROXY_API_PORT: String(proxyApiPort),
        FLUSHLAB_HUB_STATE: path.join(base, "state"),
        FLUSHLAB_RELEASE: release,
        FLUSHLAB_HUB_USERS: USERS.join(","),
      },
    });
    fs.closeSync(log);
    await until("the hub answers", async () => ((await api("/hub/api")).ok ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    if (hub && hub.exitCode === null) {
      const exited = new Promise((r) => hub!.once("exit", r));
      hub.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (hub.exitCode === null) hub.kill("SIGKILL");
    }
    for (const u of USERS) removeUser(u);
    if (base) fs.rmSync(base, { recursive: true, force: true });
  }, 60_000);

  it("logs each user in through the authenticator, and refuses a wrong password", async () => {
    const bad = await api(`/hub/api/users/${USERS[0]}/tokens`, {
      method: "POST",
      body: JSON.stringify({ auth: { username: USERS[0], password: "wrong" } }),
    });
    expect(bad.status).toBe(403);
    for (const u of USERS) {
      const r = await api(`/hub/api/users/${u}/tokens`, {
        method: "POST",
        body: JSON.stringify({ auth: { username: u, password }, note: "flushlab hub test" }),
      });
      expect(r.status, logTail()).toBe(201);
      tokens.set(u, ((await r.json()) as { token: string }).token);
    }
  });

  it("starts each server as its user, in a private copy of the release", async () => {
    for (const u of USERS) await startServer(u);
    for (const u of USERS) {
      const uid = Number(execFileSync("id", ["-u", u], { encoding: "utf8" }).trim());
      const wb = path.join(homes.get(u)!, "workbook");
      const st = fs.statSync(wb);
      expect(st.uid).toBe(uid);
      expect(st.mode & 0o777).toBe(0o700);
      expect(fs.readFileSync(path.join(wb, NB), "utf8")).toBe(fs.readFileSync(path.join(release, NB), "utf8"));
      expect(fs.statSync(path.join(wb, NB)).uid).toBe(uid);
      // The server process itself runs as the student, not root.
      const cmds = processesOf(uid).map((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, "utf8"));
      expect(cmds.some((c) => c.includes("jupyterhub-singleuser"))).toBe(true);
    }
  });

  it("runs the released notebook in each user's server through the hub, with the tslab kernel", async () => {
    const runs = await Promise.all(
      USERS.map((u) => {
        const wb = path.join(homes.get(u)!, "workbook");
        return runNotebook({
          settings: settingsFor(u),
          file: path.join(wb, NB),
          rootDir: wb,
          notebook: readNotebook(path.join(release, NB)),
          cellTimeoutMs: 60_000,
        });
      }),
    );
    for (const r of runs) {
      expect(r.error, r.error).toBeUndefined();
      expect(r.cells.filter((c) => c.status !== "ok")).toEqual([]);
      const text = r.notebook!.cells.map((c) => streamText((c.outputs ?? []) as never, "stdout")).join("");
      expect(text).toMatch(/not attempted/);
    }
  });

  it("keeps the copies apart: another user's server, files and kernel are out of reach", async () => {
    const [a, b] = USERS;
    // a's token opens nothing of b's server.
    const r = await api(`/user/${b}/api/contents/${NB}`, { token: tokens.get(a) });
    expect(r.status).not.toBe(200);
    // a's kernel cannot read b's copy, and a's edit (through the contents API) does not reach b's.
    const probe: Notebook = {
      ...readNotebook(path.join(release, NB)),
      cells: [
        {
          cell_type: "code",
          metadata: {},
          outputs: [],
          execution_count: null,
          source: `import * as fs from "fs";\ntry { fs.readFileSync(${JSON.stringify(path.join(homes.get(b)!, "workbook", NB))}); console.log("READ b"); } catch (e) { console.log("denied " + (e as any).code); }\nconsole.log("uid " + process.getuid!());`,
        },
      ],
    };
    const wa = path.join(homes.get(a)!, "workbook");
    const run = await runNotebook({
      settings: settingsFor(a),
      file: path.join(wa, "probe.ipynb"),
      rootDir: wa,
      notebook: probe,
    });
    const out = streamText((run.notebook!.cells[0].outputs ?? []) as never, "stdout");
    expect(out).toContain("denied EACCES");
    expect(out).toContain(`uid ${execFileSync("id", ["-u", a], { encoding: "utf8" }).trim()}`);
    const edited = readNotebook(path.join(release, NB));
    edited.cells[0].source = "edited by " + a;
    const put = await api(`/user/${a}/api/contents/${NB}`, {
      method: "PUT",
      token: tokens.get(a),
      body: JSON.stringify({ type: "notebook", format: "json", content: edited }),
    });
    expect(put.status, await put.text()).toBe(200);
    expect(sourceOf(readNotebook(path.join(wa, NB)).cells[0])).toBe("edited by " + a);
    expect(fs.readFileSync(path.join(homes.get(b)!, "workbook", NB), "utf8")).toBe(
      fs.readFileSync(path.join(release, NB), "utf8"),
    );
  });

  it("never overwrites a copy on the next login, and adds what was released since", async () => {
    const a = USERS[0];
    const wa = path.join(homes.get(a)!, "workbook");
    await stopServer(a);
    fs.copyFileSync(path.join(release, NB), path.join(release, "later.ipynb"));
    fs.chmodSync(path.join(release, "later.ipynb"), 0o644);
    await startServer(a);
    expect(sourceOf(readNotebook(path.join(wa, NB)).cells[0])).toBe("edited by " + a);
    expect(fs.existsSync(path.join(wa, "later.ipynb"))).toBe(true);
  });
});
