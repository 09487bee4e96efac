"""Property tests (hypothesis): any valid recipe round-trips through JSON (and a node record in the database) with
the same hash; any sequence of legal tree operations keeps the tree's invariants: visits and values are the
backed-up rewards of the recorded nodes below, statuses only move along legal transitions, pruned subtrees are never
selected, illegal operations change nothing, and the database reloads to the same tree."""
import json, math, re, shutil, tempfile
from pathlib import Path
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from trex.schema import Metric, Node, Plan, Status, TRANSITIONS, TrexError, VariantResult
from trex.recipe import MAX_ROWS, Recipe
from trex.researcher import plan_key
from trex.tree import UCT, Greedy, RandomPolicy, SearchTree, Sequential

# --- recipes ---

name = st.text(st.characters(codec='utf-8', exclude_categories=('Cs',)), min_size=1, max_size=12)
word = st.from_regex(r'[a-z_][a-z0-9_]{0,8}', fullmatch=True)
seed = st.integers(0, 2**31 - 1)
frac = st.floats(0.01, 1.0, allow_nan=False)
scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False), name)

def source(**extra):
    kind = st.one_of(st.fixed_dictionaries({'split': st.just('train')}), st.fixed_dictionaries({'pool': word}),
                     st.fixed_dictionaries({'hub': st.from_regex(r'[a-z]{1,6}/[a-z0-9\-]{1,8}', fullmatch=True), 'subset': st.none() | word}),
                     st.fixed_dictionaries({'path': st.builds(lambda a, e: f"/data/{a}.{e}", word, st.sampled_from(['jsonl', 'json', 'parquet', 'csv']))}),
                     st.fixed_dictionaries({'rows': st.lists(st.dictionaries(word, scalar, max_size=3), max_size=3)}))
    opt = st.fixed_dictionaries({}, optional={'limit': st.integers(1, 10**6), 'columns': st.lists(word, min_size=1, max_size=3)})
    return st.builds(lambda k, o, e: {'op': 'source', **k, **o, **e}, kind, opt, st.fixed_dictionaries(extra))

test_kind = st.one_of(*[st.fixed_dictionaries({k: st.integers(0, 500)}) for k in ('min_len', 'max_len', 'min_words', 'max_words')],
                      st.fixed_dictionaries({'regex': st.builds(re.escape, name)}),
                      st.fixed_dictionaries({'in': st.lists(scalar, min_size=1, max_size=3)}),
                      st.fixed_dictionaries({'not_in': st.lists(scalar, min_size=1, max_size=3)}))
cond = st.one_of(st.builds(lambda f, t, n: {'field': f, **t, 'negate': n}, word, test_kind, st.booleans()),
                 st.builds(lambda a: {'agree': a}, st.lists(word, min_size=2, max_size=3)))
ops = st.one_of(
    source(),
    st.builds(lambda w: {'op': 'filter', 'where': w}, st.lists(cond, min_size=1, max_size=3)),
    st.fixed_dictionaries({'op': st.just('dedup')}, optional={'fields': st.lists(word, min_size=1, max_size=2), 'method': st.sampled_from(['exact', 'minhash']),
                                                             'threshold': frac, 'num_perm': st.integers(16, 512)}),
    st.fixed_dictionaries({'op': st.just('decontaminate')}, optional={'n': st.integers(1, 64), 'contain': st.none() | frac,
                                                                     'splits': st.lists(st.sampled_from(['validation', 'test']), min_size=1, max_size=2)}),
    st.fixed_dictionaries({'op': st.just('rebalance'), 'field': word}, optional={'max_per_value': st.integers(1, 10**4), 'seed': seed}),
    st.fixed_dictionaries({'op': st.just('sample'), 'n': st.integers(1, MAX_ROWS)}, optional={'seed': seed}),
    st.fixed_dictionaries({'op': st.just('split')}, optional={'test_size': st.one_of(frac, st.integers(1, 1000)), 'seed': seed}),
    st.fixed_dictionaries({'op': st.just('mix'), 'sources': st.lists(source(weight=st.floats(0.01, 100)), min_size=1, max_size=3),
                           'n': st.integers(1, MAX_ROWS)}, optional={'seed': seed}),
    st.fixed_dictionaries({'op': st.just('format')}, optional={'prompt': name, 'completion': name, 'system': name, 'keep': st.lists(word, max_size=3)}),
    st.fixed_dictionaries({'op': st.just('synthesize'), 'prompt': name, 'n': st.integers(1, 5000)},
                          optional={'seed_rows': st.integers(0, 20), 'per_call': st.integers(1, 50), 'seed': seed}))
recipes = st.lists(ops, min_size=1, max_size=6)

@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes)
def test_recipe_json_round_trip(raw):
    "A valid recipe, written as JSON and read back (raw or normalised), has the same hash and the same steps."
    r = Recipe(raw)
    again = Recipe(json.loads(json.dumps(r.to_list())))
    assert again.hash == r.hash and again.to_list() == r.to_list()
    assert Recipe(json.loads(json.dumps(raw))).hash == r.hash           # the author's dicts, through JSON, hash the same
    assert Recipe(r).hash == r.hash and Recipe(r.ops).hash == r.hash

@settings(max_examples=40, deadline=None)
@given(recipes, st.lists(st.integers(1, 1000), min_size=1, max_size=5, unique=True))
def test_plan_record_round_trip(raw, steps):
    "The recipe inside a plan, through a node record's JSON (what the database stores), keeps its hash and the plan its key."
    p = Plan(direction='refine_data', recipe=raw, variants=[dict(name=f"v{k}", config=dict(max_steps=k)) for k in steps])
    n = Node(id='n1', plan=p)
    back = Node.model_validate_json(n.model_dump_json())
    assert Recipe(back.plan.recipe).hash == Recipe(raw).hash
    assert plan_key(back.plan) == plan_key(p)

@pytest.mark.parametrize('op', [{'op': 'split', 'test_size': math.inf}, {'op': 'dedup', 'threshold': math.nan},
                                {'op': 'mix', 'n': 3, 'sources': [{'split': 'train', 'weight': math.inf}]}], ids=['inf', 'nan', 'nested-inf'])
def test_non_finite_refused(op):
    "JSON has no NaN or infinity: a recipe with one is refused (stored as null it would no longer validate)."
    with pytest.raises(TrexError, match='finite number.*Fix'): Recipe([{'op': 'source', 'split': 'train'}, op])

# --- the search tree ---

def _plan(kind, nv):
    if kind == 'baseline': return Plan(direction='baseline')
    return Plan(direction=kind, goal='g', variants=[dict(name=f"v{i}") for i in range(nv)])

class TreeOps(RuleBasedStateMachine):
    "Legal tree operations in any order, with a model of what the statistics must be."
    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix='trex-prop-', dir='/dev/shm' if Path('/dev/shm').is_dir() else None))   # fsyncs are free in memory
        self.tree = SearchTree.open(self.dir/'run')
        self.recorded = set()

    def teardown(self):
        self.tree.close(); shutil.rmtree(self.dir, ignore_errors=True)

    def ids(self, *sts): return sorted(n.id for n in self.tree if str(n.status) in sts) if sts else sorted(self.tree.nodes)

    @initialize(score=st.floats(0, 1))
    def root(self, score):
        self.tree.add(_plan('baseline', 0), status='approved')
        if score > 0.3: self._record('n0', [score])   # sometimes the root has run, sometimes not yet

    @rule(data=st.data(), kind=st.sampled_from(['refine_data', 'tune_hyperparameters', 'fix_format']), nv=st.integers(1, 3),
          approved=st.booleans())
    def add(self, data, kind, nv, approved):
        ok = [i for i in self.ids() if i not in self._pruned()]
        if not ok: return
        self.tree.add(_plan(kind, nv), parent=data.draw(st.sampled_from(ok)), status='approved' if approved else 'proposed')

    @precondition(lambda self: self.ids('proposed'))
    @rule(data=st.data())
    def approve(self, data): self.tree.approve(data.draw(st.sampled_from(self.ids('proposed'))))

    @precondition(lambda self: self.ids('approved'))
    @rule(data=st.data())
    def start(self, data): self.tree.set_status(data.draw(st.sampled_from(self.ids('approved'))), 'running')

    @precondition(lambda self: self.ids('running', 'approved'))
    @rule(data=st.data(), scores=st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=1, max_size=3), loss=st.floats())
    def record(self, data, scores, loss): self._record(data.draw(st.sampled_from(self.ids('running', 'approved'))), scores, loss)

    def _record(self, nid, scores, loss=0.):
        "Results for `nid`'s variants: a score, or a failure; `loss` (NaN and infinities too) as a measured metric."
        n = self.tree[nid]
        names = [v.name for v in n.plan.variants] or ['base']
        res = [VariantResult(variant=v, val=Metric(name='accuracy', value=s), metrics={'final_eval_loss': loss}) if s is not None
               else VariantResult(variant=v, status='failed', error='boom') for v,s in zip(names, scores)]
        self.tree.record(nid, res); self.recorded.add(nid)

    @precondition(lambda self: self.ids('proposed', 'approved', 'running', 'done', 'failed'))
    @rule(data=st.data())
    def prune(self, data): self.tree.prune(data.draw(st.sampled_from(self.ids('proposed', 'approved', 'running', 'done', 'failed'))))

    @rule(data=st.data(), p=st.one_of(st.floats(-5, 5), st.just(1e6)))
    def priority(self, data, p): self.tree.set_priority(data.draw(st.sampled_from(self.ids())), p)

    @rule(data=st.data(), new=st.sampled_from(list(Status)))
    def illegal(self, data, new):
        "An illegal status change raises TrexError and changes nothing (node, database, events)."
        nid = data.draw(st.sampled_from(self.ids()))
        old = self.tree[nid].status
        if new in TRANSITIONS[old]: return
        rows, nev = self.tree.store.nodes(), len(self.tree.store.events())
        with pytest.raises(TrexError, match='Fix'): self.tree.set_status(nid, new)
        assert self.tree.store.nodes() == rows and len(self.tree.store.events()) == nev

    @rule(data=st.data())
    def add_under_pruned(self, data):
        "Adding below a pruned node is refused."
        pr = sorted(self._pruned())
        if not pr: return
        n0 = len(self.tree)
        with pytest.raises(TrexError): self.tree.add(_plan('refine_data', 1), parent=data.draw(st.sampled_from(pr)))
        assert len(self.tree) == n0

    def _pruned(self)->set:
        out = set()
        for n in self.tree:
            if n.status == Status.pruned: out |= {o.id for o in self.tree.subtree(n.id)}
        return out

    @invariant()
    def backed_up(self):
        "visits = recorded nodes in the subtree; value = the sum of their rewards."
        for n in self.tree:
            sub = [o for o in self.tree.subtree(n.id) if o.id in self.recorded]
            assert n.visits == len(sub), (n.id, n.visits, [o.id for o in sub])
            assert math.isclose(n.value, sum(o.reward for o in sub), abs_tol=1e-9), (n.id, n.value)

    @invariant()
    def statuses(self):
        "Statuses are legal for what happened: results iff done/failed (or pruned after running); event log follows TRANSITIONS."
        for n in self.tree:
            if n.status in (Status.done, Status.failed): assert n.id in self.recorded and n.results
            if n.status == Status.done: assert any(r.status == 'ok' for r in n.results)
            if n.status == Status.failed: assert all(r.status == 'failed' for r in n.results)
            if n.id in self.recorded: assert n.reward is not None and (n.reward == self.tree.reward.fail or self.tree.reward.lo <= n.reward <= self.tree.reward.hi)
            if n.status in (Status.proposed, Status.approved, Status.running): assert not n.results
        for e in self.tree.store.events(kind='status'):
            assert Status(e['data']['to']) in TRANSITIONS[Status(e['data']['from'])], e

    @invariant()
    def never_selects_pruned(self):
        pruned = self._pruned()
        for pol in (UCT(), UCT(c=2.0, mode='descent'), Greedy(), Sequential(), RandomPolicy(seed=3)):
            s = self.tree.select(pol)
            if s is not None: assert s.id not in pruned and s.status == Status.done, (type(pol).__name__, s.id)

    @invariant()
    def reloads(self):
        "The database holds the same tree as memory."
        t2 = SearchTree(self.tree.store)
        assert [n.model_dump_json() for n in t2] == [n.model_dump_json() for n in self.tree]   # JSON: NaN equals itself there

TreeOps.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
test_tree_operations = TreeOps.TestCase
