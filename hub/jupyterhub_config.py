# flushlab's JupyterHub config for a class on one machine (Debian's jupyterhub 3.0 with its
# configurable-http-proxy): each student logs in as their own Unix user, and their single-user server runs as
# that user with the project's tslab kernelspec, in ~/workbook: a personal copy of the release, made on first
# login. A notebook the copy lacks is added at each start; one that exists is never overwritten.
#
#   sudo jupyterhub -f hub/jupyterhub_config.py        (after `npm install && npm run setup`, see README)
#
# Settings come from the environment so the same file serves a class and the tests:
#   FLUSHLAB_HUB_IP / FLUSHLAB_HUB_PORT   public address (default 127.0.0.1:8000; 0.0.0.0 for a class)
#   FLUSHLAB_HUB_API_PORT                 the hub's internal API (default 8081)
#   FLUSHLAB_PROXY_API_PORT               configurable-http-proxy's API (default public port + 1)
#   FLUSHLAB_HUB_STATE                    database, cookie secret, proxy pid (default <project>/.jupyter/hub)
#   FLUSHLAB_RELEASE                      the folder copied to students (default <project>/release)
#   FLUSHLAB_HUB_USERS / FLUSHLAB_HUB_ADMINS   comma-separated allowed students / instructors
import json
import os
import pathlib
import shutil
import subprocess
import sys

c = get_config()  # noqa: F821 (provided by jupyterhub when it loads this file)

ROOT = pathlib.Path(os.environ.get("FLUSHLAB_ROOT", pathlib.Path(__file__).resolve().parent.parent))
STATE = pathlib.Path(os.environ.get("FLUSHLAB_HUB_STATE", ROOT / ".jupyter" / "hub"))
TOOLCHAIN = ROOT / ".jupyter" / "toolchain.json"
if not TOOLCHAIN.exists():
    sys.exit(f"flushlab hub: {TOOLCHAIN} is missing: run `npm run setup` in {ROOT} first")
toolchain = json.loads(TOOLCHAIN.read_text())
NODE = shutil.which("node") or "/usr/bin/node"
if "FLUSHLAB_RELEASE" in os.environ:
    RELEASE = pathlib.Path(os.environ["FLUSHLAB_RELEASE"])
else:
    # Students get the release of notebooks/ (solutions and hidden tests stripped), rebuilt at each hub start.
    subprocess.run([NODE, str(ROOT / "dist" / "kernel" / "classroom" / "release.js")], cwd=ROOT, check=True)
    RELEASE = ROOT / "release"
if not RELEASE.is_dir():
    sys.exit(f"flushlab hub: no release folder {RELEASE}")

STATE.mkdir(parents=True, exist_ok=True)
os.chmod(STATE, 0o700)  # the database holds every user's token hashes, the cookie secret signs logins

port = int(os.environ.get("FLUSHLAB_HUB_PORT", "8000"))
c.JupyterHub.ip = os.environ.get("FLUSHLAB_HUB_IP", "127.0.0.1")
c.JupyterHub.port = port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("FLUSHLAB_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(os.environ.get('FLUSHLAB_PROXY_API_PORT', port + 1))}"
c.ConfigurableHTTPProxy.command = ["configurable-http-proxy"]  # Debian's node-configurable-http-proxy
# Debian installs its node modules in /usr/share/nodejs, which only Debian's own nodejs searches; a Node from
# elsewhere (nodesource, nvm) needs it on NODE_PATH to run the proxy. The spawner does not pass it to students.
if os.path.isdir("/usr/share/nodejs"):
    os.environ["NODE_PATH"] = os.pathsep.join(p for p in ["/usr/share/nodejs", os.environ.get("NODE_PATH")] if p)
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# Who may log in: PAM (the machine's Unix accounts) by default; the allowed list keeps other accounts out.
users = {u for u in os.environ.get("FLUSHLAB_HUB_USERS", "").split(",") if u}
admins = {u for u in os.environ.get("FLUSHLAB_HUB_ADMINS", "").split(",") if u}
if users or admins:
    c.Authenticator.allowed_users = users | admins
c.Authenticator.admin_users = admins

# The single-user server: LocalProcessSpawner runs `jupyterhub-singleuser` as the student's Unix user.
c.Spawner.cmd = ["jupyterhub-singleuser"]
c.Spawner.notebook_dir = "~/workbook"
c.Spawner.default_url = "/tree"
node_dir = str(pathlib.Path(NODE).parent)
c.Spawner.environment = {
    # The tslab kernelspec that setup registered (absolute path to node_modules/.bin/tslab, read-only for students).
    "JUPYTER_PATH": toolchain["env"]["JUPYTER_PATH"],
    # tslab starts through `#!/usr/bin/env node`.
    "PATH": f"{node_dir}:/usr/local/bin:/usr/bin:/bin",
}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60

# The copy is made by a child running as the student, so a symlink they plant in their home cannot make root
# write anywhere; existing files are never replaced (O_EXCL).
SEED = r"""
import os, sys, shutil
src, root, dest = sys.argv[1], sys.argv[2], os.path.expanduser("~/workbook")
os.makedirs(dest, mode=0o700, exist_ok=True)
os.chmod(dest, 0o700)
# `import "flushlab"` from ~/workbook: Node10 resolution walks up to ~/node_modules/flushlab, a link to the project.
link = os.path.expanduser("~/node_modules/flushlab")
os.makedirs(os.path.dirname(link), exist_ok=True)
if os.path.islink(link) and os.readlink(link) != root:
    os.remove(link)
if not os.path.lexists(link):
    os.symlink(root, link)
for name in sorted(os.listdir(src)):
    if not name.endswith(".ipynb"):
        continue
    try:
        fd = os.open(os.path.join(dest, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        continue
    with open(os.path.join(src, name), "rb") as f, os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(f, out)
    print("copied", name)
"""


def seed_workbook(spawner):
    import pwd

    pw = pwd.getpwnam(spawner.user.name)
    r = subprocess.run(
        [sys.executable, "-c", SEED, str(RELEASE), str(ROOT)],
        user=pw.pw_uid,
        group=pw.pw_gid,
        extra_groups=[],
        env={"HOME": pw.pw_dir, "PATH": "/usr/bin:/bin"},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=60,
    )
    if r.returncode != 0:
        raise RuntimeError(f"could not make {pw.pw_dir}/workbook: {r.stderr.strip()}")
    for line in r.stdout.split("\n"):
        if line:
            spawner.log.info("flushlab: %s: %s", spawner.user.name, line)


c.Spawner.pre_spawn_hook = seed_workbook
