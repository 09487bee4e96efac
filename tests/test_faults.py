"""Fault injection at each stage of a step. Each test copies the reference run (its baseline done), makes one
fault happen, and checks that the session survives (`step()` returns and the next step works), that the fault
is recorded with its cause (the node's results, notes or the event log), and that nothing already committed is
lost (node records and files compared before and after). Training faults go through the runner's `faults`
(trex.train.make_faults) or the environment of the child; LLM faults through the fake Anthropic server."""
import errno, json, os, pathlib, textwrap
import pytest
import relkit as rk
from trex.schema import Status
from trex.session import Gate, Session
from trex.llm import AnthropicClient, Budget
from trex.runners import LocalRunner
from trex.train import last_checkpoint
from trex.fakes import FakeAnthropic, a_error, a_tool, slow

class FaultRunner(LocalRunner):
    "A LocalRunner that injects, per variant name: `faults` (trex.train.make_faults), a `timeout`, a `save_every`, and a hook after a kill."
    def __init__(self, faults=None, timeout=None, save_every=None, on_killed=None):
        super().__init__(poll_s=0.1)
        self.faults,self.timeout,self.save_every,self.on_killed,self.launches = faults or {},timeout or {},save_every or {},on_killed,[]
    def run_one(self, job, progress=True):
        v = job.id.split('/')[-1]
        job = job.model_copy(update={k: d[v] for k,d in (('faults', self.faults), ('save_every', self.save_every)) if v in d})
        t, self.timeout_s = self.timeout_s, self.timeout.get(v, self.timeout_s)
        try: return super().run_one(job, progress)
        finally: self.timeout_s = t
    def _launch(self, job, progress=True):
        r = super()._launch(job, progress); self.launches.append(r.get('kind') or r.get('status'))
        if r.get('kind') == 'killed' and self.on_killed: self.on_killed(job, r)
        return r

def session(tmp_path, runner=None, researcher=None)->Session:
    "A copy of the reference run with its baseline done, every plan waiting at the gate, no round cap."
    run = rk.copy_run(rk.reference()['root'], tmp_path/'run')
    from trex.store import Store
    with Store.open(run) as st:   # plans may read the test's own files (tmp_path is a data root); an LLM Researcher plans the same run
        st.set_meta('session', {**st.meta('session'), 'data_roots': [str(tmp_path)], **({'researcher': type(researcher).__name__} if researcher is not None else {})})
    s = Session.load(run, researcher=researcher, runner=runner)
    s.gate, s.budget = Gate.of('each'), Budget(rounds=20)
    return s

def approve_one(s, recipe=None, **cfg)->tuple:
    "Let the Researcher propose a child, cut it to its first variant (with `cfg`), set its recipe, approve it: (node id, variant)."
    n = s.step()
    assert n.status == Status.proposed
    v = n.plan.variants[0].model_dump(); v['config'] = {**v['config'], **cfg}
    s.edit(n.id, variants=[v], **({} if recipe is None else dict(recipe=recipe)))
    s.approve(n.id)
    return n.id, v['name']

def survives(s, nid, cause, status='failed')->object:
    "Execute the approved node `nid`: it ends `status` (None: done or failed) with `cause` in a failed variant's error; the next step proposes a new plan."
    run, before = s.tree.store.path.parent, {k: v for k,v in rk.committed(s.tree.store.path.parent).items() if k != nid}
    n = s.step()
    assert n is not None and n.id == nid and str(n.status) in ((status,) if status else ('done', 'failed')), (n, s.message)
    status, r = str(n.status), n.results[0]
    if status == 'failed': assert r.status == 'failed' and cause in r.error, r.error
    assert any(e['node'] == nid for e in s.tree.store.events(kind='result'))
    nxt = s.step()                                           # the next step works: a new plan waits at the gate
    assert nxt is not None and nxt.status == Status.proposed and nxt.id != nid, s.message
    rk.assert_kept(before, run)
    assert rk.integrity(run) == 'ok'
    s2 = Session.load(run)                                   # and the fault is in the database, not just in memory
    assert str(s2.tree[nid].status) == status and s2.tree[nid].results == n.results
    s2.tree.store.close()
    return n

# --- data ---

def test_data_hub_unreachable(tmp_path):
    s = session(tmp_path)
    nid, _ = approve_one(s, recipe=[{'op': 'source', 'hub': 'trex-nobody/no-such-dataset'}])
    n = survives(s, nid, 'could not load the source')
    assert 'trex-nobody/no-such-dataset' in n.results[0].error and 'Fix' in n.results[0].error

def test_data_missing_file(tmp_path):
    s = session(tmp_path)
    nid, _ = approve_one(s, recipe=[{'op': 'source', 'path': str(tmp_path/'gone'/'train.jsonl')}])
    survives(s, nid, 'could not load the source')

def test_data_corrupt_jsonl(tmp_path):
    bad = tmp_path/'bad.jsonl'
    bad.write_text('{"text": "good film", "label": "positive"}\n{"text": "bad film", "label": \n\x00\x01 not json at all\n')
    s = session(tmp_path)
    nid, _ = approve_one(s, recipe=[{'op': 'source', 'path': str(bad)}])
    survives(s, nid, 'could not load the source')

def test_data_wrong_columns(tmp_path):
    "A readable file whose rows the task cannot format: the build fails with the step named."
    odd = tmp_path/'odd.jsonl'
    odd.write_text('\n'.join(json.dumps(dict(q=f"row {i}")) for i in range(5)) + '\n')
    s = session(tmp_path)
    nid, _ = approve_one(s, recipe=[{'op': 'source', 'path': str(odd)}, {'op': 'format', 'prompt': '{text}', 'completion': '{label}'}])
    survives(s, nid, 'placeholder {text} is not a column')

def test_data_runaway_regex(tmp_path):
    "A filter pattern that backtracks for ever (Python's re: hours on one row) fails the node, not the session."
    pytest.importorskip('regex')
    s = session(tmp_path)
    nid, _ = approve_one(s, recipe=[{'op': 'source', 'rows': [dict(text='a'*40 + 'b', label='positive')]*3},
                                    {'op': 'filter', 'where': [{'field': 'text', 'regex': '(a|aa)+$'}]}])
    survives(s, nid, 'a regex ran over 1 s on one row')

# --- training ---

def test_out_of_memory_at_every_rung(tmp_path):
    "OOM on the lightest config there is (micro-batch 1, checkpointing, 64 tokens): no rung is left, the variant fails with the cause."
    s = session(tmp_path, FaultRunner())                     # (the ladder's rungs themselves: nbs/14_runners)
    nid, v = approve_one(s, micro_batch=1, gradient_checkpointing=True, max_length=64)
    s.executor.runner.faults = {v: {'oom_above_micro_batch': 0}}
    n = survives(s, nid, 'out of memory at every rung')
    assert 'CUDA out of memory (injected' in n.results[0].error
    assert s.executor.runner.launches == ['oom']

def test_nan_loss(tmp_path):
    s = session(tmp_path, FaultRunner())
    nid, v = approve_one(s, max_steps=3)
    s.executor.runner.faults = {v: {'nan_at_step': 1}}
    n = survives(s, nid, 'nan: loss became nan')
    assert n.results[0].loss_curve and all(l == l for _,l in n.results[0].loss_curve)   # the stored curve stops at the last finite loss

def test_training_timeout(tmp_path):
    s = session(tmp_path, FaultRunner())
    nid, v = approve_one(s)
    s.executor.runner.faults, s.executor.runner.timeout = {v: {'hang_s': 120}}, {v: 3}
    survives(s, nid, 'timeout: no result after 3 s')

def _truncate_checkpoint(job, r):
    "Cut every file of the newest checkpoint to half its size (a crash in the middle of writing it)."
    ck = last_checkpoint(job.out)
    assert ck, f"no checkpoint under {job.out}"
    for f in pathlib.Path(ck).rglob('*'):
        if f.is_file(): f.write_bytes(f.read_bytes()[:f.stat().st_size//2])

@pytest.fixture(scope='module')
def truncated(tmp_path_factory):
    "The child is killed after its checkpoint at step 2, the checkpoint is cut in half, the runner resumes from it."
    s = session(tmp_path_factory.mktemp('truncated'), FaultRunner(on_killed=_truncate_checkpoint))
    nid, v = approve_one(s, max_steps=3)
    s.executor.runner.faults, s.executor.runner.save_every = {v: {'kill_at_step': 2}}, {v: 1}
    return s, nid, survives(s, nid, '', status=None)          # done (resumed or restarted) or failed saying why

def test_truncated_checkpoint_then_resume(truncated):
    "The session survives, and the result says what happened: killed, resumed from checkpoint-2, and the error if it failed."
    s, nid, n = truncated
    r = n.results[0]
    assert any('killed by signal 9; resumed from checkpoint-2' in o for o in r.ladder), r.ladder
    assert r.status == 'ok' or 'Error' in r.error, r.error

def test_truncated_checkpoint_is_discarded(truncated):
    s, nid, n = truncated
    assert n.results[0].status == 'ok', n.results[0].error

# --- disk full ---

HOOK = textwrap.dedent('''
    # trex test hook: opening a file for writing whose path contains $TREX_TEST_ENOSPC fails as on a full disk
    import builtins, errno, io, os
    _pat = os.environ.get('TREX_TEST_ENOSPC')
    if _pat:
        _open = builtins.open
        def _full(file, mode='r', *a, **kw):
            if any(c in mode for c in 'wax+') and _pat in str(file): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
            return _open(file, mode, *a, **kw)
        builtins.open = io.open = _full
''')

def test_disk_full_in_the_child(tmp_path, monkeypatch, target='adapter_config.json'):
    "Saving the adapter hits ENOSPC in the training child: a failed variant that says so."
    hook = tmp_path/'hook'; hook.mkdir(); (hook/'sitecustomize.py').write_text(HOOK)
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join([str(hook)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    monkeypatch.setenv('TREX_TEST_ENOSPC', target)
    s = session(tmp_path, FaultRunner())
    nid, v = approve_one(s)
    survives(s, nid, 'No space left on device')

def test_disk_full_in_the_session(tmp_path, monkeypatch):
    "Writing a variant's result.json hits ENOSPC in the session's process: step() says so, and once there is room the next step finishes the node."
    s = session(tmp_path, FaultRunner())
    nid, v = approve_one(s)
    s.executor.runner.faults, s.executor.runner.timeout = {v: {'hang_s': 120}}, {v: 2}   # a quick result (a timeout) to lose
    run, before = s.tree.store.path.parent, rk.committed(s.tree.store.path.parent)
    wt = pathlib.Path.write_text
    def full(self, *a, **kw):
        if self.name == 'result.json': raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return wt(self, *a, **kw)
    monkeypatch.setattr(pathlib.Path, 'write_text', full)
    try: n = s.step()
    except OSError as e: n, err = None, e
    else: err = None
    if n is not None: assert str(n.status) == 'failed' and 'No space left' in n.results[0].error    # recorded as a failure
    else: assert err.errno == errno.ENOSPC and str(s.tree[nid].status) == 'running'                  # or said plainly, the node left to resume
    assert rk.integrity(run) == 'ok'
    rk.assert_kept({k: v for k,v in before.items() if k != nid}, run)
    monkeypatch.undo()                                        # room again
    if n is None:                                             # the next step runs the node again and stores its result
        n = s.step()
        assert n.id == nid and str(n.status) == 'failed' and 'timeout' in n.results[0].error, s.message
        assert (run/'nodes'/nid/v/'result.json').exists()
    assert s.step().status == Status.proposed

# --- the LLM Researcher ---

def good_plan(i=0)->dict:
    return dict(direction='tune_hyperparameters', goal=f'tune the learning rate {i}', rationale='the baseline has not been trained',
                recipe=[{'op': 'source', 'split': 'train'}],
                variants=[dict(name=f'lr{k}', config=dict(learning_rate=k*1e-4, max_steps=2, micro_batch=2, max_length=64)) for k in (1, 2, 4)])

LLM_FAULTS = {
    'never_validates': ([a_tool('plan', dict(direction='tune_hyperparameters', goal='no variants'))]*2, {}, 'LLMOutputError'),
    'rate_limited':    ([a_error(429, 'rate_limit_error', 'slow down')]*2, {}, '429'),
    'server_error':    ([a_error(500, 'api_error', 'internal error')]*2, {}, '500'),
    'overloaded':      ([a_error(529, 'overloaded_error', 'Overloaded')]*2, {}, 'Overloaded'),
    'timeout':         ([slow(a_tool('plan', good_plan()), 3)]*2, dict(timeout=0.5), 'Timeout'),
}

@pytest.mark.parametrize('fault', list(LLM_FAULTS))
def test_llm_planning_fault(tmp_path, monkeypatch, fault):
    "The plan call fails beyond the retries (or never validates): step() returns None with the cause noted on the node; the next step plans."
    monkeypatch.setenv('ANTHROPIC_API_KEY', rk.KEY)
    answers, kw, cause = LLM_FAULTS[fault]
    spec = a_tool('task_spec', dict(capability='sentiment of short reviews', primary_metric='accuracy'))   # analyse, asked once
    with FakeAnthropic(spec, *answers) as srv:
        c = AnthropicClient('claude-haiku-4-5', base_url=srv.url, max_retries=1, **kw)
        s = session(tmp_path, researcher=c)
        run = s.tree.store.path.parent; before = rk.committed(run)
        assert s.step() is None and 'could not plan' in s.message, s.message
        note = s.tree['n0'].notes[-1]
        assert note.startswith('planning a child failed') and cause in note, note
        assert len(srv.messages()) == 1 + 2                    # the task spec, then one try and one retry (or one repair), no more
        srv.add(a_tool('plan', good_plan()))
        n = s.step()
        assert n is not None and n.status == Status.proposed and n.parent == 'n0', s.message
        rk.assert_kept(before, run)
        assert rk.integrity(run) == 'ok'
        assert rk.scan(rk.run_files(run)) == []                # the planted key is in no file of the run
