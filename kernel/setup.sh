#!/usr/bin/env bash
# Prepare everything the workbook needs: Jupyter, the tslab kernelspec, the built library.
# Idempotent: every step checks before it acts, so the README's commands run it every time.
# Nothing is written to $HOME: Jupyter's config, data, runtime and kernelspecs live in <project>/.jupyter.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JDIR="$ROOT/.jupyter"
export JUPYTER_PATH="$JDIR/share/jupyter"
export JUPYTER_DATA_DIR="$JDIR/data"
export JUPYTER_RUNTIME_DIR="$JDIR/runtime"
export JUPYTER_CONFIG_DIR="$JDIR/config"
export IPYTHONDIR="$JDIR/ipython"
# The kernelspec starts tslab through `#!/usr/bin/env node`: make that the node running us.
export PATH="$(dirname "$(command -v node)"):$PATH"

JUPYTER_APT=(jupyter-server python3-nbclassic jupyter-nbconvert)
BROWSER_APT=(chromium)
# A class on one machine (hub/jupyterhub_config.py): Debian's hub, which brings node-configurable-http-proxy.
HUB_APT=(jupyterhub)

say() { if [ -z "${FLUSHLAB_SETUP_QUIET:-}" ]; then echo "setup: $*"; fi; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }

# The Python interpreter behind a `jupyter` script, read from its shebang.
python_of() {
  local line; line="$(head -n1 "$1" 2>/dev/null || true)"
  case "$line" in
    "#!"*"/env "*) command -v "${line##* }" 2>/dev/null || true ;;
    "#!"*) line="${line#\#!}"; echo "${line%% *}" ;;
  esac
}

# A Jupyter is usable if its Python has everything the runner drives (server, client, nbconvert, nbformat).
jupyter_usable() {
  local py; py="$(python_of "$1")"
  [ -n "$py" ] && [ -x "$py" ] || return 1
  "$py" -c 'import jupyter_server, jupyter_client, nbconvert, nbformat' >/dev/null 2>&1 || return 1
  "$py" -m jupyter_server --version >/dev/null 2>&1 || return 1
  echo "$py"
}

# Candidates: the Jupyter on PATH first, Debian's second (the python3 first on PATH may lack Jupyter).
find_jupyter() {
  local j py
  for j in "$(command -v jupyter 2>/dev/null || true)" /usr/bin/jupyter; do
    [ -n "$j" ] && [ -x "$j" ] || continue
    if py="$(jupyter_usable "$j")"; then echo "$j $py"; return 0; fi
  done
  return 1
}

can_apt() { [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_install() {
  say "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

find_chromium() {
  local c
  for c in "${FLUSHLAB_CHROMIUM:-}" /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)"; do
    [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
  done
  return 1
}

# `setup.sh --print-jupyter`: only report which Jupyter the checks accept (used by the tests).
if [ "${1:-}" = "--print-jupyter" ]; then
  find_jupyter || { echo "none"; exit 1; }
  exit 0
fi

# 1. Jupyter and Chromium.
found="$(find_jupyter || true)"
chromium="$(find_chromium || true)"
need=()
[ -n "$found" ] || need+=("${JUPYTER_APT[@]}")
[ -n "$chromium" ] || need+=("${BROWSER_APT[@]}")
if ! command -v jupyterhub >/dev/null 2>&1 && can_apt; then need+=("${HUB_APT[@]}"); fi
if [ "${#need[@]}" -gt 0 ]; then
  if can_apt; then
    apt_install "${need[@]}"
    found="$(find_jupyter || true)"
    chromium="$(find_chromium || true)"
  elif [ -z "$found" ]; then
    die "no usable Jupyter found (need jupyter_server, jupyter_client, nbconvert and nbformat in one Python).
  On Debian/Ubuntu, as root:  apt-get install -y ${JUPYTER_APT[*]} ${BROWSER_APT[*]}
  Elsewhere:                  python3 -m pip install jupyter-server nbclassic nbconvert   (and put 'jupyter' on PATH)"
  else
    echo "setup: WARNING: no Chromium found; the browser tests need it (Debian: apt-get install -y chromium)." >&2
  fi
fi
[ -n "$found" ] || die "Jupyter still not usable after installing ${need[*]}"
JUPYTER="${found%% *}"
PY="${found#* }"
say "jupyter: $JUPYTER (python $PY)"

# 2. `require("flushlab")` from notebooks/: Node10 resolution walks up to node_modules/flushlab.
# npm prunes links it does not know about, so recreate it on every run (the same script is npm's prepare step).
node "$ROOT/kernel/link-self.js" "$ROOT"

# 3. Build the library and the kernel tooling.
say "building (npm run build)"
(cd "$ROOT" && npm run build --silent)

# 4. The tslab kernelspec, under our own prefix, with an absolute binary path.
mkdir -p "$JUPYTER_PATH" "$JUPYTER_DATA_DIR" "$JUPYTER_RUNTIME_DIR" "$JUPYTER_CONFIG_DIR"
TSLAB_BIN="$ROOT/node_modules/.bin/tslab"
[ -x "$TSLAB_BIN" ] || die "$TSLAB_BIN is missing: run \`npm install\` first"
SPEC="$JUPYTER_PATH/kernels/tslab/kernel.json"
if ! grep -qF "\"$TSLAB_BIN\"" "$SPEC" 2>/dev/null; then
  say "registering the tslab kernelspec in $JUPYTER_PATH"
  "$TSLAB_BIN" install --python="$PY" --binary="$TSLAB_BIN" --prefix="$JDIR" >/dev/null
fi
grep -qF "\"$TSLAB_BIN\"" "$SPEC" || die "tslab kernelspec was not written to $SPEC"

# 5. What the Node tools need to know, in one file.
UI="$("$PY" - <<'EOF'
import importlib.util as u
print("lab" if u.find_spec("jupyterlab") else "nbclassic" if u.find_spec("nbclassic") else "notebook")
EOF
)"
VERSIONS="$("$PY" - <<'EOF'
import json, sys, importlib, importlib.metadata
out = {"python": sys.version.split()[0]}
for m in ["jupyter_server", "jupyter_client", "nbconvert", "nbformat", "nbclassic", "jupyterlab"]:
    try:
        mod = importlib.import_module(m)
        out[m] = getattr(mod, "__version__", None) or importlib.metadata.version(m)
    except Exception:
        pass
print(json.dumps(out))
EOF
)"
cat > "$JDIR/toolchain.json.tmp" <<EOF
{
  "root": "$ROOT",
  "jupyter": "$JUPYTER",
  "python": "$PY",
  "ui": "$UI",
  "chromium": "${chromium}",
  "env": {
    "JUPYTER_PATH": "$JUPYTER_PATH",
    "JUPYTER_DATA_DIR": "$JUPYTER_DATA_DIR",
    "JUPYTER_RUNTIME_DIR": "$JUPYTER_RUNTIME_DIR",
    "JUPYTER_CONFIG_DIR": "$JUPYTER_CONFIG_DIR",
    "IPYTHONDIR": "$IPYTHONDIR"
  },
  "versions": $VERSIONS
}
EOF
mv "$JDIR/toolchain.json.tmp" "$JDIR/toolchain.json"

# 6. Prove the server starts and runs a TypeScript cell; cached per toolchain so reruns stay fast.
STAMP="$JDIR/doctor.ok"
KEY="$(printf '%s|%s|%s|%s' "$PY" "$VERSIONS" "$(node --version)" "$(cat "$SPEC")" | cksum)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$KEY" ]; then
  say "checking that $JUPYTER can start a server and a tslab kernel"
  (cd "$ROOT" && node dist/kernel/doctor.js) || die "Jupyter at $JUPYTER could not run a tslab kernel (see above)"
  echo "$KEY" > "$STAMP"
fi
say "ready"
