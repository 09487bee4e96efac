"""Security: no code from an LLM or a run directory runs in the main process (a static scan of trex/ and ftbench/,
and injection strings through the recipe filter and template language); a whole session with planted API keys
writes them nowhere (every file of the run, the exported script, the logs, stdout and stderr are scanned; the
LLM client's own flows are in tests/test_llm_secrets.py); and names that end up in paths cannot leave the run
directory."""
import ast, json, os, subprocess, sys, textwrap
from pathlib import Path
import pytest
from hypothesis import given, settings, strategies as st
import relkit as rk
from trex.schema import Node, Plan, TrexError, Variant, validate
from trex.recipe import Recipe

# --- a static scan of the library ---

def _calls(tree):
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            f = n.func
            name = f.id if isinstance(f, ast.Name) else (f"{ast.unparse(f.value)}.{f.attr}" if isinstance(f, ast.Attribute) else '')
            yield n, name, {k.arg: k.value for k in n.keywords}

def _const(v, x): return isinstance(v, ast.Constant) and v.value is x

def _findings(src:str)->list:
    "Dangerous calls in one module's source: eval/exec, unpickling, unsafe YAML, torch.load without weights_only, shell=True, remote code."
    out = []
    for n, name, kw in _calls(ast.parse(src)):
        last = name.rsplit('.', 1)[-1]
        bad = None
        if name in ('eval', 'exec', 'compile', 'builtins.eval', 'builtins.exec', 'builtins.compile'): bad = 'runs code'
        elif name.split('.')[0] in ('pickle', 'cPickle', 'dill', 'cloudpickle', 'marshal', 'shelve') and last in ('load', 'loads', 'open', 'Unpickler'): bad = 'unpickles'
        elif name in ('joblib.load',) or (last == 'load' and 'numpy' in name.split('.')[0] and _const(kw.get('allow_pickle'), True)): bad = 'unpickles'
        elif name.endswith('torch.load') or name == 'torch.load':
            if not _const(kw.get('weights_only'), True): bad = 'torch.load without weights_only=True'
        elif name in ('yaml.load', 'yaml.load_all'):
            ld = kw.get('Loader') or (n.args[1] if len(n.args) > 1 else None)
            if ld is None or 'Safe' not in ast.unparse(ld): bad = 'yaml.load without a safe Loader'
        elif name in ('yaml.unsafe_load', 'yaml.full_load', 'yaml.unsafe_load_all'): bad = 'unsafe YAML'
        elif name in ('os.system', 'os.popen', 'os.execl', 'os.execlp', 'os.execv', 'os.execvp'): bad = 'runs a shell'
        elif name.split('.')[0] == 'subprocess' and 'shell' in kw and not _const(kw['shell'], False): bad = 'subprocess with shell'
        if 'trust_remote_code' in kw and not _const(kw['trust_remote_code'], False): bad = 'trust_remote_code (runs code from the Hub)'
        if bad: out.append(f"line {n.lineno}: {ast.unparse(n)[:120]}: {bad}")
    return out

def test_scanner_finds_what_it_looks_for():
    bad = textwrap.dedent('''
        import pickle, torch, yaml, subprocess, os
        eval(x); exec(y); pickle.loads(b); torch.load(p); torch.load(p, weights_only=False); yaml.load(s)
        yaml.load(s, Loader=yaml.FullLoader); subprocess.run(c, shell=True); os.system(c)
        AutoModel.from_pretrained(m, trust_remote_code=True)
    ''')
    good = textwrap.dedent('''
        import torch, yaml, subprocess, json
        torch.load(p, weights_only=True); yaml.safe_load(s); yaml.load(s, Loader=yaml.SafeLoader); subprocess.run([a, b])
        json.loads(s); m.eval(); model.eval()
    ''')
    assert len(_findings(bad)) == 10, _findings(bad)
    assert _findings(good) == []

LIB = sorted(p for pkg in ('trex', 'ftbench') for p in (rk.ROOT/pkg).rglob('*.py'))

@pytest.mark.parametrize('path', LIB, ids=lambda p: str(p.relative_to(rk.ROOT)))
def test_no_code_execution_in_the_library(path):
    assert _findings(path.read_text()) == []

def test_no_pickle_imported():
    "Not even imported: the library has no reason to touch pickle."
    for p in LIB:
        for n in ast.walk(ast.parse(p.read_text())):
            if isinstance(n, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in n.names] + ([n.module] if isinstance(n, ast.ImportFrom) and n.module else [])
                assert not {'pickle', 'cPickle', 'dill', 'cloudpickle', 'shelve', 'marshal'} & {m.split('.')[0] for m in mods}, f"{p}: {ast.unparse(n)}"

# --- the recipe language cannot reach Python ---

INJECT = ["__import__('os').system('touch PWNED')", "{__class__.__mro__}", "{0.__class__}", "{text.__class__.__init__.__globals__}",
          "{text!r}", "{text:{__import__}}", "${{7*7}}", "{{7*7}}", "{% import os %}", "`touch PWNED`", "$(touch PWNED)",
          "'; DROP TABLE nodes; --", "\x00{label}", "{label}{label}" * 50]

@pytest.fixture()
def rows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return [dict(id=str(i), text=s, label=s[::-1]) for i,s in enumerate(INJECT + ['plain text'])]

def _build(ops, rows):
    dd, rep = Recipe([{'op': 'source', 'rows': rows}] + ops).build()
    return list(dd['train'])

def test_templates_only_substitute_names(rows, tmp_path):
    "Placeholders are column names only; values are not re-expanded; nothing runs (no PWNED file appears)."
    out = _build([{'op': 'format', 'prompt': 'Review: {text}', 'completion': '{label}'}], rows)
    for r,o in zip(rows, out):
        assert o['prompt'][0]['content'] == f"Review: {r['text']}" and o['completion'][0]['content'] == r['label']
    for t in ("{text.__class__}", "{0}", "{text!r}", "{text[0]}", "{__import__('os')}", "{text:>10}"):   # not a bare name: left as written
        o = _build([{'op': 'format', 'prompt': t, 'completion': '{label}'}], rows[:1])
        assert o[0]['prompt'][0]['content'] == t
    for t in ("{__class__}", "{__builtins__}", "{os}", "{self}"):             # a bare name that is not a column: refused, naming it
        with pytest.raises(TrexError, match=r'placeholder .* is not a column.*Fix'): _build([{'op': 'format', 'prompt': t, 'completion': '{label}'}], rows[:1])
    assert not list(tmp_path.rglob('PWNED'))

@pytest.mark.parametrize('payload', INJECT)
def test_filter_values_are_data(rows, tmp_path, payload):
    "Injection strings as filter values, patterns and field names are compared as data or refused; never run."
    for where in ([{'field': 'text', 'in': [payload]}], [{'field': 'text', 'not_in': [payload]}], [{'field': 'text', 'regex': __import__('re').escape(payload)}],
                  [{'field': 'text', 'min_len': 1}, {'agree': ['text', 'label']}]):
        out = _build([{'op': 'filter', 'where': where}], rows)
        assert all(o in rows for o in out)
    if payload == INJECT[0]: assert [o['text'] for o in _build([{'op': 'filter', 'where': [{'field': 'text', 'in': [payload]}]}], rows)] == [payload]
    with pytest.raises(TrexError, match='Fix'): _build([{'op': 'filter', 'where': [{'field': payload, 'min_len': 0}]}], rows)
    with pytest.raises(TrexError, match='Fix'): Recipe([{'op': 'filter', 'where': [{'field': 'text', 'min_len': 0, 'code': payload}]}])
    with pytest.raises(TrexError, match='Fix'): Recipe([{'op': payload}])
    assert not list(tmp_path.rglob('PWNED'))

def test_ops_are_a_closed_set():
    "Only the listed operators exist; a Python name, a dotted path or a class is not an op."
    for op in ('eval', 'exec', 'os.system', 'trex.recipe.Source', '__init__', 'Op', 'apply', 'load'):
        with pytest.raises(TrexError, match='unknown op'): Recipe([{'op': op}])

# --- names that become paths ---

@pytest.mark.parametrize('bad', ['.', '..', '...'])
def test_dot_names_refused(bad):
    "A variant name or node id of dots would make nodes/<id>/<variant> point up the tree."
    with pytest.raises(TrexError, match='Fix'): validate(Variant, dict(name=bad), 'variant')
    with pytest.raises(TrexError, match='Fix'): validate(Node, dict(id=bad, plan=Plan(direction='baseline')), 'node')

@settings(max_examples=100, deadline=None)
@given(st.from_regex(r'[A-Za-z0-9_.\-]{1,64}', fullmatch=True), st.from_regex(r'[A-Za-z0-9_.\-]{1,64}', fullmatch=True))
def test_job_folders_stay_inside(nid, vname):
    "Any node id and variant name the schema accepts gives a job folder inside the run's nodes/ folder."
    try: validate(Node, dict(id=nid, plan=Plan(direction='baseline')), 'node'); validate(Variant, dict(name=vname), 'variant')
    except TrexError: return
    from trex.rundir import RunDir
    run = Path('/srv/runs/r1')
    d = RunDir(run).variant(nid, vname)          # the run's layout has one owner (Executor._dir asks it)
    assert os.path.normpath(d).startswith(str(run/'nodes') + os.sep) and os.path.normpath(d).count(os.sep) == str(run/'nodes').count(os.sep) + 2

# --- a whole session with planted keys ---

SESSION = textwrap.dedent('''
    import json, logging, sys
    from pathlib import Path
    from trex.fakes import FakeAnthropic, a_tool, a_error
    from trex.llm import AnthropicClient
    from trex.session import Session
    work = Path(sys.argv[1]); run = work/'run'   # a copy of the suite's reference run: its baseline done by a kernel with the keys planted
    logging.basicConfig(filename=work/'debug.log', level=logging.DEBUG)
    V = [dict(name=f"lr{k}", config=dict(learning_rate=k*1e-4, max_steps=2, micro_batch=2, max_length=64)) for k in (1, 2, 4)]
    ANS = dict(task_spec=dict(capability='sentiment of short reviews', primary_metric='accuracy'),
               plan=dict(direction='tune_hyperparameters', goal='tune lr', rationale='nothing trained yet', recipe=[{'op': 'source', 'split': 'train'}], variants=V),
               report=dict(summary='fine', conclusions=['ok']), insights=dict(insights=[dict(text='lr matters', nodes=['n1'])]))
    class ByTool(FakeAnthropic):
        "Answers each request with its tool's scripted input; every first call fails with a 529 first (the SDK retries)."
        seen = set()
        def next(self, req):
            name = ((req['body'] or {}).get('tools') or [{}])[0].get('name')
            if name not in self.seen: self.seen.add(name); return a_error(529, 'overloaded_error', 'Overloaded')
            return a_tool(name, ANS[name])
    with ByTool() as srv:
        c = AnthropicClient('claude-haiku-4-5', base_url=srv.url, max_retries=2)
        s = Session.load(run, researcher=c)
        s.gate = type(s.gate).of('each')
        n = s.step(); print(n, s.message)               # a plan from the LLM waits at the gate
        s.edit(n.id, variants=V[:1])
        n = s.approve(n.id, run=True); print(n, s.message, repr(c), repr(s), s.tree)
        try: from trex.export import export
        except ImportError as e: print('no export yet:', e)
        else: (work/'export').mkdir(); print(s.export(n, work/'export'/'recipe.py'))
        assert any(__import__('os').environ['ANTHROPIC_API_KEY'] in v for v in srv.requests[0]['headers'].values())   # the key was really used
        assert str(n.status) == 'done', s.message
''')

def test_session_writes_no_key(tmp_path):
    "The reference run (made by kernels with the keys planted) goes on with an LLM Researcher: plan, training, diagnosis, export."
    run = rk.copy_run(rk.reference()['root'], tmp_path/'run')
    from trex.store import Store
    with Store.open(run) as st: st.set_meta('session', {**st.meta('session'), 'researcher': 'AnthropicClient'})
    e = rk.env(HF_HOME=str(tmp_path/'hf'))
    p = subprocess.run([sys.executable, '-c', SESSION, str(tmp_path)], env=e, cwd=tmp_path, capture_output=True, timeout=1200)
    assert p.returncode == 0, p.stderr.decode(errors='replace')[-4000:]
    files = rk.run_files(tmp_path)
    names = {Path(f).name for f,_ in files}
    assert {'trex.db', 'debug.log', 'job.json', 'child.log', 'result.json', 'train_log.jsonl'} <= names, names
    assert b'Overloaded' in (tmp_path/'debug.log').read_bytes() or b'529' in (tmp_path/'debug.log').read_bytes()
    assert rk.scan(files + [('stdout', p.stdout), ('stderr', p.stderr)]) == []
    try: import trex.export
    except ImportError: pass
    else: assert (tmp_path/'export'/'recipe.py').exists() and 'recipe.py' in p.stdout.decode(), p.stdout.decode()[-2000:]

def test_reference_runs_wrote_no_key():
    "The suite's reference run (kernels with the keys planted) and its kernels' output hold none."
    ref = rk.reference()
    assert rk.scan(rk.run_files(ref['full'].parent) + [(f'kernel {i}', b) for i,o in enumerate(ref['logs']) for b in o]) == []
