"""The Trainer's per-step overheads in trex's training path: logging every step, evaluation, checkpoints.

The same model, rows and LoRA settings as bench/train_throughput.py, through trex.train.train in fresh child
processes, in five settings that add one overhead at a time:

- lean:     no per-step log (one log line at the end), no evaluation, no checkpoint
- log:      + the loss logged every step (what trex's progress bar and loss curve read)
- ckpt:     + a checkpoint every quarter of the run (at least every 10 steps: train_kwargs' default)
- eval:     + the evaluation loss on 16 held-out rows every quarter
- executor: log + ckpt + eval, as the Executor runs a variant

The time is `Trainer.train`'s CPU time (all the process's threads; model loading excluded; the wall time is kept too:
CPU time does not count the waits of a machine shared with other work, so it stays comparable there), the median over REPEATS runs per setting, the settings
in a rotated order each repeat; the table gives each overhead in seconds per event and as a share of the lean run, then
scales the executor's overhead to a run of RUN_STEPS steps. Ratios, not absolute times, are what carry across machines.

MODEL=smollm2 uses SmolLM2-135M (the demo's model; default: the tiny random one); STEPS, REPEATS, RUN_STEPS override.
"""
import argparse
if __name__ == '__main__':
    _ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _ap.add_argument('--child', nargs=3, metavar=('SETTING', 'MODEL', 'DATA'), help=argparse.SUPPRESS)
    ARGS = _ap.parse_args()
import json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import train_throughput as tt   # one implementation of the benchmark's model and rows

SETTINGS = ('lean', 'log', 'ckpt', 'eval', 'executor')
STEPS = int(os.environ.get('STEPS', 40))
REPEATS = int(os.environ.get('REPEATS', 3))
RUN_STEPS = int(os.environ.get('RUN_STEPS', 200))


def one(setting, model, d)->dict:
    "Train `STEPS` steps in `setting`; the Trainer.train wall time and what happened."
    import transformers
    from trex import train as T
    from trex.schema import TrainConfig
    spans, orig_train, orig_kw = [], transformers.Trainer.train, T.train_kwargs
    def timed(self, *a, **k):
        t, c = time.perf_counter(), time.process_time()
        r = orig_train(self, *a, **k)
        spans.append((time.perf_counter() - t, time.process_time() - c))
        return r
    def kwargs(cfg, out, n, save_every=None, has_eval=False, cuda=False):
        kw = orig_kw(cfg, out, n, save_every, has_eval, cuda)
        if setting == 'lean': kw['logging_steps'] = 10**6
        return kw
    transformers.Trainer.train, T.train_kwargs = timed, kwargs
    cfg = TrainConfig(rank=16, alpha=32, dropout=0.0, target_modules=tt.TARGETS, learning_rate=1e-4, scheduler='constant',
                      warmup_ratio=0, max_steps=STEPS, micro_batch=tt.MB, max_length=tt.SEQ)
    ev = None
    if setting in ('eval', 'executor'):
        import datasets
        ev = tt.TMP/'eval.jsonl'
        rows = datasets.load_from_disk(d)['train'].select(range(16))
        ev.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    save = None if setting in ('ckpt', 'executor') else 10**6
    out = Path(tempfile.mkdtemp(dir=tt.TMP))   # a fresh folder each run: train() resumes from a checkpoint left in its folder
    r = T.train(model, d, out, cfg, eval_data=str(ev) if ev else None, save_every=save)
    log = T.read_log(out)
    return dict(train_s=round(spans[0][1], 3), wall_s=round(spans[0][0], 3), status=r['status'], steps=r['steps'], logged=sum('loss' in o for o in log),
                evals=sum('eval_loss' in o for o in log), checkpoints=STEPS//max(10, STEPS//4) if save is None else 0)


def child(setting, model, d)->dict:
    "One timed run of `setting` in a fresh process."
    p = subprocess.run([sys.executable, __file__, '--child', setting, model, d], capture_output=True, text=True,
                       env=dict(os.environ, TMP_DIR=str(tt.TMP/setting)))
    line = [l for l in p.stdout.splitlines() if l.startswith('CHILD ')]
    if p.returncode or not line: return dict(error=(p.stderr or p.stdout)[-400:])
    return json.loads(line[-1][6:])


if __name__ == '__main__' and ARGS.child:
    s, model, d = ARGS.child
    tt.TMP = Path(os.environ['TMP_DIR'])
    tt.TMP.mkdir(parents=True, exist_ok=True)
    print('CHILD ' + json.dumps(one(s, model, d)), flush=True)
    sys.exit(0)

if __name__ == '__main__':
    model = tt.model_folder()
    d = tt.data(tt.MB*STEPS)
    runs = {s: [] for s in SETTINGS}
    for i in range(REPEATS):
        for s in SETTINGS[i % len(SETTINGS):] + SETTINGS[:i % len(SETTINGS)]:
            runs[s].append(child(s, model, d))
            print(s, i, runs[s][-1], flush=True)
    bad = {s: r for s, rs in runs.items() for r in rs if 'train_s' not in r}
    if bad: sys.exit(f"failed runs: {json.dumps(bad)[:2000]}")
    med = {s: statistics.median(r['train_s'] for r in rs) for s, rs in runs.items()}
    spread = {s: (max(r['train_s'] for r in rs) - min(r['train_s'] for r in rs))/med[s] for s, rs in runs.items()}
    ev = {'log': runs['log'][0]['logged'], 'ckpt': runs['ckpt'][0]['checkpoints'], 'eval': runs['eval'][0]['evals']}
    base = {'log': 'lean', 'ckpt': 'log', 'eval': 'log', 'executor': 'lean'}
    res = dict(model='smollm2' if tt.SMOL else 'tiny', seq=tt.SEQ, micro_batch=tt.MB, steps=STEPS, repeats=REPEATS,
               threads=tt.torch.get_num_threads(), median_s=med, spread=spread, events=ev)
    print(f"\n{res['model']}, {STEPS} steps of {tt.MB}x{tt.SEQ} tokens, {REPEATS} runs per setting, {res['threads']} threads")
    print(f"{'setting':9} {'train CPU s (med)':>17} {'spread':>7} {'vs lean':>8} {'added s':>8} {'events':>7} {'s/event':>8}")
    for s in SETTINGS:
        add = med[s] - med[base.get(s, 'lean')] if s != 'lean' else 0.
        n = ev.get(s)
        print(f"{s:9} {med[s]:>17.2f} {spread[s]:>7.2f} {med[s]/med['lean']:>7.2f}x {add:>8.2f} {n if n is not None else '':>7} "
              f"{(add/n if n else float('nan')):>8.3f}")
    step = med['lean']/STEPS
    over = med['executor'] - med['lean']
    res['executor_overhead'] = round(over/med['lean'], 3)
    print(f"the executor's overheads add {over/med['lean']:.0%} to {STEPS} lean steps ({step:.3f} s each); at {RUN_STEPS} steps, "
          f"with the same cadence (a log each step, 4 evaluations, checkpoints every max(10, steps/4)), "
          f"they would add about {(RUN_STEPS*(med['log']-med['lean'])/STEPS + 4*(med['eval']-med['log'])/max(1, ev['eval']) + (RUN_STEPS//max(10, RUN_STEPS//4))*(med['ckpt']-med['log'])/max(1, ev['ckpt']))/(RUN_STEPS*step):.0%}")
    (Path(os.environ.get('OUT') or tt.TMP)/'train_overheads.json').write_text(json.dumps(res, indent=1))
    print('RESULT', json.dumps(res))
