"""End-to-end check of the CUDA path: a session, a real out-of-memory error, a SIGKILL resume, the exported script.

On a GPU (an H100 or H200): a random-initialised Qwen3-0.6B-shaped model saved with the tiny BPE tokenizer, QLoRA
(bitsandbytes nf4) chosen by `method='auto'`, the `mini_sentiment` task, two rounds of three variants with the offline
Researcher; then a variant with a huge micro-batch on `mini_notes` that must raise a real CUDA out-of-memory error and
be recovered by the ladder; a variant whose child is SIGKILLed at a step and resumed from its checkpoint; and the best
node's exported script rerun on the GPU. With `SIZE=tiny` (CI, on the CPU) the same steps run on the tiny model, with
the out-of-memory error injected (a real one would take the CPU machine down) and no speed numbers that mean anything.

Every number and pass/fail lands in `$OUT/gpu_e2e.json` (default: a temporary folder). Exit 1 when a check failed.
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path


def parse(argv=None):
    "The command line: what the script does and its knobs; `--help` runs nothing."
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Environment: SIZE=tiny forces the tiny model and "
                                 "an injected OOM; OUT names the folder for gpu_e2e.json.")
    ap.add_argument('--rounds', type=int, default=2, help='rounds of the session (default: 2)')
    ap.add_argument('--variants', type=int, default=3, help='variants per plan of the offline Researcher (default: 3)')
    ap.add_argument('--steps', type=int, default=None, help='training steps per variant (default: 20 on CUDA, 4 tiny)')
    ap.add_argument('--oom-micro-batch', type=int, default=1024,
                    help='micro-batch of the variant that must run out of memory on CUDA (default: 1024 rows of mini_notes)')
    return ap.parse_args(argv)


def cuda()->bool:
    "Whether this run uses the GPU (SIZE=tiny forces the CPU path's model and checks)."
    import torch
    return torch.cuda.is_available() and os.environ.get('SIZE') != 'tiny'


def model_folder(tmp:Path)->str:
    "The model: the tiny one, or a random Qwen3-0.6B shape saved in bf16 with the tiny tokenizer (ids < 512)."
    from trex.models import tiny_model
    tiny = tiny_model()
    if not cuda(): return str(tiny)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen3Config
    cfg = Qwen3Config(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16,
                      num_key_value_heads=8, head_dim=128, max_position_embeddings=40960, tie_word_embeddings=True)
    tok = AutoTokenizer.from_pretrained(tiny)
    cfg.pad_token_id, cfg.eos_token_id, cfg.bos_token_id = tok.pad_token_id, tok.eos_token_id, tok.bos_token_id
    m = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    p = tmp/'qwen3-0.6b-random'
    m.save_pretrained(p)
    tok.save_pretrained(p)
    return str(p)


class Checks:
    "Named pass/fail checks with their numbers, written to one JSON file."
    def __init__(self, out:Path):
        self.out, self.rows, self.t0 = out, [], time.time()
    def add(self, name:str, ok:bool, **numbers):
        "Record one check; print a PASS/FAIL line."
        self.rows.append(dict(name=name, ok=bool(ok), **numbers))
        print(f"{'PASS' if ok else 'FAIL'} {name} {json.dumps(numbers, default=str)[:300]}", flush=True)
    def fail(self, name:str, e:Exception):
        "Record a check that raised."
        self.add(name, False, error=f"{type(e).__name__}: {str(e)[:500]}")
    def write(self, **extra)->Path:
        "Write `gpu_e2e.json`; its path."
        f = self.out/'gpu_e2e.json'
        f.write_text(json.dumps(dict(cuda=cuda(), wall_s=round(time.time()-self.t0, 1), checks=self.rows, **extra), indent=1, default=str))
        return f
    @property
    def ok(self)->bool: return all(r['ok'] for r in self.rows)


def session_rounds(ck:Checks, tmp:Path, model:str, a):
    "`a.rounds` rounds of `a.variants` variants with the offline Researcher; each node done, the method QLoRA on CUDA."
    from trex.session import Session
    steps = a.steps or (20 if cuda() else 4)
    s = Session.create(tmp/'run', task='mini_sentiment', model=model, budget=dict(rounds=a.rounds), seed=0,
                       config=dict(max_steps=steps, micro_batch=8, learning_rate=1e-3), eval_limit=24 if cuda() else 8, test_limit=0)
    s.researcher.n_variants = a.variants
    t0 = time.time()
    s.run(a.rounds + 1)
    nodes = [n for n in s.tree if n.id != 'n0']
    res = [r for n in nodes for r in n.results]
    kids = [tmp/'run'/'nodes'/n.id/r.variant/'child.json' for n in nodes for r in n.results]
    methods = sorted({json.loads(f.read_text()).get('method') or '?' for f in kids if f.exists()})
    ck.add('session: rounds of variants', len(nodes) == a.rounds and len(res) == a.rounds*a.variants and all(n.status.value == 'done' for n in nodes),
           nodes=[(n.id, n.status.value, round(n.score, 4) if n.score is not None else None) for n in nodes],
           variants=len(res), failed=sum(r.status == 'failed' for r in res), wall_s=round(time.time()-t0, 1))
    tok_s = [r.tokens/r.time_s for r in res if r.status == 'ok' and r.time_s]
    ck.add('session: tokens/s per variant (whole child: load, train, evaluate)', bool(tok_s), median=sorted(tok_s)[len(tok_s)//2] if tok_s else None, methods=methods)
    return s


def oom_ladder(ck:Checks, tmp:Path, model:str, a):
    "A variant far too big for memory: a real CUDA OOM (injected on the CPU), recovered by the ladder."
    import ftbench
    from trex.executor import Executor
    from trex.schema import Plan, Variant, TrainConfig
    ex = Executor(tmp/'oom', ftbench.task('mini_notes'), model=model, eval_limit=8, test_limit=0)
    mb = a.oom_micro_batch if cuda() else 8
    v = Variant(name='huge', config=TrainConfig(micro_batch=mb, max_steps=1, max_length=1024))
    faults = None if cuda() else {'huge': {'oom_above_micro_batch': 2}}
    r = ex.run('n1', Plan(direction='change_training', recipe=[{'op': 'source', 'split': 'train'}], variants=[v]), faults=faults)[0]
    real = [l for l in r.ladder if 'out of memory' in l]
    ck.add('out-of-memory ladder recovers', r.status == 'ok' and bool(real), status=r.status, rungs=len(real), ladder=r.ladder,
           injected=not cuda(), error=r.error)


def kill_resume(ck:Checks, tmp:Path, model:str, a):
    "The child SIGKILLs itself at step 25, after checkpoints at 10 and 20; the runner resumes from step 20 and finishes."
    import ftbench
    from trex.executor import Executor
    from trex.schema import Plan, Variant, TrainConfig
    ex = Executor(tmp/'kill', ftbench.task('mini_sentiment'), model=model, eval_limit=8, test_limit=0)
    v = Variant(name='killed', config=TrainConfig(micro_batch=4, max_steps=40))   # checkpoints every max(10, steps/4)
    r = ex.run('n1', Plan(direction='change_training', recipe=[{'op': 'source', 'split': 'train'}], variants=[v]),
               faults={'killed': {'kill_at_step': 25}})[0]
    ck.add('SIGKILL of the child: resumed from its checkpoint', r.status == 'ok' and any('resumed' in l for l in r.ladder),
           status=r.status, ladder=r.ladder, error=r.error)


def exported(ck:Checks, tmp:Path, s):
    "The best trained node's exported script, rerun in a fresh process: it trains again, finishes and reports its score."
    trained = [n for n in s.tree if n.plan.direction != 'baseline' and n.best_result is not None]
    best = max(trained, key=lambda n: n.score)   # on the tiny model every score ties at 0: the first trained node
    files = s.export(best, tmp/'recipe.py')
    t0 = time.time()
    p = subprocess.run([sys.executable, str(files[0]), '--out', str(tmp/'recipe-out')], capture_output=True, text=True, timeout=900)
    m = tmp/'recipe-out'/'metrics.json'
    got = json.loads(m.read_text()) if m.exists() else {}
    ck.add('exported script reruns', p.returncode == 0 and bool(got), returncode=p.returncode, value=got.get('value'),
           node=best.id, within_node_interval=got.get('within_node_interval'), wall_s=round(time.time()-t0, 1),
           stderr=p.stderr[-600:] if p.returncode else '')


def main(argv=None):
    a = parse(argv)
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    out = Path(os.environ.get('OUT') or tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='gpu_e2e-'))
    ck = Checks(out)
    try: model = model_folder(tmp)
    except Exception as e:
        ck.fail('model folder', e); print(ck.write()); return 1
    s = None
    for name, fn in (('session', lambda: session_rounds(ck, tmp, model, a)), ('oom', lambda: oom_ladder(ck, tmp, model, a)),
                     ('kill', lambda: kill_resume(ck, tmp, model, a))):
        try:
            r = fn()
            if name == 'session': s = r
        except Exception as e: ck.fail(name, e)
    if s is not None:
        try: exported(ck, tmp, s)
        except Exception as e: ck.fail('exported script', e)
    print(f"wrote {ck.write(model=model)}")
    return 0 if ck.ok else 1


if __name__ == '__main__': sys.exit(main())
