"""The GPU check script works before it meets a GPU: `SIZE=tiny bash bench/gpu_check.sh` on the CPU (no thresholds).

It runs the training and evaluation throughput benchmarks and the end-to-end session (QLoRA chosen by `auto` on CUDA, LoRA
here; an out-of-memory error the ladder recovers from, injected on the CPU; a SIGKILL resume; the exported script rerun)
and writes one JSON. A GPU session runs the same script with real sizes (bench/gpu_check.sh says how).
"""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_check_tiny_on_the_cpu(tmp_path):
    env = dict(os.environ, SIZE='tiny', OUT=str(tmp_path), WHEELS=str(tmp_path/'no-wheels'), PYTHON=sys.executable,
               OMP_NUM_THREADS='1', HF_HUB_OFFLINE='1')
    p = subprocess.run(['bash', 'bench/gpu_check.sh'], cwd=ROOT, env=env, capture_output=True, text=True, timeout=2400)
    res = json.loads((tmp_path/'gpu_check.json').read_text())
    assert p.returncode == 0 and res['ok'], p.stdout[-4000:] + p.stderr[-2000:]
    assert res['size'] == 'tiny' and res['env']['device'] == 'cpu'
    tt, et = res['train_throughput']['result'], res['eval_throughput']['result']
    assert tt and et, res
    checks = {c['name']: c for c in res['gpu_e2e']['result']['checks']}
    assert all(c['ok'] for c in checks.values()), checks
    assert {'session: rounds of variants', 'out-of-memory ladder recovers', 'SIGKILL of the child: resumed from its checkpoint',
            'exported script reruns'} <= set(checks), sorted(checks)
    assert checks['out-of-memory ladder recovers']['rungs'] >= 1
    assert any('resumed from checkpoint' in l for l in checks['SIGKILL of the child: resumed from its checkpoint']['ladder'])


def test_gpu_check_help_runs_nothing(tmp_path):
    p = subprocess.run(['bash', 'bench/gpu_check.sh', '--help'], cwd=ROOT, capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, OUT=str(tmp_path/'out')))
    assert p.returncode == 0 and 'SIZE=tiny' in p.stdout, p.stdout + p.stderr
    assert not (tmp_path/'out').exists()
