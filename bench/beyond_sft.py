"""Beyond SFT: does a GRPO or DPO round from the best SFT node improve the validation metric over that node?

On mini_order (four economic events to put in order; exact order is the metric, Wilson 95% intervals), all through
trex's Executor (the same child process, guards, evaluation and files as a session):
- **SFT**: `--sft-variants` learning rates on the curated pool, `--sft-steps` steps of 8 rows each; the best by the
  lower confidence bound of validation accuracy is "the best SFT node" (what the offline Researcher switches from);
- **GRPO** from it (`init_from`): the task's own scorer (exact order) plus a format reward on sampled completions,
  `--group` completions a prompt, on the same curated rows;
- **DPO** from it: a `preference_pairs` step has the SFT node answer `--pairs` curated training rows (never validation
  or test prompts: dropped and counted), chosen = the target, rejected = its wrong answer;
- **SFT, longer** (the control): the best SFT variant trained on for the same number of extra steps, so that a gain
  of GRPO or DPO is not just more steps.
`--rounds 2` runs the same three again from the best SFT node so far (by the lower bound: the longer SFT when it won), so
that GRPO and DPO also start from a model that SFT has brought further.
Prints each node's validation accuracy with its interval, pairwise accuracy, training tokens, sampled completions and
seconds, whether the gain over the SFT node is separated (the Researcher's `separated`), and writes `--json`.

    python bench/beyond_sft.py --model smollm2 --sft-steps 12 --sft-lrs 1e-4,3e-4 --rounds 2 --out /tmp/bsft --json bsft.json
    python bench/beyond_sft.py --model tiny --sft-steps 2 --steps 2 --eval-limit 8 --pairs 16   # a smoke run
"""
import argparse, json, os, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

def line(r)->dict:
    "A variant's numbers."
    m = r.metrics or {}
    return dict(variant=r.variant, status=r.status, val=r.val.value if r.val else None, ci=[r.val.ci_low, r.val.ci_high] if r.val else None,
                pairwise=m.get('val_pairwise_accuracy'), tokens=r.tokens, seconds=round(r.time_s), error=(r.error or '')[:200],
                final_loss=m.get('final_loss'), final_reward=m.get('final_reward'), reward_curve=r.reward_curve)

def pair_notes(out:Path, src:str)->dict:
    "What the preference_pairs step on node `src`'s answers did (rows answered, pairs kept, held-out prompts dropped), from the built data's report."
    for f in sorted((out/'data').glob('*/report.json')):
        rec = json.loads((f.parent/'recipe.json').read_text())
        if not any(o['op'] == 'preference_pairs' and o['node'] == src for o in rec): continue
        st = [x for x in json.loads(f.read_text())['steps'] if x['op'] == 'preference_pairs']
        if st: return st[0]['notes'] | dict(seconds=st[0]['seconds'])
    return {}

def _f(x): return '' if x is None else f"{x:.3f}"

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default='smollm2', help="'smollm2', 'tiny' (a smoke run) or a model folder")
    ap.add_argument('--sft-steps', type=int, default=16, help='SFT steps of 8 rows (default 16)')
    ap.add_argument('--sft-lrs', default='2e-4,5e-4', help='SFT learning rates, one variant each (default 2e-4,5e-4)')
    ap.add_argument('--steps', type=int, default=16, help='steps of the GRPO, DPO and longer-SFT rounds (default 16)')
    ap.add_argument('--group', type=int, default=4, help='GRPO completions per prompt (default 4)')
    ap.add_argument('--pairs', type=int, default=160, help='curated training rows the SFT node answers for DPO pairs (default 160)')
    ap.add_argument('--eval-limit', type=int, default=60, help='validation rows (mini_order has 60)')
    ap.add_argument('--objectives', default='grpo,dpo,sft', help="rounds from the best SFT node (default grpo,dpo,sft; sft = longer SFT)")
    ap.add_argument('--rounds', type=int, default=1, help='rounds of the objectives, each from the best SFT node so far (the first SFT node, or a longer-SFT control that beat it)')
    ap.add_argument('--lr-scale', type=float, default=0.5, help="the objectives' learning rate as a share of the best SFT variant's (default 0.5, as the offline Researcher switches)")
    ap.add_argument('--from', dest='from_node', default=None, metavar='NODE', help='one round from this node of --out (new nodes after the last there); with --lr-scale, say, to try another rate')
    ap.add_argument('--out', required=False, default=None, help='working folder (a stage already there is reused)')
    ap.add_argument('--json', default=None, help='write the numbers to this file')
    a = ap.parse_args(argv)
    import tempfile
    from ftbench import task
    from trex.executor import Executor
    from trex.offline import separated
    from trex.schema import Plan, Variant, TrainConfig, best_variant
    out = Path(a.out or tempfile.mkdtemp(prefix='trex-bsft-'))
    t, t0, res = task('mini_order'), time.time(), {}
    ex = Executor(out, t, model=a.model, eval_limit=a.eval_limit, test_limit=0)
    base = dict(micro_batch=8, max_length=256, rank=16, alpha=32, warmup_ratio=0.0, scheduler='constant', seed=0)
    cur = [{'op': 'source', 'pool': 'curated'}]
    def node(nid, plan):
        got = ex.results(nid)   # a stage already run in --out is read back, not trained again
        return got if got and all(r.status == 'ok' for r in got) else ex.run(nid, plan, progress=False)
    lrs = [float(x) for x in a.sft_lrs.split(',')]
    sft = node('n1', Plan(direction='establish_baseline', goal='SFT on the curated pool', recipe=cur,
                          variants=[Variant(name=f'sft_lr{lr:g}', config=TrainConfig(**base, learning_rate=lr, max_steps=a.sft_steps)) for lr in lrs]))
    b = best_variant(sft, by='lcb')
    res['n1_sft'] = [line(r) for r in sft]
    print(f"# mini_order, model {a.model}: SFT {a.sft_steps} steps x 8 rows, then {a.steps} steps of each objective from the best SFT variant\n", flush=True)
    print(f"SFT: best {b.variant} {b.val}  ({time.time() - t0:.0f} s)", flush=True)
    lr = next(r for r in lrs if f'sft_lr{r:g}' == b.variant)
    def plans(src):
        "The rounds from SFT node `src`: GRPO, DPO on its wrong answers, and SFT for as many more steps (the control)."
        c = dict(base, learning_rate=lr * a.lr_scale, max_steps=a.steps, init_from=src)
        return dict(
            grpo=Plan(direction='change_training', goal=f"GRPO from {src}: exact order rewards sampled answers", recipe=cur,
                      variants=[Variant(name='grpo', config=TrainConfig(**c, objective='grpo', num_generations=a.group, max_completion_length=48))]),
            dpo=Plan(direction='change_training', goal=f"DPO from {src} on its wrong answers to curated training rows",
                     recipe=cur + [{'op': 'preference_pairs', 'node': src, 'n': a.pairs, 'max_new_tokens': 48}],
                     variants=[Variant(name='dpo', config=TrainConfig(**c, objective='dpo'))]),
            sft=Plan(direction='change_training', goal=f"SFT from {src} for as many more steps (the control)", recipe=cur,
                     variants=[Variant(name='sft_more', config=TrainConfig(**c))]))
    rows = ["| node | from | objective | validation accuracy [95% CI] | pairwise | tokens | seconds | separated gain over its SFT node |",
            "|---|---|---|---|---|---|---|---|",
            f"| n1 | base | SFT ({b.variant}) | {b.val.value:.3f} [{b.val.ci_low:.3f}, {b.val.ci_high:.3f}] | {_f(line(b)['pairwise'])} | {b.tokens:,} | {round(b.time_s)} | |"]
    sfts, k = {'n1': b}, 1   # the SFT nodes so far: a round starts from the best of them by the lower bound (the offline Researcher's rule)
    if a.from_node:   # one more round from a node of --out, its ids after the last node there
        fb = best_variant(ex.results(a.from_node), by='lcb')
        if fb is None: sys.exit(f"--from: {a.from_node} has no ok result in {out}. Fix: name a trained node of this --out.")
        sfts, k = {a.from_node: fb}, max(int(d.name[1:]) for d in (out/'nodes').iterdir() if d.name[1:].isdigit())
    for rnd in range(1 if a.from_node else a.rounds):
        src = max(sfts, key=lambda n: sfts[n].val.lcb)
        sb, ps = sfts[src], plans(src)
        for o in [o for o in a.objectives.split(',') if o]:
            k += 1
            nid, key = f'n{k}', o if rnd == 0 and not a.from_node else f'{o}_from_{src}' + (f'_lr{a.lr_scale:g}x' if a.from_node else '')
            r = node(nid, ps[o])[0]
            res[key] = line(r) | {'node': nid, 'from': src}
            if o == 'dpo': res[key]['pairs'] = pair_notes(out, src)
            if r.status != 'ok':
                rows.append(f"| {nid} | {src} | {o} | failed: {res[key]['error'][:80]} | | {r.tokens:,} | {round(r.time_s)} | |")
            else:
                sep = res[key]['separated'] = separated(r.val, sb.val)
                if o == 'sft': sfts[nid] = r
                rows.append(f"| {nid} | {src} | {o}{' (longer)' if o == 'sft' else ''} | {r.val.value:.3f} [{r.val.ci_low:.3f}, {r.val.ci_high:.3f}] "
                            f"| {_f(res[key]['pairwise'])} | {r.tokens:,} | {round(r.time_s)} | {'yes' if sep else 'no'} ({r.val.value - sb.val.value:+.3f}) |")
            print(f"{key}: {res[key]}  ({time.time() - t0:.0f} s)", flush=True)
            if a.json: Path(a.json).write_text(json.dumps(dict(args=vars(a), results=res), indent=1, default=str))
    print('\n' + '\n'.join(rows))
    print(f"\n{time.time() - t0:.0f} s in all; work folder {out}")
    if a.json: Path(a.json).write_text(json.dumps(dict(args=vars(a), results=res, table=rows), indent=1, default=str))
    return res

if __name__ == '__main__':
    os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    main()
