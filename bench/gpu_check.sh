#!/usr/bin/env bash
# The GPU check in one script (issue: the CUDA path end to end, and the speed targets).
#
#   bash bench/gpu_check.sh            on the GPU machine, from the repository root, with the wheels in $WHEELS
#   SIZE=tiny bash bench/gpu_check.sh  anywhere (CI, on the CPU): the same steps on the tiny model, no thresholds
#
# 1. installs the carried wheels (bitsandbytes, datasets, TRL, Liger... made by `bash bench/gpu_wheels.sh`) when a
#    package is missing; 2. bench/train_throughput.py (the Executor's QLoRA path against the plain baseline);
# 3. bench/eval_throughput.py (the evaluation path against plain `generate`, batch 64); 4. bench/gpu_e2e.py (a session,
# a real CUDA OOM the ladder recovers from, a SIGKILL resume, the exported script rerun); 5. one JSON with every
# number and pass/fail: $OUT/gpu_check.json. Exit 1 when a step failed. Budget on an H100: under 8 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ] && { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
export REPEATS=${REPEATS:-1} OUT=${OUT:-$(mktemp -d)} HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
mkdir -p "$OUT"
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
WHEELS=${WHEELS:-.gpu-wheels}
t0=$(date +%s)
log() { echo "[gpu_check $(( $(date +%s) - t0 ))s] $*"; }

# 1. carried wheels, only for what is missing (the GPU machine has torch, transformers, peft, accelerate, triton)
if [ -d "$WHEELS" ]; then
  missing=$("$PY" - "$WHEELS" <<'PY'
import sys, importlib.metadata as md
from pathlib import Path
def have(dist):
    try: md.version(dist); return True
    except md.PackageNotFoundError: return False
# a wheel's file name starts with its distribution name; install only the distributions this machine lacks
print(' '.join(str(w) for w in sorted(Path(sys.argv[1]).glob('*.whl')) if not have(w.name.split('-')[0])))
PY
)
  if [ -n "$missing" ]; then
    log "installing from $WHEELS: $(for w in $missing; do basename "$w" | cut -d- -f1-2; done | tr '\n' ' ')"
    "$PY" -m pip install -q --no-index --no-deps $missing >"$OUT/pip.log" 2>&1 \
      || { log "wheel install failed (see pip.log)"; tail -5 "$OUT/pip.log"; }
  fi
fi
"$PY" -c "import trex, ftbench, datasets, peft, transformers" || { log "trex cannot import: is the repository root on the path?"; exit 1; }
"$PY" - <<'PY' > "$OUT/env.json"
import json, importlib.metadata as md, torch
def v(d):
    try: return md.version(d)
    except md.PackageNotFoundError: return None
print(json.dumps(dict(torch=torch.__version__, cuda=torch.version.cuda, device=torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu',
                      **{d: v(d) for d in ('transformers', 'peft', 'accelerate', 'bitsandbytes', 'datasets', 'trl', 'liger-kernel')})))
PY
log "environment: $(cat "$OUT/env.json")"

status=0
scale=$([ "${SIZE:-}" = tiny ] && echo 4 || echo 1)   # the tiny path on a busy 2-core CPU is slower than a GPU
step() {   # name, timeout seconds (on a GPU), command...
  local name=$1 limit=$(( $2 * scale )); shift 2
  log "start $name"
  if PYTHONPATH=$PWD timeout "$limit" "$@" > "$OUT/$name.log" 2>&1; then log "ok $name"; echo ok > "$OUT/$name.rc"
  else local rc=$?; log "FAILED $name (exit $rc)"; tail -15 "$OUT/$name.log"; echo "$rc" > "$OUT/$name.rc"; status=1; fi
}
step train_throughput 240 "$PY" bench/train_throughput.py
step eval_throughput 180 "$PY" bench/eval_throughput.py
e2e=$([ "${SIZE:-}" = tiny ] && echo "--rounds 1 --variants 2")   # on the CPU: one round of two variants is enough to run every step
step gpu_e2e 420 "$PY" bench/gpu_e2e.py $e2e

# 5. one JSON
"$PY" - <<'PY'
import json, os
from pathlib import Path
out = Path(os.environ['OUT'])
def part(n):
    f = out/f'{n}.json'
    return dict(rc=(out/f'{n}.rc').read_text().strip() if (out/f'{n}.rc').exists() else 'not run',
                result=json.loads(f.read_text()) if f.exists() else None)
res = dict(env=json.loads((out/'env.json').read_text()), size=os.environ.get('SIZE', 'gpu'),
           **{n: part(n) for n in ('train_throughput', 'eval_throughput', 'gpu_e2e')})
res['ok'] = all(res[n]['rc'] == 'ok' for n in ('train_throughput', 'eval_throughput', 'gpu_e2e'))
(out/'gpu_check.json').write_text(json.dumps(res, indent=1))
print(json.dumps({k: (v['rc'] if isinstance(v, dict) and 'rc' in v else v) for k, v in res.items()}))
PY
log "wrote $OUT/gpu_check.json"
exit $status
