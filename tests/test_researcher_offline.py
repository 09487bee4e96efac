"The offline Researcher on the three mini tasks: plans validate with the Executor's recipe language, never repeat, are deterministic."
import pytest
import ftbench
from trex.schema import Plan, Report, Cause, VariantResult, Metric
from trex.recipe import Recipe
from trex.tree import SearchTree
from trex.researcher import plan_key, plan_schema
from trex.offline import OfflineResearcher

@pytest.mark.parametrize('name', ['mini_sentiment', 'mini_order', 'mini_notes'])
def test_plans_distinct_and_valid(tmp_path, name):
    task = ftbench.task(name)
    tree = SearchTree.open(tmp_path/'run')
    tree.add(Plan(direction='baseline'), status='approved')
    tree.record('n0', [VariantResult(variant='base', val=Metric(name=task.primary_metric, value=0.2))])
    tree.update('n0', report=Report(causes=[Cause(cause='format', count=10)]))
    off, keys, cfgs = OfflineResearcher(task, tree, seed=3), set(), set()
    for i in range(9):   # nine children of one node: the variant ladders (learning rate, epochs, rank) hold about that many plans of three new variants
        p = off.plan('n0')
        Recipe(p.recipe)                                              # the Executor accepts the recipe
        plan_schema(task, {k: 'x' for k in keys}).model_validate(p.model_dump())   # 3-5 variants, known pools, no repeat
        assert plan_key(p) not in keys
        new = {(str(p.recipe), v.config.model_dump_json()) for v in p.variants}
        assert not new & cfgs, f"plan {i} retrains a sibling's variant"
        keys.add(plan_key(p)); cfgs |= new; tree.add(p, parent='n0')
    assert [c.plan for c in tree.children('n0')][1].direction in ('refine_data', 'fix_format')

def test_deterministic(tmp_path):
    task = ftbench.task('mini_sentiment')
    plans = []
    for k in range(2):
        tree = SearchTree.open(tmp_path/f'run{k}')
        tree.add(Plan(direction='baseline'), status='approved')
        tree.record('n0', [VariantResult(variant='base', val=Metric(name='accuracy', value=0.5))])
        off = OfflineResearcher(task, tree, seed=7)
        ps = []
        for i in range(4): ps.append(off.plan('n0')); tree.add(ps[-1], parent='n0')
        plans.append(ps)
    assert plans[0] == plans[1]
