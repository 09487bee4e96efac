"""Shared pieces of the reliability and security suite (tests/test_faults.py, test_kill.py, test_security.py...):
a tiny-model reference run made once per pytest process (in a child, with fake API keys planted in its
environment), copies of it for each fault, a runner that injects faults, and views of a run directory that
do not go through trex (SQLite read-only, file hashes)."""
import atexit, errno, functools, hashlib, json, os, shutil, sqlite3, subprocess, sys, tempfile, textwrap, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _k in ('HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE', 'TRANSFORMERS_OFFLINE'): os.environ.setdefault(_k, '1')   # as tools/test.sh runs us
KEY = 'sk-ant-api03-PLANTED-a9f3c1e7d2b8'      # planted in every environment the suite's runs see
OAI_KEY = 'sk-proj-PLANTED-5e1d77c0b4aa'
HF_KEY = 'hf_PLANTEDc3b1f9e2d7a4'
KEYS = (KEY, OAI_KEY, HF_KEY)
# the smallest settings that still train, evaluate and checkpoint: one step of work is a few seconds
TINY = dict(task='mini_sentiment', model='tiny', eval_limit=6, test_limit=0, seed=0,
            config=dict(max_steps=2, micro_batch=2, max_length=64))
_TMP = Path(tempfile.mkdtemp(prefix='trex-rel-'))
atexit.register(shutil.rmtree, _TMP, True)

def env(**kw)->dict:
    "The environment of a child run: offline, one thread, trex importable, the planted keys."
    e = {**os.environ, 'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'OMP_NUM_THREADS': '1',
         'TOKENIZERS_PARALLELISM': 'false', 'ANTHROPIC_API_KEY': KEY, 'OPENAI_API_KEY': OAI_KEY, 'HF_TOKEN': HF_KEY,
         'PYTHONPATH': os.pathsep.join([str(ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])}
    e.pop('IN_TEST', None)
    return {**e, **kw}

# A "kernel": creates the run (or loads it) and takes up to `steps` steps. argv: run_dir, steps, settings JSON.
KERNEL = textwrap.dedent('''
    import json, sys
    from pathlib import Path
    from trex.session import Session
    from trex.runners import LocalRunner
    run, steps, kw = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    r, rounds = LocalRunner(poll_s=0.1), kw.pop('rounds_now', None)
    s = Session.load(run, runner=r) if (run/'trex.db').exists() else Session.create(run, runner=r, **kw)
    if rounds is not None: s.budget = s.budget.model_copy(update=dict(rounds=rounds))   # this kernel stops sooner than the run's budget
    s.researcher.n_variants = 1                     # one variant per plan: a round is one training (as trex run --variants 1)
    print('KERNEL loaded', flush=True)
    for i in range(steps):
        n = s.step()
        print('KERNEL step', i, None if n is None else (n.id, str(n.status)), flush=True)
        if n is None: break
    print('KERNEL finished', flush=True)
''')

ROUNDS = 2   # rounds of the reference run (the root's baseline, then two one-variant nodes)

def kernel(run, steps=10, rounds=None, gate='auto')->subprocess.Popen:
    "Start a kernel process on `run` (created with the budget of `ROUNDS` rounds; `rounds` stops this kernel sooner); its stdout and stderr go to files beside `run` (`p.logs`)."
    kw = dict(TINY, budget=dict(rounds=ROUNDS), gate=gate, rounds_now=rounds)
    run = Path(run); run.parent.mkdir(parents=True, exist_ok=True)
    k = len(list(run.parent.glob('kernel-*.out')))
    logs = run.parent/f'kernel-{k}.out', run.parent/f'kernel-{k}.err'
    with open(logs[0], 'wb') as o, open(logs[1], 'wb') as e:
        p = subprocess.Popen([sys.executable, '-c', KERNEL, str(run), str(steps), json.dumps(kw)], env=env(), cwd=str(run.parent), stdout=o, stderr=e)
    p.logs = logs
    return p

def output(p)->tuple:
    "A finished kernel's (stdout, stderr) bytes."
    return tuple(f.read_bytes() for f in p.logs)

def run_kernel(run, steps=10, timeout=900, **kw)->tuple:
    "Run a kernel to its end: (stdout, stderr) bytes; fails the test if it crashed."
    p = kernel(run, steps, **kw)
    p.wait(timeout)
    out, err = output(p)
    assert p.returncode == 0, err.decode(errors='replace')[-4000:]
    return out, err

def rows(run)->list:
    "The node rows of `run/trex.db`, read-only and without trex: (id, parent, status, record dict)."
    c = sqlite3.connect(f"file:{Path(run)/'trex.db'}?mode=ro", uri=True)
    try: return [(i, p, s, json.loads(d)) for i,p,s,d in c.execute('SELECT id, parent, status, data FROM nodes ORDER BY seq')]
    finally: c.close()

def integrity(run)->str:
    "SQLite's full integrity check of `run/trex.db`, read-only."
    c = sqlite3.connect(f"file:{Path(run)/'trex.db'}?mode=ro", uri=True)
    try: return c.execute('PRAGMA integrity_check').fetchone()[0]
    finally: c.close()

def shape(run)->list:
    "The structure of a tree: per node its id, parent, status, direction, variants and their result statuses."
    return [(i, p, s, d['plan']['direction'], tuple(v['name'] for v in d['plan']['variants']),
             tuple((r['variant'], r['status']) for r in d['results'])) for i,p,s,d in rows(run)]

def copy_run(src, dst)->Path:
    "A copy of a run directory (its database closed by the process that wrote it)."
    shutil.copytree(src, dst); return Path(dst)

def file_hashes(d)->dict:
    "sha256 of every file under `d` (relative path -> digest)."
    d = Path(d)
    return {str(f.relative_to(d)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(d.rglob('*')) if f.is_file()}

VOLATILE = {'visits', 'value', 'updated', 'notes'}  # what backing up and noting legitimately change on an old node

def committed(run)->dict:
    "What a fault must not lose: each node's record (less the backed-up statistics) and its files."
    run = Path(run)
    return {i: dict(status=s, rec={k: v for k,v in d.items() if k not in VOLATILE}, visits=d['visits'], notes=d['notes'],
                    files=file_hashes(run/'nodes'/i) if (run/'nodes'/i).exists() else {}) for i,_,s,d in rows(run)}

def assert_kept(before:dict, run):
    "Every node committed in `before` is still there with the same record and files; its visits and notes only grew."
    after = committed(run)
    for i,b in before.items():
        assert i in after, f"node {i} was lost"
        a = after[i]
        if b['status'] in ('done', 'failed', 'pruned'):
            # a kill between recording a node and diagnosing it leaves it without a report; planning from it diagnoses it
            # then (OfflineResearcher.candidates): the report may be added later, nothing else may change
            ar = a['rec'] if b['rec'].get('report') is not None else {**a['rec'], 'report': None}
            assert ar == b['rec'], f"node {i}'s record changed: {sorted(k for k in b['rec'] if ar.get(k) != b['rec'][k])}"
            assert a['files'] == b['files'], f"node {i}'s files changed"
        assert a['visits'] >= b['visits'] and a['notes'][:len(b['notes'])] == b['notes'], f"node {i}'s statistics or notes went back"

@functools.cache
def reference()->dict:
    "The reference run, made once: `root` a copy with the baseline done, `full` the whole uninterrupted run (`ROUNDS` rounds)."
    if (dev := os.environ.get('TREX_REL_REFERENCE')) and (Path(dev)/'full'/'trex.db').exists():   # while writing tests: a reference made before
        d = Path(dev); return dict(root=d/'root', full=d/'full', logs=[], seconds=(0, 0), shape=shape(d/'full'))
    base = _TMP/'reference'; base.mkdir()
    run = base/'run'
    t0 = time.time()
    o1 = run_kernel(run, steps=1)
    root = copy_run(run, base/'root')
    t1 = time.time()
    o2 = run_kernel(run, steps=10)
    return dict(root=root, full=run, logs=[o1, o2], seconds=(t1-t0, time.time()-t1), shape=shape(run))

def job_seconds(run)->list:
    "Wall seconds of each variant of the run (from the stored results)."
    return [r['time_s'] for *_,d in rows(run) for r in d['results']]

def kill_jobs(under)->list:
    "SIGKILL the training children (`python -m trex.runners <job.json>`) whose job lies under `under`; their pids."
    pids = []
    for p in Path('/proc').iterdir():
        if not p.name.isdigit(): continue
        try: cmd = (p/'cmdline').read_bytes().split(b'\0')
        except OSError: continue
        if b'trex.runners' in cmd and any(str(under).encode() in c for c in cmd):
            try: os.kill(int(p.name), 9); pids.append(int(p.name))
            except ProcessLookupError: pass
    return pids

def live_jobs(under)->list:
    "Pids of the training children whose job lies under `under`."
    out = []
    for p in Path('/proc').iterdir():
        if not p.name.isdigit(): continue
        try:
            cmd = (p/'cmdline').read_bytes().split(b'\0')
            st = (p/'stat').read_text().rsplit(')', 1)[1].split()[0]
        except OSError: continue
        if b'trex.runners' in cmd and any(str(under).encode() in c for c in cmd) and st != 'Z': out.append(int(p.name))
    return out

def scan(blobs, keys=KEYS)->list:
    "Where any of `keys` (or its last 12 characters) occurs in `blobs`: [(where, key)]."
    return [(w, k) for w,b in blobs for k in keys for s in (k, k[-12:]) if s.encode() in b]

def run_files(d)->list:
    "(path, bytes) of every file under `d`."
    return [(str(f), f.read_bytes()) for f in sorted(Path(d).rglob('*')) if f.is_file()]
