#!/usr/bin/env bash
# Download the wheels the GPU machine lacks into .gpu-wheels/ (git-ignored), to carry with a `device` run.
# The GPU machine has torch, transformers, peft, accelerate, triton, pyarrow and pandas, but no internet; these travel,
# within the 64 MiB a run may carry (bitsandbytes alone is about 41 MiB). PY_VER is the GPU machine's Python (default 3.11).
#   bash bench/gpu_wheels.sh && du -sh .gpu-wheels
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ] && { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
d=.gpu-wheels; mkdir -p "$d"
v=${PY_VER:-3.11}
pyt="--python-version $v --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_28_x86_64 --only-binary=:all:"
# pure-Python or py3-none wheels, then the few compiled ones for the target Python
pip download -q --no-deps -d "$d" $pyt "bitsandbytes>=0.46.1,<1" "datasets>=4,<6" "trl>=1,<2" "liger-kernel>=0.5,<1" \
  "datasketch>=1.6,<2" "dill" "multiprocess" "fsspec" "xxhash" \
  "pydantic>=2.6,<3" "pydantic-core" "annotated-types" "typing-inspection" "networkx>=3,<4" "fastcore>=1.5.29,<2" \
  "nltk" "absl-py" "regex"
# rouge-score has no wheel on the index (sdist only): build one here, it is pure Python
pip wheel -q --no-deps -w "$d" "rouge-score>=0.1.2,<0.2"
du -sh "$d"; ls "$d"
