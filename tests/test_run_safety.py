"""The run side of a real Researcher at the wheel (issue 13): money charged to the run from Python and from the
command line, plans bounded before they run, data confined to the task's pools, Hub ids and the user's data
roots, one writer per run (two real processes), caps checked before a paid plan request, LLM waits bounded,
bad run directories as one line, read-only runs viewable. LLM calls go over real HTTP to `trex.fakes`' fake
Anthropic server, answering by tool name with the usage we script; the key planted in the environment must be
in no file of the run. Every run starts from one tiny-model run whose baseline is done, copied per test."""
import json, os, shutil, signal, subprocess, sys, tempfile, textwrap, time
from pathlib import Path
import pytest
import relkit as rk
from trex.fakes import FakeAnthropic, a_error, a_tool, slow
from trex.llm import AnthropicClient, Budget
from trex.schema import Plan, Status, TrainConfig, TrexError, Variant
from trex.session import Gate, Limits, Session
from trex.store import RunLock, Store

MODEL = 'claude-haiku-4-5'            # $1 in, $5 out per million tokens
V = [dict(name=f"lr{k}", config=dict(learning_rate=k*1e-4, max_steps=2, micro_batch=2, max_length=64)) for k in (1, 2, 4)]
def plans(n=12): return [dict(ANS['plan'], goal=f'tune lr, try {i}', variants=[dict(v, name=f"{v['name']}x{i}", config=dict(v['config'], learning_rate=v['config']['learning_rate']*(i+1), warmup_ratio=0.01*i)) for v in V]) for i in range(n)]
ANS = dict(task_spec=dict(capability='sentiment of short reviews', primary_metric='accuracy'),
           plan=dict(direction='tune_hyperparameters', goal='tune lr', rationale='nothing trained yet', recipe=[{'op': 'source', 'split': 'train'}], variants=V),
           report=dict(summary='fine', conclusions=['ok']), insights=dict(insights=[]))

class ByTool(FakeAnthropic):
    "Answers each request with its tool's scripted input, each answer with `usage` (input, output) tokens."
    def __init__(self, usage=(10, 5), plans=None, **kw): super().__init__(**kw); self.usage,self.plans = usage,list(plans or [])
    def next(self, req):
        name = ((req['body'] or {}).get('tools') or [{}])[0].get('name')
        if name == 'plan' and self.plans: return a_tool(name, self.plans.pop(0), self.usage)
        return a_tool(name, ANS.get(name, {}), self.usage)
    def asked(self, tool): return sum(1 for b in self.messages() if (b.get('tools') or [{}])[0].get('name') == tool)

@pytest.fixture(scope='module')
def base_run(tmp_path_factory):
    "A tiny-model run with its baseline done (offline Researcher, gate each, no round cap)."
    run = tmp_path_factory.mktemp('base')/'run'
    s = Session.create(run, **rk.TINY, gate='each')
    assert s.step().status == Status.done
    s.tree.store.close()
    return run

def copy(base_run, tmp_path, researcher=None, **meta)->Path:
    "A copy of the base run; `researcher` names the LLM client class it is driven by, `meta` replaces session settings."
    run = rk.copy_run(base_run, Path(tmp_path)/'run')
    with Store.open(run) as st:
        st.set_meta('session', {**st.meta('session'), **({'researcher': researcher} if researcher else {}), **meta})
    return run

TREX = 'import sys; from trex.cli import main; sys.exit(main())'   # what the `trex` console script runs

def cli(*args, timeout=300, **kw)->subprocess.CompletedProcess:
    "The `trex` command in a child process, with the planted keys in its environment."
    return subprocess.run([sys.executable, '-c', TREX, *map(str, args)], env=rk.env(), capture_output=True, text=True, timeout=timeout, **kw)

def ledger_llm(run)->tuple:
    "(dollars, rows) of the run's LLM ledger."
    with Store.open(run, create=False, readonly=True) as st: t = st.totals(kind='llm')
    return t['usd'], t['n']

def no_key(run):
    assert rk.scan(rk.run_files(run)) == [], 'a planted key is in a file of the run'

# --- 1. money: one path for the API and the CLI ---

def test_python_llm_calls_are_charged_and_capped(base_run, tmp_path, monkeypatch):
    "Session.load/create with a client: every call lands in the run's ledger and the budget stops the run before it goes over."
    monkeypatch.setenv('ANTHROPIC_API_KEY', rk.KEY)
    run = copy(base_run, tmp_path, 'AnthropicClient')
    with ByTool(usage=(4000, 1000), plans=plans()) as srv:          # $0.009 an answer
        c = AnthropicClient(MODEL, base_url=srv.url, max_retries=0)
        s = Session.load(run, researcher=c)
        s.budget = Budget(usd=0.05)
        for _ in range(12):
            n = s.step()
            if n is None: break
            assert n.status == Status.proposed, s.message
            s.prune(n.id)
        assert n is None and s.message.startswith('stopped: Budget: '), s.message
        usd, k = ledger_llm(run)
        assert 0 < usd <= 0.05, usd
        assert k == len(srv.messages()) and abs(usd - c.use.cost(MODEL)) < 1e-9      # each call charged once, none lost
        assert s.tree.store.totals('n0', kind='llm')['n'] >= 1                      # spend shown per node
    no_key(run)

def test_compute_is_priced_into_the_budget(base_run, tmp_path):
    "With a price per CPU hour, the seconds of an executed node are dollars in the ledger, and over_budget counts them."
    run = copy(base_run, tmp_path)
    s = Session.load(run)
    s.budget = Budget(usd_per_cpu_hour=3600.)                      # a dollar a CPU second
    s.gate = Gate.of('auto'); s.researcher.n_variants = 1
    n = s.step()
    assert n is not None and n.status in (Status.done, Status.failed), s.message
    t = s.tree.store.totals(n.id)
    assert t['usd'] > 0.1 and t['n'] == 1, t
    s.budget = Budget(usd=t['usd'] + 1e-3, usd_per_cpu_hour=3600.)
    assert s.over_budget(s.tree[n.id].plan).startswith(f"${t['usd']:.2f} spent of $")    # the next such plan would cross it
    assert s.step() is None and s.message.startswith('stopped: $'), s.message

def test_cli_charges_the_run_and_keeps_the_client_settings(base_run, tmp_path):
    "trex run with an LLM Researcher: the ledger has every call, the budget stops it, resume talks to the same server with the stored timeout/retries."
    with ByTool(usage=(4000, 1000), plans=plans()) as srv:
        d = tmp_path/'cli'
        r = cli('run', d, '--task', 'mini_sentiment', '--model', 'tiny', '--researcher', 'anthropic', '--llm-model', MODEL, '--base-url', srv.url,
                '--budget-usd', '0.1', '--gate', 'each', '--eval-limit', 6, '--test-limit', 0, '--llm-timeout', 20, '--llm-retries', 0)
        assert r.returncode == 4, r.stdout[-2000:] + r.stderr[-2000:]          # a plan waits at the gate
        sent = len(srv.messages())
        usd, k = ledger_llm(d)
        assert 0 < usd <= 0.1 and k == sent, (usd, k, sent)
        with Store.open(d, create=False, readonly=True) as st: x = st.meta('session')['llm']
        assert (x.get('base_url'), x.get('timeout', 20), x.get('retries', 0)) == (srv.url, 20, 0), x
        assert cli('prune', d, 'n1').returncode == 0
        asked, spent = len(srv.requests), ledger_llm(d)[0]
        r = cli('resume', d, '--steps', 3, '--budget-usd', round(spent + 0.005, 4))     # room for less than a plan request's worst case
        assert r.returncode == 3 and 'stopped: Budget: ' in r.stdout, r.stdout[-2000:] + r.stderr[-1000:]   # stopped by the dollars, before sending
        assert len(srv.requests) > asked and len(srv.messages()) == sent                                   # it counted the prompt on the same server
        usd, k = ledger_llm(d)
        assert usd == spent and k == sent                                                                   # nothing charged for the refused call
        assert 'spend by node: n0 $' in cli('show', d).stdout
    no_key(d)

def test_cli_refuses_a_key_in_the_base_url(tmp_path):
    r = cli('run', tmp_path/'r', '--task', 'mini_sentiment', '--model', 'tiny', '--researcher', 'anthropic', '--base-url', f'http://user:{rk.KEY}@127.0.0.1:9')
    assert r.returncode == 2 and 'holds credentials' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path/'r').exists()

# --- 2. plans bounded before they run ---

HUGE = [Plan(direction='tune_hyperparameters', goal='train for ever', variants=[Variant(name='huge', config=TrainConfig(max_steps=10**9))]),
        Plan(direction='tune_hyperparameters', goal='long rows', recipe=[{'op': 'source', 'split': 'train'}],
             variants=[Variant(name='long', config=TrainConfig(epochs=100, max_length=131072))])]

@pytest.mark.parametrize('i', range(len(HUGE)))
def test_absurd_plans_are_refused_and_the_run_goes_on(base_run, tmp_path, i):
    run = copy(base_run, tmp_path)
    s = Session.load(run)
    plans = [HUGE[i]]; real = s.researcher.plan
    s.researcher.plan = lambda nid: plans.pop() if plans else real(nid)
    n = s.step()
    assert n.status == Status.pruned and n.notes[-1].startswith('refused before it ran: variant'), n.notes
    assert 'refused' in s.message and 'Projected ' in s.message and 'Fix' in s.message, s.message
    assert not (run/'nodes'/n.id).exists()                          # nothing trained
    nxt = s.step()                                                   # the session goes on
    assert nxt.status == Status.proposed and nxt.id != n.id
    c = s.projected(nxt.plan)
    assert c['hours'] > 0 and '0.000' not in s.message, s.message    # a real plan never projects zero

def test_over_limits_waits_when_the_gate_says_so(base_run, tmp_path):
    run = copy(base_run, tmp_path)
    s = Session.load(run)
    s.gate, s.limits = Gate(mode='rule', over_limits='wait'), Limits(max_steps=1)
    n = s.step()
    assert n.status == Status.proposed and 'over the limits: variant' in s.message and 'steps > the limit of 1' in s.message, s.message

def test_cli_refuses_absurd_steps(base_run, tmp_path):
    "The offline Researcher started from max_steps=10**9 (trex run --train-steps 1000000000): every plan refused, then the run stops (exit 1)."
    run = copy(base_run, tmp_path, config=dict(max_steps=10**9, micro_batch=2, max_length=64))
    r = cli('resume', run, '--steps', 6)
    assert r.returncode == 1 and 'refused: variant' in r.stdout and 'stopped: the last 3 plans were refused' in r.stdout, r.stdout[-3000:]
    assert not any((run/'nodes').glob('n[1-9]*'))

# --- 3. the data a plan may read ---

def plan_with(recipe, **cfg):
    return Plan(direction='refine_data', goal='read a file', recipe=recipe, variants=[Variant(name='v', config=TrainConfig(max_steps=1, micro_batch=2, max_length=64, **cfg))])

def test_data_outside_the_roots_is_refused_and_never_read(base_run, tmp_path):
    secret = tmp_path/'secret'; secret.mkdir()
    (secret/'creds.jsonl').write_text(json.dumps(dict(text='AKIA-SECRET-4711', label='positive')) + '\n')
    ok = tmp_path/'data'; ok.mkdir()
    (ok/'link.jsonl').symlink_to(secret/'creds.jsonl')
    (ok/'good.jsonl').write_text(''.join(json.dumps(dict(text=f'good film {i}', label='positive')) + '\n' for i in range(8)))
    run = copy(base_run, tmp_path, data_roots=[str(ok)])
    s = Session.load(run)
    rel = os.path.relpath(secret/'creds.jsonl', Path.cwd())
    for path in (rel, str(secret/'creds.jsonl'), str(ok/'link.jsonl'), str(ok/'..'/'secret'/'creds.jsonl')):
        n = s.tree.add(plan_with([{'op': 'source', 'path': path}]), parent='n0', status='approved')
        n = s.execute(n.id)
        assert n.status == Status.failed and "is outside the run's data roots" in n.results[0].error and 'nothing was read' in n.results[0].error, n.results[0].error
    assert not any(b'AKIA-SECRET-4711' in f.read_bytes() for f in run.rglob('*') if f.is_file())
    path, rep, _ = s.executor.build_data([{'op': 'source', 'path': str(ok/'good.jsonl')}, {'op': 'format', 'prompt': '{text}', 'completion': '{label}'}])
    assert rep.rows == 8                                              # a file under the roots is read

def test_empty_filter_and_foreign_init_from(base_run, tmp_path):
    run = copy(base_run, tmp_path)
    s = Session.load(run)
    n = s.tree.add(plan_with([{'op': 'source', 'split': 'train'}, {'op': 'filter', 'where': [{'field': 'text', 'min_len': 10**6}]}]), parent='n0', status='approved')
    n = s.execute(n.id)
    assert n.status == Status.failed and 'recipe[1] (filter): no rows left' in n.results[0].error and 'IndexError' not in n.results[0].error, n.results[0].error
    with pytest.raises(TrexError, match="init_from: '../../x' is not a node id of this run"): s.executor.adapter('../../x')
    assert s.over_limits(plan_with([], init_from='../../x')) == "variant v: init_from '../../x' is not a node of this run"

# --- 4. one writer per run ---

HOLDER = textwrap.dedent('''
    import sys, time
    from trex.session import Session
    from trex.runners import LocalRunner
    class Slow(LocalRunner):
        "Each job sleeps `hang_s` seconds in its child first: a window in which another process tries the run."
        def run_one(self, job, progress=True): return super().run_one(job.model_copy(update=dict(faults={'hang_s': float(sys.argv[2])})), progress)
    s = Session.load(sys.argv[1], runner=Slow(poll_s=0.1))
    s.gate = type(s.gate).of('auto'); s.researcher.n_variants = 1
    print('A stepping', flush=True)
    n = s.step(); print('A done', n.id, n.status, flush=True)
''')
SECOND = textwrap.dedent('''
    import sys, time
    from trex.session import Session
    from trex.store import RunLock
    s = Session.load(sys.argv[1])                 # viewing needs no lock
    print('B sees', len(s.tree), 'nodes', flush=True)
    try: s.step(); print('B stepped while A held the run', flush=True)
    except Exception as e: print('B refused:', e, flush=True)
    t0 = time.time()
    while RunLock(sys.argv[1]).holder() and time.time() - t0 < 240: time.sleep(0.2)
    s.gate = type(s.gate).of('each')
    n = s.step(); print('B then', n.id, n.status, flush=True)
''')

def test_two_processes_never_train_a_node_twice(base_run, tmp_path):
    run = copy(base_run, tmp_path)
    a = subprocess.Popen([sys.executable, '-c', HOLDER, str(run), '6'], env=rk.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while RunLock(run).holder() is None and time.time() - t0 < 120: time.sleep(0.1)
    h = RunLock(run).holder()
    assert h and h['pid'] == a.pid, (h, a.poll())
    show = cli('show', run)
    assert show.returncode == 0 and show.stdout.startswith('n0 [done]'), show.stderr     # a reader is never refused
    busy = cli('resume', run, '--steps', 1)
    assert busy.returncode == 2 and f'is being written by another process (pid {a.pid} on' in busy.stderr and len(busy.stderr.strip().splitlines()) == 1, busy.stderr
    b = subprocess.run([sys.executable, '-c', SECOND, str(run)], env=rk.env(), capture_output=True, text=True, timeout=300)
    out_a, err_a = a.communicate(timeout=300)
    assert a.returncode == 0 and 'A done n1 done' in out_a, err_a[-3000:]
    assert b.returncode == 0 and f'B refused: run_dir: {run} is being written by another process (pid {a.pid}' in b.stdout, b.stdout + b.stderr[-3000:]
    assert 'B then n2 proposed' in b.stdout, b.stdout                                       # B read A's n1 before it stepped
    with Store.open(run, create=False, readonly=True) as st:
        assert [e['node'] for e in st.events(kind='result')].count('n1') == 1
        assert [e['data'].get('to') for e in st.events(kind='status') if e['node'] == 'n1'].count('running') == 1
    assert rk.integrity(run) == 'ok'

def test_a_dead_holders_lock_is_taken_over(base_run, tmp_path):
    run = copy(base_run, tmp_path)
    a = subprocess.Popen([sys.executable, '-c', HOLDER, str(run), '60'], env=rk.env(), stdout=subprocess.PIPE, text=True)
    assert a.stdout.readline() == 'A stepping\n'
    t0 = time.time()
    while not (run/'nodes'/'n1').exists() and time.time() - t0 < 120: time.sleep(0.1)     # n1 is training (its child sleeps first)
    assert RunLock(run).holder()['pid'] == a.pid
    a.send_signal(signal.SIGKILL); a.wait()
    for p in rk.live_jobs(run): os.kill(p, signal.SIGKILL)
    s = Session.load(run)
    s.researcher.n_variants = 1
    n = s.step()                                                   # the interrupted n1 runs again, here, once
    assert n.id == 'n1' and n.status in (Status.done, Status.failed), s.message
    taken = s.tree.store.events(kind='lock_taken_over')
    assert len(taken) == 1 and taken[0]['data']['pid'] == a.pid

# --- 5. the round cap before a paid plan request ---

def test_round_cap_is_checked_before_asking(base_run, tmp_path, monkeypatch):
    "Budget(rounds=0) after the baseline: the run stops before the Researcher is asked anything, from Python and from trex resume."
    monkeypatch.setenv('ANTHROPIC_API_KEY', rk.KEY)
    with ByTool() as srv:
        run = copy(base_run, tmp_path/'py', 'AnthropicClient')
        s = Session.load(run, researcher=AnthropicClient(MODEL, base_url=srv.url, max_retries=0))
        s.budget = Budget(rounds=0)
        assert s.step() is None and "the budget's 0 rounds are used" in s.message
        run = copy(base_run, tmp_path/'cli', 'AnthropicClient', llm=dict(kind='anthropic', model=MODEL, base_url=srv.url))
        r = cli('resume', run, '--rounds', 0)
        assert r.returncode == 0 and "the budget's 0 rounds are used" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
        assert srv.messages() == []                                  # nothing was asked, nothing paid

# --- 6. the CLI bounds an LLM wait ---

def test_cli_llm_timeout_and_retries(base_run, tmp_path):
    "A run whose stored client waits 600 s with 3 retries, resumed with --llm-timeout 2 --llm-retries 0 against a server that stalls."
    with ByTool() as srv:
        srv.next = lambda req: slow(a_tool('task_spec', ANS['task_spec']), 120)
        run = copy(base_run, tmp_path, 'AnthropicClient', llm=dict(kind='anthropic', model=MODEL, base_url=srv.url, timeout=600, retries=3))
        t0 = time.time()
        r = cli('resume', run, '--steps', 1, '--llm-timeout', 2, '--llm-retries', 0)
        assert r.returncode == 1 and 'could not plan' in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
        assert len(srv.messages()) == 1 and time.time() - t0 < 90, time.time() - t0     # one try of 2 s, no retry (not 120 s, nor 4 tries)

# --- 7. bad and read-only run directories ---

def test_cli_bad_run_dirs_are_one_line(tmp_path):
    (f := tmp_path/'file').write_text('x')
    (junk := tmp_path/'junk').mkdir(); (junk/'trex.db').write_bytes(b'not a database' * 50)
    for args, msg in [(('show', f), 'is a file. Fix'), (('resume', f), 'is a file. Fix'), (('approve', f, 'n1'), 'is a file. Fix'),
                      (('show', tmp_path/'none'), 'holds no trex run'), (('resume', junk), 'is not a SQLite database'),
                      (('run', f/'r', '--task', 'mini_sentiment', '--model', 'tiny'), 'cannot be created')]:
        r = cli(*args)
        assert r.returncode == 2 and msg in r.stderr and 'Fix' in r.stderr and len(r.stderr.strip().splitlines()) == 1 and 'Traceback' not in r.stderr, (args, r.stderr)

def as_other_user()->dict:
    "subprocess arguments that run a command as a user who may not write the run (root may write anything)."
    if os.geteuid() != 0: return {}
    import pwd
    try: pwd.getpwnam('nobody')
    except KeyError: pytest.skip('running as root without a "nobody" user to take write access away')
    kw = dict(user='nobody', group='nogroup' if _has_group('nogroup') else 'nobody')
    try: subprocess.run([sys.executable, '-c', 'import trex.cli'], env=rk.env(), capture_output=True, timeout=120, cwd='/', **kw).check_returncode()
    except (OSError, subprocess.CalledProcessError): pytest.skip(f"running as root, and user nobody cannot run {sys.executable} with trex")
    return kw

def test_read_only_session_views_and_refuses_writes(base_run, tmp_path):
    "A run opened read-only (as a user who may not write it would) shows everything and says read-only when a write is needed."
    run = rk.copy_run(base_run, tmp_path/'run'); before = rk.committed(run)
    s = Session.load(run, readonly=True)
    assert s.tree.store.readonly and str(s.tree) == str(Session.load(run).tree)
    for f in (s.step, lambda: s.prune('n0'), lambda: s.tree.note('n0', 'x'), lambda: s.run(1)):
        with pytest.raises(TrexError, match='is read-only'): f()
    rk.assert_kept(before, run)

def _has_group(g):
    import grp
    try: grp.getgrnam(g); return True
    except KeyError: return False

def test_read_only_run_shows_and_says_read_only(base_run):
    kw = as_other_user()
    top = Path(tempfile.mkdtemp(prefix='trex-ro-', dir='/tmp')); os.chmod(top, 0o755)
    try:
        run = rk.copy_run(base_run, top/'run')
        for p in [run, *run.rglob('*')]: os.chmod(p, 0o555 if p.is_dir() else 0o444)
        home = top/'home'; home.mkdir(); os.chmod(home, 0o777)
        env = rk.env(HOME=str(home), HF_HOME=str(home/'hf'), HF_DATASETS_CACHE=str(home/'hf'/'datasets'))
        go = lambda *a: subprocess.run([sys.executable, '-c', TREX, *map(str, a)], env=env, capture_output=True, text=True, timeout=300, cwd=home, **kw)
        r = go('show', run)
        assert r.returncode == 0 and r.stdout.startswith('n0 [done]'), r.stderr
        assert go('show', run, '--json').returncode == 0
        for args in (('resume', run, '--steps', 1), ('approve', run, 'n0'), ('prune', run, 'n0')):
            r = go(*args)
            assert r.returncode == 2 and 'read-only' in r.stderr and 'corrupt' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        py = "from trex.session import Session; import sys; s = Session.load(sys.argv[1]); print(len(s.tree))\ntry: s.step()\nexcept Exception as e: print(e)"
        r = subprocess.run([sys.executable, '-c', py, str(run)], env=env, capture_output=True, text=True, timeout=300, cwd=home, **kw)
        assert r.returncode == 0 and r.stdout.splitlines()[0] == '1' and 'is read-only' in r.stdout, r.stdout + r.stderr[-2000:]
    finally:
        for p in [top, *top.rglob('*')]:
            if not p.is_symlink(): os.chmod(p, 0o755)
        shutil.rmtree(top, ignore_errors=True)
