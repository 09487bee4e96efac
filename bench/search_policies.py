"""Tune the search tree's selection policies on simulated landscapes, then report them on held-out ones (`trex.sim`).

Tuning uses landscapes 0..T-1 (`--tune-seeds`); the report uses landscapes 1000..1000+H-1 (`--test-seeds`), which
no choice was made on. Each search runs `--expansions` expansions of 3 variants. The score of a search is the true
(noise-free) score of the node it returns (`tree.best()` at the end) as a fraction of the landscape's optimum.

1. UCT's constant c and global argmax against descent (point-score rewards, width 1);
2. the reward rule, for the tuned UCT and for greedy: the point score, the lower confidence bound (lcb), and lcb with
   "a child differs from its parent only when their intervals separate";
3. the virtual loss, at a session width of 3 (three nodes picked before any finishes);
then on the held-out landscapes: random, sequential, greedy, UCT with the library's defaults and the tuned UCT, with
paired differences (same landscapes) against random.

Evaluation noise: `--noise 0.03` (Gaussian, the Landscape default, about a 200-row validation set) or `--n-eval 24`
(k/24 correct with a Wilson interval: the small validation sets a cheap search uses).
Not a timed test: `python bench/search_policies.py [--tune-seeds 30] [--test-seeds 50] [--n-eval 24]`.
"""
import argparse, json, math, sys, time
from trex.sim import compare, paired
from trex.tree import UCT, Greedy, Sequential, RandomPolicy

def best_of(rows): return max(rows, key=lambda r: r['best'])

def md(rows, ref=None)->str:
    "A markdown table: mean ± se, reached 95%, and the paired difference against `ref` (a row) when given."
    out = ['| policy | best/optimum | ± se | reached 95% |' + (f" vs {ref['policy']} (paired) |" if ref else ''),
           '|---|---|---|---|' + ('---|' if ref else '')]
    for r in rows:
        d = f" {paired(r, ref)[0]:+.4f} ± {paired(r, ref)[1]:.4f} |" if ref and r is not ref else (' |' if ref else '')
        out.append(f"| {r['policy']} | {r['best']:.4f} | {r['se']:.4f} | {r['reached']:.0%} |" + d)
    return '\n'.join(out)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--tune-seeds', type=int, default=30, help='landscapes to tune on, seeds 0..T-1 (default: 30)')
    ap.add_argument('--test-seeds', type=int, default=50, help='held-out landscapes, seeds 1000.. (default: 50)')
    ap.add_argument('--expansions', type=int, default=20, help='expansions per search (default: 20)')
    ap.add_argument('--noise', type=float, default=None, help='Gaussian evaluation noise (default: the Landscape default, 0.03)')
    ap.add_argument('--n-eval', type=int, default=None, help='binomial evaluation on N rows with a Wilson interval instead of Gaussian noise')
    ap.add_argument('--json', default=None, help='also write every row (with per-seed values) to this file')
    a = ap.parse_args()
    kw = {k: v for k, v in dict(noise=a.noise, n_eval=a.n_eval).items() if v is not None}
    tune, test, E, t0 = list(range(a.tune_seeds)), list(range(1000, 1000 + a.test_seeds)), a.expansions, time.time()
    say = lambda *x: print(*x, flush=True)
    say(f"# search policies: {a.tune_seeds} tuning landscapes, {a.test_seeds} held-out, {E} expansions, noise {kw or 'default (0.03)'}")
    point = dict(read='value')
    grid = {f"uct c={c} {m}": (UCT(c, m), point) for m in ('global', 'descent') for c in (0.03, 0.1, 0.3, 1.0)}
    r1 = compare(grid, tune, E, progress=True, **kw)
    say("\n## 1. UCT constant and mode (tuning landscapes, point rewards)\n" + md(r1))
    b1 = best_of(r1); c, mode = grid[b1['policy']][0].c, grid[b1['policy']][0].mode
    rules = {'point': dict(read='value'), 'lcb': dict(read='lcb'), 'lcb+separate': dict(read='lcb', separate=True)}
    g2 = {f"{pn} {rn}": (p, rw) for pn, p in ((f"uct c={c} {mode}", UCT(c, mode)), ('greedy', Greedy())) for rn, rw in rules.items()}
    r2 = compare(g2, tune, E, progress=True, **kw)
    say("\n## 2. Reward rule (tuning landscapes)\n" + md(r2))
    rule = max(rules, key=lambda rn: next(r['best'] for r in r2 if r['policy'] == f"uct c={c} {mode} {rn}"))
    g3 = {f"uct c={c} {mode} width 3, virtual loss {vl}": (UCT(c, mode, vl), rules[rule]) for vl in (-0.5, 0.0, 0.5)}
    r3 = compare(g3, tune, E, progress=True, width=3, **kw)
    say("\n## 3. Virtual loss at width 3 (tuning landscapes)\n" + md(r3))
    vl = g3[best_of(r3)['policy']][0].virtual_loss
    held = {'random': (RandomPolicy(0), rules[rule]), 'sequential': (Sequential(), rules[rule]), f'greedy ({rule})': (Greedy(), rules[rule]),
            'uct defaults (c=0.1 global, lcb)': (UCT(), None), f'uct tuned (c={c} {mode}, {rule})': (UCT(c, mode), rules[rule]),
            f'uct tuned, point rewards': (UCT(c, mode), point)}
    r4 = compare(held, test, E, progress=True, **kw)
    say(f"\n## 4. Held-out landscapes (seeds 1000-{999 + a.test_seeds})\n" + md(r4, r4[0]))
    r5 = compare({'uct tuned width 3, virtual loss 0 (default)': (UCT(c, mode), rules[rule]),
                  f'uct tuned width 3, virtual loss {vl} (tuned)': (UCT(c, mode, vl), rules[rule])}, test, E, progress=True, width=3, **kw)
    say("\n## 5. Held-out, width 3\n" + md(r5, r5[0]))
    u, rnd = next(r for r in r4 if r['policy'].startswith('uct tuned (')), r4[0]
    d, se = paired(u, rnd)
    say(f"\nTuned UCT - random on held-out landscapes: {d:+.4f} ± {se:.4f} (paired se); "
        + ("one landscape: no error estimate" if len(test) < 2 else "more than 2 se: UCT beats random" if d > 2*se
           else "within 2 se: UCT does NOT beat random by more than its error"))
    say(f"{time.time() - t0:.0f} s in all")
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(args=vars(a), tuning=[r1, r2, r3], held_out=[r4, r5]), f)
