"""ftbench on the real benchmark files: the real-data pack (`ftbench.core.realdata()`) is found, every split of its seven tasks
loads with the row counts of the pack's README, and `ftbench conform all` reproduces the official scorers' numbers.

The pack is required: a missing pack FAILS. Set FTBENCH_REALDATA=<folder> to point at it, or FTBENCH_REALDATA=skip to skip."""
import json, os, subprocess, sys
from pathlib import Path
import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('HF_DATASETS_OFFLINE', '1')
pytestmark = pytest.mark.skipif(os.environ.get('FTBENCH_REALDATA') == 'skip', reason='FTBENCH_REALDATA=skip')

from ftbench.core import FTBenchError, FIXTURES, realdata, task

REFUSED, ABSENT = 'refused', 'absent'
# the pack README's table (train / validation / test), and `full`: every row of the benchmark's own test files
SIZES = {('aci_bench', None): (67, 20, 40, 40), ('aci_bench', 'test2'): (67, 20, 40, 40), ('aci_bench', 'test3'): (67, 20, 40, 40),
         ('hoc', None): (1108, 157, 315, 315),
         ('cs_bench', None): (REFUSED, 194, 1778, 1778), ('cs_bench', 'all'): (REFUSED, 236, 2183, 2183),
         ('lawbench', None): (REFUSED, 2000, 8000, 10000),
         ('omebench', None): (ABSENT, 39, 157, 196),
         ('tomg_bench', None): (4500, 9000, 36000, 45000),
         ('sst2', None): (66477, 872, 872, 872)}
CASES = [(n, s, split, want) for (n, s), ws in SIZES.items() for split, want in zip(('train', 'validation', 'test', 'full'), ws)]

def _where(): return f"{FIXTURES.parent}, {Path.cwd().resolve()} and every folder above them"

def _pack():
    "The pack's folder; a test failure naming where it was looked for when it is missing."
    try: r = realdata()
    except FTBenchError as e: pytest.fail(f"the real-data pack is missing: {e}")
    if r is None:
        pytest.fail(f"the real-data pack is missing: FTBENCH_REALDATA is unset and no folder shared/realdata was found in {_where()}. "
                    "Put the pack beside the repository (../shared/realdata), set FTBENCH_REALDATA=<folder>, or FTBENCH_REALDATA=skip to skip.")
    return r

@pytest.fixture(scope='module')
def root(): return _pack()

def test_missing_pack_fails_naming_where(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], 'realdata', lambda task=None: None)
    with pytest.raises(pytest.fail.Exception, match=r'no folder shared/realdata was found in .*every folder above them.*FTBENCH_REALDATA=skip'): _pack()

def test_pack_has_the_seven_tasks(root):
    got = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert got == sorted({n for n, _ in SIZES}), f"{root}: task folders {got}"

@pytest.mark.parametrize('name,subset,split,want', CASES, ids=[f"{n}{'-' + s if s else ''}-{sp}" for n, s, sp, _ in CASES])
def test_split_rows(root, name, subset, split, want):
    t, path = task(name, subset), realdata(name)
    if want == REFUSED:
        with pytest.raises(FTBenchError, match='refused|has no train split'): t.load(split, path=path)
    elif want == ABSENT:
        with pytest.raises(FTBenchError, match='not found'): t.load(split, path=path)
    else: assert len(t.load(split, path=path)) == want

def test_tomg_full_is_the_test_files_in_order(root):
    "`full` is every row of the nine subtask files, in file order (what the leaderboard scores)."
    rows = task('tomg_bench', 'MolOpt_QED').load('full', path=realdata('tomg_bench'))
    import csv
    with open(realdata('tomg_bench')/'MolOpt_QED.csv', newline='', encoding='utf-8') as f: src = [r['Instruction'] for r in csv.DictReader(f)]
    assert rows['Instruction'] == src

def _ftbench():
    exe = Path(sys.executable).parent/'ftbench'
    return [str(exe)] if exe.exists() else [sys.executable, '-c', 'import sys; from ftbench.cli import main; sys.exit(main())']

def test_conform_all_from_the_cli(root, tmp_path):
    """`ftbench conform all` exits 0 and writes its rows as JSON, every published number ok, on a pack of ACI-Bench
    (published predictions) and HoC (none). The whole pack's conformance (82 rows) runs in nbs/ftbench_nbs/07_conform."""
    pack = tmp_path/'pack'; pack.mkdir()
    for n in ('aci_bench', 'hoc'): (pack/n).symlink_to(root/n)
    out = tmp_path/'rows.json'
    p = subprocess.run(_ftbench() + ['conform', 'all', str(pack), '--json', str(out)], capture_output=True, text=True, timeout=600)
    assert out.exists(), f"ftbench conform all wrote no rows (exit {p.returncode}): {p.stderr[-2000:]}"
    rows = json.loads(out.read_text(encoding='utf-8'))
    off = [f"{r['task']} {r['system']} {r['metric']}: published {r['published']}, ftbench {r['ftbench']} ({r['note']})" for r in rows if r['ok'] is False]
    assert not off, f"{len(off)} of {len(rows)} rows off:\n" + '\n'.join(off)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    files = [f for f in (root/'aci_bench'/'predictions').glob('*/*.csv') if f.name != 'published.csv']
    assert sum(r['task'] == 'aci_bench' for r in rows) == 3 * len(files) >= 15      # ROUGE-1, ROUGE-2, ROUGE-L per file
    assert {r['task'] for r in rows if r['ok'] is None} == {'hoc'}
    assert p.stdout.splitlines()[-1] == f"{len(rows)} rows, 0 off"
