#!/usr/bin/env bash
# Refresh CI's lock, .ci/constraints.txt: every extra (dev included) resolved by uv with `--resolution lowest-direct`,
# so that CI installs each of our requirements at its lower bound (setup.py, settings.ini) and everything below them at
# the newest version that fits. torch is the local CPU wheel (pip's find-links, /opt/wheels on these machines).
# The plain install (`bash tools/install.sh`) does not use this file; tools/smoke.sh tests the newest versions.
# Usage: bash tools/lock.sh   (uv from $UV, else from PATH, else installed into a temporary venv)
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-$(command -v uv || true)}
if [ -z "$UV" ]; then t=$(mktemp -d); trap 'rm -rf "$t"' EXIT; python3 -m venv "$t/v"; "$t/v/bin/pip" install -q uv >/dev/null 2>&1; UV=$t/v/bin/uv; fi
wheels=${TREX_WHEELS:-/opt/wheels}   # where the CPU torch wheel lies
"$UV" pip compile -q setup.py --all-extras --resolution lowest-direct --python-version 3.11 \
  --find-links "$wheels" -c .ci/torch-cpu.txt --no-emit-find-links --custom-compile-command "bash tools/lock.sh" \
  -o .ci/constraints.txt "$@"
