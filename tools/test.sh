#!/usr/bin/env bash
# The test suite: notebooks and library in sync, every notebook run, pytest files if any, and the plain-install smoke test.
# Prints a final line `N passed, M failed` and exits non-zero when anything failed.
# Extra notebook flags (slow, gpu, browser) can be switched on with TREX_TEST_FLAGS="slow browser".
set -uo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# two notebooks run at once on 2 cores: one thread per process is faster than oversubscribing
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export HF_HOME=${HF_HOME_TEST:-$(mktemp -d)}
out=${TREX_TEST_OUT:-$(mktemp -d)}; mkdir -p "$out"
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "PASS $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; }

# 1. nbdev_clean must change no tracked notebook
nbdev_clean >/dev/null 2>&1
if git diff --quiet -- nbs; then ok "notebooks are clean (nbdev_clean changed nothing)"
else bad "nbdev_clean changed tracked notebooks: run nbdev_clean and commit"; git diff --stat -- nbs; fi

# 2. nbdev_export must change neither package (nor add files to them)
nbdev_export >/dev/null 2>&1
changed=$(git status --porcelain -- trex ftbench pkgs pyproject.toml)
if [ -z "$changed" ]; then ok "trex/ and ftbench/ match the notebooks (nbdev_export changed nothing)"
else bad "nbdev_export changed the library: run nbdev_export and commit"; echo "$changed"; fi

# 2b. no committed notebook carries saved widget state (nbdev_clean keeps it; it can weigh megabytes)
ws=$(python - <<'PY'
import json, subprocess
fs = subprocess.run(['git', 'ls-files', '*.ipynb'], capture_output=True, text=True).stdout.split()
print(' '.join(f for f in fs if 'widgets' in json.load(open(f)).get('metadata', {})))
PY
)
if [ -z "$ws" ]; then ok "no notebook carries saved widget state"
else bad "saved widget state in: $ws (strip metadata.widgets)"; fi

# 2c. README.md is written from nbs/index.ipynb
if python tools/readme.py --check; then ok "README.md matches nbs/index.ipynb"
else bad "README.md differs from nbs/index.ipynb: edit the notebook, then python tools/readme.py"; fi

# 2d. the dev environment's dependencies are consistent
if pc=$(pip check 2>&1); then ok "pip check is clean in the dev environment"
else bad "pip check in the dev environment:"; echo "$pc"; fi

# 5. (started here) the plain-install smoke test, tools/smoke.sh: a fresh venv from README's first install, without the lock.
# Mostly downloading and unpacking, so it runs beside the notebooks; TREX_SMOKE=0 skips it.
smk=""
if [ "${TREX_SMOKE:-1}" != 0 ]; then ( bash tools/smoke.sh > "$out/smoke.log" 2>&1 ) & smk=$!; fi

# 3. every notebook, two at a time, each in its own nbdev_test; the pytest files (4.) run beside them from the start:
# their children start one at a time and leave a core idle much of the time (CI: 20.5 min in sequence on 2 cores)
flags=${TREX_TEST_FLAGS:-}
pyt=""
if ls tests/test_*.py >/dev/null 2>&1; then
  ( python -m pytest -q tests -p no:cacheprovider --durations=25 > "$out/pytest.log" 2>&1; echo $? > "$out/pytest.rc" ) & pyt=$!
fi
find nbs -name '*.ipynb' -not -path '*/.*' -not -path '*/_*' -not -name '_*' | sort > "$out/nbs.txt"
run_nb() {
  local nb=$1 log="$2/$(echo "$1" | tr '/' '_').log" t0=$(date +%s)
  if nbdev_test --path "$nb" ${3:+--flags "$3"} >"$log" 2>&1; then echo "ok $nb $(( $(date +%s)-t0 ))s" >"$log.res"
  else echo "fail $nb $(( $(date +%s)-t0 ))s" >"$log.res"; fi
}
export -f run_nb
xargs -a "$out/nbs.txt" -P 2 -I{} bash -c 'run_nb "$@"' _ {} "$out" "$flags"
while read -r nb; do
  res="$out/$(echo "$nb" | tr '/' '_').log.res"
  if grep -q '^ok' "$res" 2>/dev/null; then ok "$nb ($(cut -d' ' -f3 "$res"))"
  else bad "$nb"; tail -40 "${res%.res}"; fi
done < "$out/nbs.txt"

# 4. pytest files, if any (started with the notebooks)
if [ -n "$pyt" ]; then
  wait "$pyt"; rc=$(cat "$out/pytest.rc" 2>/dev/null || echo 1)
  tail -60 "$out/pytest.log"
  p=$(grep -Eo '[0-9]+ passed' "$out/pytest.log" | tail -1 | cut -d' ' -f1); f=$(grep -Eo '[0-9]+ (failed|error)' "$out/pytest.log" | awk '{s+=$1} END {print s+0}')
  pass=$((pass+${p:-0})); fail=$((fail+${f:-0}))
  [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ] && [ $rc -ne 5 ] && bad "pytest exited $rc"
fi
# 5. the smoke test's PASS/FAIL lines (started with the notebooks)
if [ -n "$smk" ]; then
  wait "$smk"
  grep -E '^(PASS|FAIL) smoke|^  resolved' "$out/smoke.log"
  p=$(grep -c '^PASS smoke' "$out/smoke.log"); f=$(grep -c '^FAIL smoke' "$out/smoke.log")
  pass=$((pass+p)); fail=$((fail+f))
  [ "$f" -gt 0 ] && tail -60 "$out/smoke.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed'   # the suite's own count line comes last
  [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && { bad "tools/smoke.sh printed no result"; tail -30 "$out/smoke.log"; }
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
