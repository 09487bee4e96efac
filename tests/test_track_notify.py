"""Experiment tracking and notifications end to end (issue 19): a tiny run with `track=['tensorboard']` writes event
files that TensorBoard's own reader loads, one scalar series per variant, with the plan and config as hparams and the
validation metric, and none of the planted keys; a webhook on a local HTTP server receives the gate, failure and end
messages of a tiny `trex run --gate each`, and the webhook's URL is written nowhere in the run."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
import relkit as rk
from trex.fakes import FakeServer, reply
from trex.track import log_result, tb_dir, tracking

pytest.importorskip('tensorboard')
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

def _events(d)->EventAccumulator: return EventAccumulator(str(d)).Reload()

@pytest.fixture
def planted(monkeypatch):
    "The suite's planted API keys in this process's environment (and so in every child's)."
    for k,v in dict(ANTHROPIC_API_KEY=rk.KEY, OPENAI_API_KEY=rk.OAI_KEY, HF_TOKEN=rk.HF_KEY).items(): monkeypatch.setenv(k, v)

def _train_two(tmp_path, track, run)->None:
    "Train two variants of node n1 (2 steps each, the tiny model) with transformers' own Trainer inside `tracking`, then log their results."
    import transformers
    from trex.models import tiny_model
    m = str(tiny_model())
    ids = transformers.AutoTokenizer.from_pretrained(m)('the cat sat on the mat and looked at the dog')['input_ids'][:12]
    rows = [dict(input_ids=ids, labels=ids) for _ in range(8)]
    for v, lr in (('a', 1e-3), ('b', 1e-2)):
        with tracking(track, run, 'n1', v) as kw:
            args = transformers.TrainingArguments(output_dir=str(tmp_path/'ck'/v), max_steps=2, per_device_train_batch_size=4, learning_rate=lr,
                                                  logging_steps=1, save_strategy='no', use_cpu=True, disable_tqdm=True, **kw)
            transformers.Trainer(model=transformers.AutoModelForCausalLM.from_pretrained(m), args=args, train_dataset=rows).train()
        assert log_result(track, run, 'n1', v, dict(config=dict(learning_rate=lr)), dict(val_accuracy=0.5 if v == 'a' else 0.7), step=2) == {t: 'ok' for t in track}

@pytest.mark.slow   # about 20 CPU-s; test_session_tensorboard covers the same path through trex.train
def test_trainer_reports_through_tracking(tmp_path, planted):
    "transformers' own Trainer, inside `tracking`, writes each variant's curve where TensorBoard finds it; `log_result` adds the result."
    run = tmp_path/'run'
    _train_two(tmp_path, ['tensorboard'], run)
    assert 'TENSORBOARD_LOGGING_DIR' not in os.environ
    for v, val in (('a', 0.5), ('b', 0.7)):
        acc = _events(tb_dir(run, 'n1', v))
        assert [s.step for s in acc.Scalars('train/loss')] == [1, 2]
        assert [(s.step, round(s.value, 6)) for s in acc.Scalars('val_accuracy')] == [(2, val)]
        assert '_hparams_/session_start_info' in acc.PluginTagToContent('hparams')
    assert sorted(p.name for p in tb_dir(run, 'n1').iterdir()) == ['a', 'b']
    assert rk.scan(rk.run_files(run)) == []

def test_wandb_offline_and_mlflow(tmp_path, planted, monkeypatch):
    "Where wandb and mlflow are installed (not in CI): W&B offline gets a training run and its result per variant by one id; MLflow one run per variant, found by its tags."
    pytest.importorskip('wandb'); mlflow = pytest.importorskip('mlflow')
    uri = f"file://{tmp_path/'mlruns'}"
    for k,v in dict(WANDB_MODE='offline', WANDB_SILENT='true', MLFLOW_TRACKING_URI=uri, MLFLOW_ALLOW_FILE_STORE='true').items(): monkeypatch.setenv(k, v)
    run = tmp_path/'run'; run.mkdir()
    _train_two(tmp_path, ['wandb', 'mlflow'], run)
    offline = sorted(p.name.rsplit('-', 4)[-4:][-1] for p in (run/'wandb').glob('offline-run-*'))
    assert len(offline) == 4 and len(set(offline)) == 2               # per variant: its training, then its result, one run id
    runs = {r.data.tags['trex_variant']: r for r in mlflow.search_runs(experiment_names=['trex-run'], output_format='list')}
    assert sorted(runs) == ['a', 'b'] and runs['b'].data.metrics['val_accuracy'] == 0.7 and 'loss' in runs['a'].data.metrics
    assert runs['a'].data.params['trex.config.learning_rate'] == '0.001' and runs['a'].info.run_name == 'run/n1/a'
    assert rk.scan(rk.run_files(run)) == [] and rk.scan(rk.run_files(tmp_path/'mlruns')) == []

def _create_kw():
    import inspect
    from trex.session import Session
    return inspect.signature(Session.create).parameters

def _here():
    "A runner that runs each job in this process (`trex.runners.run_job`, as the child would): one torch import for the test, not one per variant."
    from trex.runners import JobResult, Runner, run_job
    class Here(Runner):
        def run_one(self, job, progress=True): return JobResult(**{k: v for k,v in run_job(job).items() if k in JobResult.model_fields})
    return Here()

def test_session_tensorboard(tmp_path, planted):
    "A tiny run with track=['tensorboard']: one scalar series per variant, hparams and the validation metric, no keys in the run."
    if 'track' not in _create_kw(): pytest.fail("Session.create has no `track` parameter yet (wiring: /work/notes/wiring.md, E2 -> A1)")
    from trex.session import Session
    run = tmp_path/'run'
    s = Session.create(run, runner=_here(), budget=dict(rounds=1), track=['tensorboard'], **rk.TINY)
    s.researcher.n_variants = 2
    s.run(3)
    assert s.cfg['track'] == ['tensorboard']
    n = next(o for o in s.tree if o.parent is not None)
    ok = [r.variant for r in n.results if r.status == 'ok']
    assert len(ok) == 2, [(r.variant, r.error) for r in n.results]
    assert sorted(p.name for p in tb_dir(run, n.id).iterdir()) == sorted(ok)
    for v in ok:
        acc = _events(tb_dir(run, n.id, v))
        loss = acc.Scalars('train/loss')                         # the training's curve, by transformers' TensorBoard callback
        assert [s.step for s in loss] == list(range(1, len(loss) + 1)) and loss
        r = next(r for r in n.results if r.variant == v)
        val = [k for k in acc.Tags()['scalars'] if k == f"val_{r.val.name}"]
        assert val and abs(acc.Scalars(val[0])[-1].value - r.val.value) < 1e-6
        assert '_hparams_/session_start_info' in acc.PluginTagToContent('hparams')
    assert rk.scan(rk.run_files(run)) == []

SECRET = 'T0PLANTED/B0PLANTED/hookSECRET42'

def _texts(srv)->list: return [b['text'] for b in srv.bodies()]

def test_session_webhook(tmp_path, planted):
    "A tiny session at gate 'each' with a webhook: the gate, then (approved) the failed node and the end; the URL is stored nowhere."
    from trex.session import Session
    run = tmp_path/'run'
    tiny = dict(rk.TINY, config=dict(max_steps=2, micro_batch=2, max_length=8))    # max_length 8 leaves no completion token: the variant fails
    with FakeServer(*[reply('ok')]*10) as srv:
        url = f"{srv.url}/services/{SECRET}"
        s = Session.create(run, runner=_here(), gate='each', budget=dict(rounds=1), notify=url, **tiny)
        s.researcher.n_variants = 1
        s.run(5)
        assert s.tree['n1'].status == 'proposed' and len(_texts(srv)) == 1, _texts(srv)
        assert _texts(srv)[0].startswith(f'trex: n1 waits at the gate in {run}') and f'trex approve {run} n1' in _texts(srv)[0]
        s.run(5)                                                       # still waiting: no second message
        assert len(_texts(srv)) == 1
        s.approve('n1'); s.run(5)
        t = _texts(srv)
        assert s.tree['n1'].status == 'failed' and len(t) == 3, t
        assert t[1].startswith(f'trex: n1 failed in {run}: ') and 'no training rows' in t[1]
        assert t[2].startswith(f'trex: {run} stopped by the budget: ') and 'rounds' in t[2]
        assert all(r['path'] == f'/services/{SECRET}' and r['headers']['content-type'] == 'application/json' for r in srv.requests)
    s.tree.store.close()
    assert rk.scan(rk.run_files(run), keys=(SECRET, url) + rk.KEYS) == []

TREX = [sys.executable, '-c', 'import sys; from trex.cli import main; sys.exit(main())']

def _trex(*args, env=None, timeout=600)->subprocess.CompletedProcess:
    "The `trex` command in a child, with the suite's environment (offline, the planted keys)."
    return subprocess.run(TREX + [str(a) for a in args], env=rk.env(**(env or {})), capture_output=True, timeout=timeout)

@pytest.mark.slow   # about 55 CPU-s (three trex commands, two children); test_session_webhook is the same sequence in this process
def test_cli_gate_failure_end_webhook(tmp_path):
    "`trex run --gate each --notify URL`: the webhook hears the gate; after approving, the failed node and the end; the URL is stored nowhere."
    import trex.cli as cli
    if '--notify' not in open(cli.__file__).read(): pytest.fail("trex run has no --notify yet (wiring: /work/notes/wiring.md, E2 -> C)")
    run = tmp_path/'run'
    with FakeServer(*[reply('ok')]*20) as srv:
        url = f"{srv.url}/services/{SECRET}"
        tiny = ['--task', 'mini_sentiment', '--model', 'tiny', '--eval-limit', 6, '--test-limit', 0, '--variants', 1, '--rounds', 1,
                '--train-steps', 2, '--micro-batch', 2, '--max-length', 8]      # max_length 8 leaves no completion token: the variant fails
        p = _trex('run', run, *tiny, '--gate', 'each', '--notify', url)
        assert p.returncode == 4, p.stderr.decode(errors='replace')[-3000:]
        texts = [b['text'] for b in srv.bodies()]
        assert len(texts) == 1 and texts[0].startswith('trex: n1 waits at the gate in') and f'trex approve {run} n1' in texts[0], texts
        assert _trex('approve', run, 'n1').returncode == 0
        p = _trex('resume', run, env=dict(TREX_NOTIFY_URL=url))        # the URL again from the environment: the run did not keep it
        texts = [b['text'] for b in srv.bodies()]
        assert p.returncode in (1, 3), p.stderr.decode(errors='replace')[-3000:]
        assert any(t.startswith('trex: n1 failed in') for t in texts), texts
        assert any(t.startswith(f'trex: {run} stopped by the budget') or t.startswith(f'trex: {run} finished') for t in texts), texts
        assert all(r['path'] == f'/services/{SECRET}' for r in srv.requests)
    assert rk.scan(rk.run_files(run), keys=(SECRET, url)) == []       # not in the database, the settings or any file
