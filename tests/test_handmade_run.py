"""A run made by hand from the three objects (a `SearchTree`, a Researcher, an `Executor`) is a run like any other:
`trex show` describes it, `trex export` writes its recipe, and `Session.load` continues it (issue 15).

One round on the tiny model, one variant of two steps: about 30 CPU-seconds."""
import json, sys
import pytest
from pathlib import Path


@pytest.fixture(scope='module')
def handmade(tmp_path_factory):
    "One round driven by hand: the base model evaluated, one plan of the offline Researcher trained and recorded."
    import ftbench
    from trex.schema import Plan, Status
    from trex.tree import SearchTree
    from trex.offline import OfflineResearcher
    from trex.executor import Executor
    from trex.runners import LocalRunner
    d = tmp_path_factory.mktemp('handmade')/'run'
    task = ftbench.task('mini_sentiment')
    tree = SearchTree.open(d)
    R = OfflineResearcher(task, tree, config=dict(max_steps=2, micro_batch=4, max_length=64, learning_rate=5e-3))
    ex = Executor(d, task, model='tiny', eval_limit=8, test_limit=0, loss_rows=4, runner=LocalRunner(threads=1))
    root = tree.add(Plan(direction='baseline', goal='the base model'), status='approved')
    tree.record(root.id, ex.run(root.id, root.plan, progress=False))
    plan = R.plan(root.id)
    plan = plan.model_copy(update=dict(variants=plan.variants[:1]))    # one variant keeps the test short
    n1 = tree.add(plan, parent=root.id, status='approved')
    tree.record(n1.id, ex.run(n1.id, plan, progress=False))
    assert tree[n1.id].status == Status.done, tree[n1.id].results
    tree.close()
    return d


def test_settings_stored_by_the_executor(handmade):
    "The Executor stored what it knows as the run's settings when it first ran there."
    from trex.store import Store
    with Store.open(handmade, create=False, readonly=True) as st: cfg = st.meta('session')
    assert (cfg['task'], cfg['model'], cfg['eval_limit'], cfg['test_limit']) == ('mini_sentiment', 'tiny', 8, 0)


def test_show(handmade, capsys):
    from trex.cli import main
    assert main(['show', str(handmade)]) == 0
    out = capsys.readouterr().out
    assert 'n1' in out and 'mini_sentiment on tiny' in out, out


def test_export(handmade, capsys):
    from trex.cli import main
    out = handmade/'recipe.py'
    assert main(['export', str(handmade), 'n1', '--out', str(out)]) == 0, capsys.readouterr()
    spec = json.loads(out.with_suffix('.json').read_text())
    assert (spec['node'], spec['task'], spec['model'], spec['eval']['limit']) == ('n1', 'mini_sentiment', 'tiny', 8)
    assert spec['config']['max_steps'] == 2
    compile(out.read_text(), 'recipe.py', 'exec')
    assert 'from trex.executor import Executor' in out.read_text()     # the library's code runs, not a copy


def test_load(handmade):
    "Session.load fills in what a run made by hand did not store: the offline Researcher, no caps, the gate open, UCT."
    from trex.session import Session
    s = Session.load(handmade)
    try:
        assert (s.cfg['researcher'], s.cfg['task'], s.gate.mode, type(s.policy).__name__) == ('offline', 'mini_sentiment', 'auto', 'UCT')
        assert [n.id for n in s.tree] == ['n0', 'n1'] and s.best() is not None
        assert s.executor.eval_limit == 8 and s.rounds() == 1
        p = s.researcher.plan('n1')                                   # the loaded session plans the next round
        assert p.variants
    finally: s.tree.close()
