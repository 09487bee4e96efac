"Does the search pay? The noise-aware reward on a tree, and a smoke run of bench/search_vs_default.py with the tiny model on SST-2."
import importlib.util, json, os
from pathlib import Path
import pytest
from ftbench.scoring import wilson, eval_size
from ftbench.core import realdata
from trex.schema import Plan, Variant, VariantResult, Metric
from trex.tree import SearchTree, Greedy

ROOT = Path(__file__).resolve().parents[1]

def acc(name, k, n):
    lo, hi = wilson(k, n)
    return VariantResult(variant=name, val=Metric(name='accuracy', value=k/n, ci_low=lo, ci_high=hi, n=n))

def small_tree(path, **reward):
    "A root at 0.85 on 200 rows, and two children: 24/24 (a lucky small evaluation) and 190/200."
    t = SearchTree.open(path)
    if reward: t.set_reward(**reward)
    t.record(t.add(Plan(direction='baseline'), status='approved').id, [acc('base', 170, 200)])
    for k, n in ((24, 24), (190, 200)):
        c = t.add(Plan(direction='refine_data', goal=f'{k}/{n}', variants=[Variant(name='a')]), parent='n0', status='approved')
        t.record(c.id, [acc('a', k, n)])
    return t

def test_lcb_reward_does_not_chase_a_lucky_small_evaluation(tmp_path):
    t = small_tree(tmp_path/'lcb')
    assert t.best().plan.goal == '190/200'                 # 0.910 lower bound against 0.862
    assert Greedy().choose(t, t.expandable()).plan.goal == '190/200'
    p = small_tree(tmp_path/'point', read='value')
    assert p.best().plan.goal == '24/24'                   # the point score believes 24 rows
    assert t['n1'].reward < t['n2'].reward and p['n1'].reward > p['n2'].reward

def test_separate_credits_only_resolved_gains(tmp_path):
    t = small_tree(tmp_path/'sep', separate=True)
    # 190/200 [0.910, 0.973] against the root's 170/200 [0.795, 0.893]: separated, credited; 24/24 [0.862, 1]: not
    assert t['n1'].reward == t['n0'].reward and t['n2'].reward > t['n0'].reward

def test_eval_size_is_what_separates():
    n = eval_size(0.1, p=0.75)
    assert wilson(0.8*n, n)[0] > wilson(0.7*n, n)[1]       # at the expected counts the intervals do separate
    assert wilson(0.8*24, 24)[0] < wilson(0.7*24, 24)[1]   # at 24 rows they do not

def _bench():
    spec = importlib.util.spec_from_file_location('search_vs_default', ROOT/'bench'/'search_vs_default.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

@pytest.mark.slow   # ~100 CPU-s (five training/scoring child processes): over the CI budget, run with TREX_TEST_FLAGS=slow
@pytest.mark.skipif(realdata('sst2') is None, reason='the real-data pack (shared/realdata/sst2) is not beside the repository')
def test_search_vs_default_smoke(tmp_path, capsys):
    "The whole comparison with the tiny model: base, the default recipe, trex (UCT, two rounds); intervals, test scores, compute."
    m = _bench()
    out = m.main(['--model', 'tiny', '--rounds', '2', '--variants', '1', '--steps', '2', '--eval-limit', '8', '--test-limit', '8',
                  '--policies', 'uct', '--out', str(tmp_path/'w'), '--json', str(tmp_path/'r.json')])
    txt = capsys.readouterr().out
    runs = out[0]['runs']
    assert set(runs) == {'base', 'default', 'uct'}
    for name, r in runs.items():
        assert r['best']['val_ci'][0] <= r['best']['val'] <= r['best']['val_ci'][1], name
        assert r['test_ci'][0] <= r['test'] <= r['test_ci'][1] and r['n_test'] == 8, name
    assert runs['base']['tokens'] == 0 and runs['uct']['tokens'] > 0
    # equal compute: the default's training tokens are sized to the trex runs' mean (3 epochs of a sample)
    assert 0.5*runs['uct']['tokens'] <= runs['default']['tokens'] <= 2*runs['uct']['tokens'], (runs['default']['tokens'], runs['uct']['tokens'])
    assert '| trex uct |' in txt and '| default |' in txt and 'Across 1 seed(s)' in txt
    assert json.loads((tmp_path/'r.json').read_text())['args']['model'] == 'tiny'

def test_merge_joins_seeds_from_several_runs(tmp_path, capsys):
    "One process a seed (`--first-seed`), then `--merge`: the across-seeds table with each policy's mean difference to the default and its spread."
    def run(seed, uct, default):
        r = lambda t, tok: dict(test=t, tokens=tok)
        return dict(args={}, seeds=[dict(seed=seed, runs=dict(base=r(0.45, 0), default=r(default, 40000), uct=r(uct, 41000), random=r(0.8, 39000)))])
    fs = []
    for seed, uct, d in ((0, 0.82, 0.83), (1, 0.86, 0.82)):
        fs.append(tmp_path/f's{seed}.json'); fs[-1].write_text(json.dumps(run(seed, uct, d)))
    allr = _bench().main(['--merge', *map(str, fs)])
    txt = capsys.readouterr().out
    assert [s['seed'] for s in allr] == [0, 1] and '2 seed(s) from 2 file(s)' in txt
    assert '| uct | 0.840 | 0.820 - 0.860 | 41,000 | 41,000 | +0.015 ± 0.035 |' in txt   # (-0.01, +0.04): mean +0.015, sd 0.035
    assert '| random |' in txt and '| greedy |' not in txt                     # only the policies every run has

def test_model_tokens_follow_init_from(tmp_path):
    "The returned model's tokens: its variant's, plus those of the adapters it continued (init_from), not its siblings'."
    from trex.schema import TrainConfig
    t = SearchTree.open(tmp_path/'t')
    t.record(t.add(Plan(direction='baseline'), status='approved').id, [acc('base', 100, 200)])
    def node(parent, toks, init=None):
        vs = [Variant(name=f'v{i}', config=TrainConfig(init_from=init)) for i in range(len(toks))]
        n = t.add(Plan(direction='tune_hyperparameters', variants=vs), parent=parent, status='approved')
        rs = [acc(v.name, 120 + 10*i, 200).model_copy(update=dict(tokens=k, artifacts={'adapter': f'{n.id}/{v.name}'})) for i,(v,k) in enumerate(zip(vs, toks))]
        t.record(n.id, rs)
        return n
    n1 = node('n0', [1000, 700])              # v1 is n1's best (130/200): 700 tokens
    n2 = node(n1.id, [300, 400], init='n1')   # v1 again: 400 more on top of n1's v1
    n3 = node('n0', [5000])
    m = _bench()
    assert (m.model_tokens(t, t['n0']), m.model_tokens(t, t[n1.id]), m.model_tokens(t, t[n2.id]), m.model_tokens(t, t[n3.id])) == (0, 700, 1100, 5000)
    assert m.tokens(t) == 1000 + 700 + 300 + 400 + 5000
