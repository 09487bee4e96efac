"""Does the search pay? trex against a default LoRA recipe on SST-2 (the real-data pack), at equal training compute.

For each seed:
- **base**: the untouched model (the root of every trex run);
- **trex** with the offline Researcher for `--rounds` rounds of `--variants` variants, once per policy (UCT, greedy,
  sequential, random). Every policy's first round is the root's first child, the same for all, so it is run once and
  the run is copied for each policy (the policies differ from the second round on);
- **default**: one LoRA SFT run as a LLaMA-Factory user starts it (examples/train_lora/llama3_lora_sft.yaml: LoRA rank 8
  on all linear layers, alpha 16 and dropout 0 (LLaMA-Factory's defaults), learning rate 1e-4, 3 epochs, cosine,
  warmup 0.1, an effective batch of 8 (1 x 8 there; 8 x 1 here, the same optimizer steps), cutoff 2048), on a sample of
  the train split sized so that its 3 epochs train on as many tokens as the first policy's trex run did (the others'
  tokens are reported beside theirs);
both drawing from the same train split: a seeded sample of 2,000 of SST-2's 66,477 train rows (`TRAIN_ROWS`), so that a
CPU run does not tokenize all of them for a few hundred steps; all trained by trex's Executor (the same trainer and
evaluation for everyone). Validation scores are trex's own (the Executor's, `--eval-limit` rows, Wilson 95% intervals); the test scores come from `ftbench.hf.evaluate_model` on
`--test-limit` rows of the held-out test split for the model each system returns (trex: `tree.best()`'s adapter).
Compute is the training tokens (non-padding) each system used; "the returned model's" are those its adapter saw (the
default: all; trex: the returned node's variant and the adapters it continued along `init_from`, the rest went to variants
it did not return).

    python bench/search_vs_default.py --model smollm2 --seeds 1 --rounds 3 --variants 2 --steps 24
    python bench/search_vs_default.py --model tiny --rounds 2 --variants 1 --steps 2 --eval-limit 8 --test-limit 8   # a smoke run
"""
import argparse, json, math, os, shutil, sys, time
from pathlib import Path
import numpy as np

POLICIES = ('uct', 'greedy', 'sequential', 'random')
TRAIN_ROWS = 2000   # the train split both trex and the default draw from: a seeded sample of SST-2's 66,477 train rows
LF_DEFAULT = dict(rank=8, alpha=16, dropout=0.0, target_modules='all-linear', learning_rate=1e-4, epochs=3.0, scheduler='cosine',
                  warmup_ratio=0.1, micro_batch=8, grad_accum=1, max_length=2048)

def pack_task():
    "ftbench's SST-2 read from the real-data pack (FTBENCH_REALDATA, else shared/realdata beside the repository)."
    from ftbench.core import realdata
    from ftbench.suite import SST2
    root = realdata('sst2')
    if root is None: sys.exit("search_vs_default: the real-data pack is not there (shared/realdata/sst2). Fix: set FTBENCH_REALDATA to the pack.")
    from ftbench.core import register
    @register   # in this process `ftbench.task('sst2')` (what a resumed Session asks for) is the pack's
    class PackSST2(SST2):
        "SST-2 from the real-data pack; its train split a seeded sample of `TRAIN_ROWS` rows (a CPU run need not tokenize 66k)."
        def load(self, split, path=None, limit=None):
            return super().load(split, path or root, limit if split != 'train' else min(limit or TRAIN_ROWS, TRAIN_ROWS))
        # the offline Researcher reads a task's pools when it plans past round 1 (notes/wiring.md, B -> D): the train split is the one pool
        def sources(self): return {'train': self.load('train')}
    return PackSST2()

def tokens(tree)->int:
    "Training tokens of every variant that trained in the tree."
    return sum(r.tokens for n in tree for r in n.results)

def node_line(tree, n)->dict:
    "What a trex run returns: its best node, the validation metric of the credited variant."
    from trex.schema import best_variant
    b = best_variant(n.results, by=tree.reward.read)
    return dict(node=n.id, variant=b.variant, val=b.val.value, val_ci=[b.val.ci_low, b.val.ci_high], plan=n.plan.summary)

def model_tokens(tree, n)->int:
    "Training tokens the model at `n` saw: its credited variant's and, along `init_from`, those of the adapters it continued."
    from trex.schema import best_variant
    out, seen = 0, set()
    while n is not None and n.plan.variants and n.id not in seen:
        seen.add(n.id)
        r = best_variant(n.results, need='adapter')   # the adapter a child continues (Executor.adapter's choice)
        if r is None: break
        out += r.tokens or 0
        init = next((v.config.init_from for v in n.plan.variants if v.name == r.variant), None)
        n = tree.nodes.get(init) if init else None
    return out

def trex_prefix(a, task, model, seed, out:Path)->Path:
    "The first round, the same for every policy (the root is the only node to expand): run once, copied for each policy."
    from trex.session import Session
    cfg = dict(max_steps=a.steps, micro_batch=8, max_length=256, learning_rate=2e-4, rank=16, alpha=32)
    pre = out/'trex-round1'   # a run that stopped is resumed (each stage is resumable: rerun with the same --out)
    s = Session.load(pre) if (pre/'trex.db').exists() else Session.create(pre, task=task, model=model, budget=dict(rounds=1), policy='uct',
                                                                          seed=seed, config=cfg, eval_limit=a.eval_limit, test_limit=0)
    s.researcher.n_variants = a.variants
    while s.step() is not None: pass
    s.tree.close()
    return pre

def trex_policy(a, p:str, pre:Path, out:Path)->tuple:
    "A copy of the first round grown with policy `p` to `--rounds` rounds: (what it returns, the base model's line)."
    from trex.session import Session, policy_spec, policy_of
    d = out/f'trex-{p}'
    if not (d/'trex.db').exists(): shutil.rmtree(d, ignore_errors=True); shutil.copytree(pre, d)
    s = Session.load(d)
    s.policy = policy_of(policy_spec(p)); s.tree.store.set_meta('policy', policy_spec(p))
    s.budget = s.budget.model_copy(update=dict(rounds=a.rounds)); s.researcher.n_variants = a.variants
    t0 = time.time()
    while s.step() is not None: pass
    b = s.tree.best()
    r = dict(best=node_line(s.tree, b), adapter=s.executor.adapter(b.id) if b.parent is not None else None,
             tokens=tokens(s.tree), model_tokens=model_tokens(s.tree, b), nodes=len(s.tree), wall_s=round(time.time() - t0), tree=str(s.tree))
    base = dict(best=node_line(s.tree, s.tree.root), adapter=None, tokens=0)
    s.tree.close()
    return r, base

def default_run(a, task, model, seed, budget_tokens:int, tok_per_row:float, out:Path)->dict:
    "One LLaMA-Factory-default LoRA run on a train sample sized to `budget_tokens` over 3 epochs."
    from trex.executor import Executor
    from trex.schema import Plan, Variant, TrainConfig
    rows = max(8, int(budget_tokens / (LF_DEFAULT['epochs'] * tok_per_row)))
    ex = Executor(out/'default', task, model=model, eval_limit=a.eval_limit, test_limit=0)
    plan = Plan(direction='establish_baseline', goal='the default LoRA recipe',
                recipe=[{'op': 'source', 'split': 'train'}, {'op': 'sample', 'n': rows, 'seed': seed}],
                variants=[Variant(name='llamafactory_default', config=TrainConfig(**LF_DEFAULT, seed=seed))])
    r = ex.run('n1', plan)[0]
    if r.status != 'ok': return dict(error=r.error, tokens=r.tokens, rows=rows)
    return dict(best=dict(node='n1', variant=r.variant, val=r.val.value, val_ci=[r.val.ci_low, r.val.ci_high], plan=f"{rows} train rows x 3 epochs"),
                adapter=ex.adapter('n1'), tokens=r.tokens, rows=rows)

def test_scores(a, task, model, systems:dict, out:Path):
    "Each system's returned model scored on the held-out test split (`--test-limit` rows)."
    from ftbench.hf import evaluate_model
    from trex.models import resolve_model
    f = out/'test_scores.json'; done = json.loads(f.read_text()) if f.exists() else {}   # by adapter: each model is scored once
    for name, r in systems.items():
        if 'best' not in r: continue
        key = str(r.get('adapter'))
        if key not in done:
            e = evaluate_model(task, resolve_model(model), r.get('adapter'), 'test', a.test_limit)
            done[key] = dict(test=e['tuned'], test_ci=e['ci'], n_test=e['n']); f.write_text(json.dumps(done))
        r.update(done[key])

def row_md(name, r)->str:
    if 'best' not in r: return f"| {name} | failed: {r.get('error', '')[:60]} | | {r.get('tokens', 0):,} | | |"
    b = r['best']
    return (f"| {name} | {b['val']:.3f} [{b['val_ci'][0]:.3f}, {b['val_ci'][1]:.3f}] | {r['test']:.3f} [{r['test_ci'][0]:.3f}, {r['test_ci'][1]:.3f}] "
            f"| {r['tokens']:,} | {r.get('model_tokens', r['tokens']):,} | {b['node']} {b['variant']} |")

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default='smollm2', help="'smollm2', 'tiny' (a smoke run) or a model folder")
    ap.add_argument('--seeds', type=int, default=1, help='seeds (each: its own trex runs and default run)')
    ap.add_argument('--first-seed', type=int, default=0, help='the first seed (seeds run first-seed, first-seed + 1, ...; split a long comparison over processes)')
    ap.add_argument('--rounds', type=int, default=3, help='trex rounds below the root per policy (default 3)')
    ap.add_argument('--variants', type=int, default=2, help='variants per trex round (default 2)')
    ap.add_argument('--steps', type=int, default=24, help="optimizer steps of trex's starting configuration (batch 8)")
    ap.add_argument('--eval-limit', type=int, default=200, help='validation rows per variant (default 200)')
    ap.add_argument('--test-limit', type=int, default=400, help='held-out test rows per returned model (default 400)')
    ap.add_argument('--policies', default=','.join(POLICIES), help='comma-separated trex policies')
    ap.add_argument('--out', default=None, help='working folder (default: a temporary one, removed at the end)')
    ap.add_argument('--json', default=None, help='write all the numbers to this file')
    ap.add_argument('--merge', nargs='+', default=None, metavar='JSON', help="print the across-seeds table of earlier runs' --json files (no training)")
    a = ap.parse_args(argv); a.policies = [p for p in a.policies.split(',') if p]
    if a.merge: return merge(a, a.merge)
    bad = [p for p in a.policies if p not in POLICIES]
    if bad: ap.error(f"--policies: unknown {', '.join(bad)} (use {', '.join(POLICIES)})")
    import tempfile
    work = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix='trex-svd-'))
    task, t0, allr = pack_task(), time.time(), []
    print(f"# SST-2 (real-data pack): trex vs the default LoRA recipe, model {a.model}, {a.rounds} rounds x {a.variants} variants, "
          f"{a.steps} steps to start, {a.eval_limit} validation rows, {a.test_limit} test rows, {a.seeds} seed(s)", flush=True)
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        out = work/f'seed{seed}'; out.mkdir(parents=True, exist_ok=True)
        pre, runs = trex_prefix(a, task, a.model, seed, out), {}
        allr.append(dict(seed=seed, runs=runs))
        for i, p in enumerate(a.policies):   # the first policy, then the default sized to its compute, then the others
            runs[p], runs['base'] = trex_policy(a, p, pre, out)
            if i == 0:
                tok_row = allr[-1]['tokens_per_row'] = _tokens_per_row(out/f'trex-{p}')
                runs['default'] = default_run(a, task, a.model, seed, runs[p]['tokens'], tok_row, out)
            (out/'runs.json').write_text(json.dumps(runs, default=str))
            test_scores(a, task, a.model, runs, out)
            print(f"\n## seed {seed}, {i + 1} of {len(a.policies)} policies ({time.time() - t0:.0f} s so far)\n\n"
                  "| system | validation [95% CI] | test [95% CI] | training tokens | the returned model's | returned |\n|---|---|---|---|---|---|")
            for name in ['base', 'default'] + a.policies[:i + 1]: print(row_md(name if name in ('base', 'default') else f'trex {name}', runs[name]))
            sys.stdout.flush()
            if a.json: Path(a.json).write_text(json.dumps(dict(args=vars(a), seeds=allr), indent=1, default=str))
    summary(a, allr)
    print(f"\n{time.time() - t0:.0f} s in all; work folder {work}" + ('' if a.out else ' (removed)'))
    if a.json: Path(a.json).write_text(json.dumps(dict(args=vars(a), seeds=allr), indent=1, default=str))
    if not a.out: shutil.rmtree(work, ignore_errors=True)
    return allr

def _tokens_per_row(run_dir:Path)->float:
    "Training tokens per row seen, measured on a trex run: tokens / (steps x batch) over its trained variants."
    from trex.tree import SearchTree
    t = SearchTree.open(run_dir, create=False)
    cfg = {(n.id, v.name): v.config for n in t for v in n.plan.variants}
    seen = [(r.tokens, cfg[(n.id, r.variant)]) for n in t for r in n.results if r.tokens and (n.id, r.variant) in cfg]
    t.close()
    rows = sum((c.max_steps or 0) * c.micro_batch * c.grad_accum for _, c in seen)
    return sum(k for k, _ in seen) / rows if rows else 64.

def merge(a, files:list)->list:
    "The across-seeds table of several runs' `--json` files (say, one process a seed), the policies those runs share."
    runs = [json.loads(Path(f).read_text()) for f in files]
    allr = [sd for r in runs for sd in r['seeds']]
    a.policies = [p for p in POLICIES if all(p in sd['runs'] for sd in allr)]
    print(f"# {len(allr)} seed(s) from {len(files)} file(s): seeds {', '.join(str(sd['seed']) for sd in allr)}")
    summary(a, allr)
    return allr

def summary(a, allr):
    "Across seeds: mean test score per system, its spread, and trex minus the default per policy."
    names = ['base', 'default'] + a.policies
    print(f"\n## Across {len(allr)} seed(s): test accuracy (mean, and min-max over seeds); difference to the default per seed")
    print("\n| system | test mean | min - max | training tokens (mean) | the returned model's (mean) | minus default (mean ± sd) |\n|---|---|---|---|---|---|")
    for nm in names:
        xs = [s['runs'][nm].get('test') for s in allr]
        if None in xs: print(f"| {nm} | n/a | | | | |"); continue
        d = [s['runs'][nm]['test'] - s['runs']['default']['test'] for s in allr if s['runs']['default'].get('test') is not None]
        sd = f" ± {np.std(d, ddof=1):.3f}" if len(d) > 1 else ''
        own = int(np.mean([s['runs'][nm].get('model_tokens', s['runs'][nm]['tokens']) for s in allr]))
        print(f"| {nm} | {np.mean(xs):.3f} | {min(xs):.3f} - {max(xs):.3f} | {int(np.mean([s['runs'][nm]['tokens'] for s in allr])):,} | {own:,} | "
              + (f"{np.mean(d):+.3f}{sd} |" if d and nm != 'default' else ' |'))

if __name__ == '__main__':
    os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    main()
