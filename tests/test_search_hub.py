"Search (arXiv, the Hub) replayed from recorded answers, the Hub upload against a local stand-in, and the trainer configs' keys."
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest, yaml

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT/'tests'/'fixtures'

from trex.fakesearch import FakeSearch, FakeHub, load_recorded
from trex.search import search_arxiv, search_datasets, hub_online
from trex.schema import TrexError

REC = load_recorded(FIX/'search')

def _py(code, **env):
    "Run `code` in a fresh interpreter; its stdout."
    e = {**os.environ, 'HF_HUB_OFFLINE': '1', **env}
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=e, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout

def test_library_modules_import_no_test_double():
    out = _py("import sys, trex.search, trex.hub, trex.configs; print(sorted(m for m in sys.modules if m in ('trex.fakes', 'trex.fakesearch')))")
    assert out.strip() == '[]'

def test_arxiv_through_the_arxiv_client_pages_and_caches():
    with FakeSearch(recorded=REC) as srv:
        cache = {}
        ps = search_arxiv('LoRA label noise', srv.url + '/api/query', max_results=3, cache=cache, delay=0)
        again = search_arxiv('LoRA label noise', srv.url + '/api/query', max_results=3, cache=cache, delay=0)
        n = len(srv.requests)
        from trex.search import arxiv_client
        import arxiv
        c = arxiv_client(srv.url + '/api/query', delay=0); c.page_size = 2
        paged = [r.get_short_id() for r in c.results(arxiv.Search(query='all:LoRA AND all:label AND all:noise', max_results=10))]
    assert [p.id for p in ps] == ['2699.00001v2', '2699.00002v1', '2699.00003v1']
    assert ps[2].title == 'Noisy Labels, Small Adapters: When Does Relabelling Pay Off?' and ps[0].published == '2026-02-27'
    assert again == ps and n == 1                      # the second search was answered by the cache
    assert srv.requests[0]['query']['search_query'] == ['all:LoRA AND all:label AND all:noise']
    assert paged == [p.id for p in ps] and [r['query']['start'] for r in srv.requests[1:]] == [['0'], ['2']]

def test_multiword_query_finds_datasets_whose_ids_lack_the_phrase():
    from huggingface_hub import HfApi
    with FakeSearch(recorded=REC) as srv, hub_online():
        whole = list(HfApi(endpoint=srv.url).list_datasets(search='product reviews sentiment', limit=5))
        ds = search_datasets('product reviews sentiment', srv.url, cache={}, category='text-classification')
    assert whole == []
    assert [d.id for d in ds][:3] == ['example-org/product-reviews-clean', 'film/movie-reviews-binary', 'someone/sentiment-mixed-quality']
    assert not any('product reviews sentiment' in d.id for d in ds)
    assert (ds[0].license, ds[0].size, ds[1].license) == ('cc-by-4.0', '10K<n<100K', 'apache-2.0')
    asked = srv.requests[1:]
    assert all(r['query']['sort'] == ['downloads'] for r in asked)
    assert [r['query'].get('search', r['query'].get('filter')) for r in asked] == [['product'], ['reviews'], ['sentiment'], ['task_categories:text-classification']]

def test_a_resumed_run_answers_from_its_cache_without_searching(tmp_path):
    with FakeSearch(recorded=REC) as srv, hub_online():
        cache = {}
        ds = search_datasets('product reviews sentiment', srv.url, cache=cache, category='text-classification')
        ps = search_arxiv('LoRA label noise', srv.url + '/api/query', max_results=3, cache=cache, delay=0)
    (tmp_path/'cache.json').write_text(json.dumps(cache))   # what the Researcher keeps in the run's store
    back, msgs = json.loads((tmp_path/'cache.json').read_text()), []
    with hub_online():   # the servers are gone: a search that tried would report it
        ds2 = search_datasets('product reviews sentiment', srv.url, cache=back, category='text-classification', on_error=msgs.append)
        ps2 = search_arxiv('LoRA label noise', srv.url + '/api/query', max_results=3, cache=back, on_error=msgs.append, delay=0)
    assert (ds2, ps2, msgs) == (ds, ps, [])

@pytest.fixture
def run(tmp_path):
    d = tmp_path/'run'; shutil.copytree(FIX/'tiny_run', d)
    return d

def test_push_through_hf_endpoint_uploads_the_files_and_card(run):
    from huggingface_hub import ModelCard
    token = 'hf_' + 'k'*32
    with FakeHub() as hub:
        out = _py(f"from trex.hub import push; print(push({str(run)!r}, 'n1', 'me/sentiment-lora', token={token!r}))",
                  HF_ENDPOINT=hub.url, HF_HUB_OFFLINE='0')
    repo = hub.repos['me/sentiment-lora']
    assert out.strip().startswith(f"{hub.url}/me/sentiment-lora/commit/") and repo['private'] is True
    assert sorted(repo['files']) == ['README.md', 'adapter_config.json', 'adapter_model.safetensors', 'recipe.json', 'recipe.py']
    assert repo['files']['adapter_model.safetensors'] == (run/'nodes/n1/lr3e-3/adapter/adapter_model.safetensors').read_bytes()
    assert json.loads(repo['files']['recipe.json'])['node'] == 'n1'
    card = repo['files']['README.md'].decode()
    mc = ModelCard(card)
    assert (mc.data.library_name, mc.data.base_model) == ('peft', None)
    r = mc.data.eval_results[0]
    assert (r.dataset_name, r.dataset_split, r.metric_type, r.metric_value) == ('mini_sentiment', 'validation', 'accuracy', 0.0)
    for field in ('| task | `mini_sentiment` |', '| base model | `tiny` |', 'accuracy = 0.0000, 95% Wilson score interval [0.0000, 0.3244] (n = 8)',
                  '`n0 (baseline: evaluate the base model)` → `n1 (refine_data: clean the training data)`', '"op": "dedup"', '| trex | '):
        assert field in card, field
    assert not any(token.encode() in v for v in repo['files'].values())
    assert not any(token in p.read_text(errors='ignore') for p in run.rglob('*') if p.is_file())

def test_push_offline_writes_the_folder_and_says_so(run, capsys):
    from trex.hub import push
    got = push(run, 'n1', 'me/sentiment-lora')
    assert got == str(run/'hub'/'n1-lr3e-3')
    assert sorted(p.name for p in Path(got).iterdir()) == ['README.md', 'adapter_config.json', 'adapter_model.safetensors', 'recipe.json', 'recipe.py']
    assert 'Hub upload skipped: HF_HUB_OFFLINE is set' in capsys.readouterr().out
    with pytest.raises(TrexError, match='variant base has no adapter'): push(run, 'n0', 'me/x')
    with pytest.raises(TrexError, match="is not a Hub repo id"): push(run, 'n1', 'not a repo')

def test_configs_keys_are_documented_and_objectives_map(run):
    from trex.export import export_spec
    from trex.configs import llamafactory, axolotl, check_keys
    spec = export_spec('n1', run_dir=run)
    cfg = lambda **kw: dict(spec, config=dict(spec['config'], **kw))
    for s in (spec, cfg(method='qlora', target_modules=['q_proj'], packing=True), cfg(objective='dpo', beta=0.3)):
        lf, ax = yaml.safe_load(llamafactory(s, 'org/m')), yaml.safe_load(axolotl(s, 'org/m'))
        check_keys(lf, 'llamafactory'); check_keys(ax, 'axolotl')
    assert (lf['stage'], lf['pref_beta'], ax['rl'], ax['rl_beta']) == ('dpo', 0.3, 'dpo', 0.3)
    g = yaml.safe_load(axolotl(cfg(objective='grpo', kl_weight=0.05), 'org/m'))
    assert (g['rl'], g['trl']['beta'], g['trl']['reward_funcs']) == ('grpo', 0.05, ['recipe_rewards.task_score', 'recipe_rewards.answer_format'])
    with pytest.raises(TrexError, match="LLaMA-Factory has no 'grpo' stage"): llamafactory(cfg(objective='grpo'), 'org/m')
    with pytest.raises(TrexError, match='lora_r is not among'): check_keys(dict(lora_r=8), 'llamafactory')
    assert yaml.safe_load(llamafactory(spec, 'org/m'))['warmup_steps'] == 1                     # ceil(0.03 * 2 steps): valid under transformers 4 and 5
    assert yaml.safe_load(llamafactory(cfg(max_steps=None), 'org/m'))['warmup_ratio'] == 0.03   # LLaMA-Factory pins transformers<=4.57.1
    head = llamafactory(spec, 'org/m').split('\n\n###')[0]
    assert head.startswith('# LLaMA-Factory config exported by trex from node n1') and '# Not carried over:' in head

@pytest.mark.slow
def test_push_a_fresh_tiny_run(tmp_path):
    "A run made now (not the fixture) pushes: what Session writes today is what push reads."
    from trex.session import Session
    from trex.hub import push
    s = Session.create(tmp_path/'run', task='mini_sentiment', model='tiny', budget=dict(rounds=1), eval_limit=8, test_limit=0, gate='each',
                       config=dict(max_steps=2, micro_batch=4, max_length=64, learning_rate=5e-3))
    s.step(); n1 = s.step()
    s.edit(n1.id, variants=[v.model_dump() for v in n1.plan.variants[:1]])
    s.approve(n1.id, run=True)
    with FakeHub() as hub, hub_online():
        url = push(tmp_path/'run', n1.id, 'me/fresh', token='hf_t', endpoint=hub.url)
    assert url.startswith(f"{hub.url}/me/fresh/commit/")
    assert {'README.md', 'adapter_config.json', 'adapter_model.safetensors', 'recipe.json', 'recipe.py'} <= set(hub.repos['me/fresh']['files'])
