"Beyond SFT: a smoke run of bench/beyond_sft.py with the tiny model on mini_order (SFT, then GRPO, DPO and longer SFT from it)."
import importlib.util, json
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def _bench():
    spec = importlib.util.spec_from_file_location('beyond_sft', ROOT/'bench'/'beyond_sft.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

@pytest.mark.slow   # ~70 CPU-s (five training/scoring child processes): run with TREX_TEST_FLAGS=slow
def test_beyond_sft_smoke(tmp_path, capsys):
    "Each objective trains from the SFT node's adapter, is scored with an interval, and the table compares it with that node."
    out = _bench().main(['--model', 'tiny', '--sft-steps', '2', '--sft-lrs', '2e-4', '--steps', '2', '--eval-limit', '8',
                         '--pairs', '16', '--out', str(tmp_path/'w'), '--json', str(tmp_path/'r.json')])
    txt = capsys.readouterr().out
    assert set(out) == {'n1_sft', 'grpo', 'dpo', 'sft'}   # sft: the longer-SFT control
    for o in ('grpo', 'dpo', 'sft'):
        r = out[o]
        assert r['status'] == 'ok' and r['ci'][0] <= r['val'] <= r['ci'][1] and r['tokens'] > 0, o
        assert r['separated'] in (True, False)
    assert len(out['grpo']['reward_curve']) == 2                       # one mean reward a GRPO step
    p = out['dpo']['pairs']
    assert p['answered'] == 16 and 0 < p['pairs'] <= 16 and p['held_out_dropped'] == 0   # curated rows: no validation or test prompt
    assert txt.count('| n') == 4 and 'separated gain over its SFT node' in txt
    assert json.loads((tmp_path/'r.json').read_text())['args']['model'] == 'tiny'
