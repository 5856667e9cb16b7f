#!/usr/bin/env bash
# Creates the unprivileged users the grader runs students' kernels as: flushlab-grader-0 … N-1, one per parallel
# grading slot (system users: no home, no login shell, each its own group). Idempotent; needs root.
set -euo pipefail
N="${1:-2}"
[ "$(id -u)" = 0 ] || { echo "sandbox-users: must run as root to create users" >&2; exit 1; }
for i in $(seq 0 $((N - 1))); do
  u="flushlab-grader-$i"
  if ! id -u "$u" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$u"
    echo "sandbox-users: created $u"
  fi
done
