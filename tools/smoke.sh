#!/usr/bin/env bash
# The plain-install smoke test: what a user gets from README's first command, which CI's own environment
# (the lock, .ci/constraints.txt) does not show. A fresh virtual environment in a temp folder, made by
# `bash tools/install.sh` without `dev` and without the lock (the newest versions our bounds allow), then:
# every console script and every bench/*.py answers --help and runs nothing, `import trex.all` works,
# `pip check` is clean, and the tutorial's first session (tiny model, offline Researcher) runs its first
# steps. One PASS/FAIL line per check, then `N passed, M failed`; exits non-zero when anything failed.
# TREX_SMOKE_VENV reuses (or makes) a venv at that path instead of a temp one, and keeps it.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trex-smoke.XXXXXX")
venv=${TREX_SMOKE_VENV:-$tmp/venv}
trap 'rm -rf "$tmp"' EXIT
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} HF_HOME=$tmp/hf TREX_CACHE=$tmp/cache
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "PASS smoke: $1"; }
bad() { fail=$((fail+1)); echo "FAIL smoke: $1"; }
done_() { echo "$pass passed, $fail failed"; [ $fail -eq 0 ]; exit; }

t0=$(date +%s)
if TREX_VENV=$venv bash tools/install.sh >"$tmp/install.log" 2>&1; then ok "plain install (bash tools/install.sh: no dev, no lock) in $(( $(date +%s)-t0 )) s"
else bad "plain install (bash tools/install.sh, TREX_VENV=$venv)"; tail -30 "$tmp/install.log"; done_; fi
. "$venv/bin/activate"
python - <<'PY'
import importlib.metadata as md
ps = 'trex-ft torch transformers peft datasets accelerate bitsandbytes tokenizers huggingface-hub fastcore pydantic numpy networkx regex pandas rdkit evaluate ipywidgets plotly anthropic openai'.split()
print('  resolved: ' + ', '.join(f"{p} {md.version(p)}" for p in ps))
PY

# --help runs nothing: each in an empty folder, which must stay empty, within 120 s
helps() {   # name, command...
  local name=$1; shift; local d; d=$(mktemp -d "$tmp/help.XXXX")
  local out; out=$(cd "$d" && HOME=$d timeout 120 "$@" --help 2>&1); local rc=$?
  if [ $rc -eq 0 ] && grep -q "usage:" <<<"$out" && [ -z "$(ls -A "$d")" ]; then ok "$name --help"
  else bad "$name --help (exit $rc$([ -n "$(ls -A "$d")" ] && echo ", wrote $(ls -A "$d" | head -3 | tr '\n' ' ')"))"; tail -8 <<<"$out"; fi
}
for s in trex ftbench trex-sim; do helps "$s" "$venv/bin/$s"; done
for f in $(git ls-files 'bench/*.py'); do helps "$f" python "$root/$f"; done

if out=$(cd "$tmp" && python -c "import trex.all as a; assert a.Session and a.TreeView, 'no views'" 2>&1); then ok "import trex.all"
else bad "import trex.all"; tail -8 <<<"$out"; fi

if out=$(pip check 2>&1); then ok "pip check ($out)"; else bad "pip check"; echo "$out"; fi

# the tutorial's first session (nbs/50_tutorial.ipynb): the base model's step, a plan at the gate, one variant approved and run
t1=$(date +%s)
if out=$(cd "$tmp" && timeout 600 python - 2>&1 <<'PY'
import shutil
from pathlib import Path
from trex.session import Session
from trex.widgets import *
run_dir = Path('runs/tutorial')
s = Session.create(run_dir, task='mini_sentiment', model='tiny', gate='each', eval_limit=8, test_limit=0,
                   config=dict(max_steps=2, micro_batch=4, max_length=128))
v = s.view()
root = s.step()
assert (str(root.status), root.score is not None) == ('done', True), (root.status, root.score, root.results)
n1 = s.step()
assert str(n1.status) == 'proposed', n1.status
s.edit(n1.id, variants=[n1.plan.variants[0]])
n1 = s.approve(n1.id, run=True)
assert (str(n1.status), n1.score is not None) == ('done', True), (n1.status, n1.results)
print(f"root {root.score:.3f}, {n1.id} {n1.score:.3f}; {len(s.tree)} nodes")
PY
); then ok "tutorial session on the tiny model: base step, plan, one variant trained ($(tail -1 <<<"$out"); $(( $(date +%s)-t1 )) s)"
else bad "tutorial session on the tiny model"; tail -15 <<<"$out"; fi
done_
