"""Compare the search tree's selection policies on the simulated objective (`trex.sim`).

Runs each policy for 20 expansions over 50 seeded landscapes (local optima, noise, failing regions)
and prints, per policy: the mean best true score as a fraction of the optimum, its standard error,
how often the search reached 95% of the optimum, the mean number of expansions it needed (a run
that never got there counts as 21), and the ratio of each mean to greedy best-first's, run in the
same process. Not a timed test: `python bench/search_policies.py [--seeds 50] [--expansions 20]`.
"""
import argparse, math, time
from trex.sim import compare, table
from trex.tree import UCT, Greedy, Sequential, RandomPolicy

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seeds', type=int, default=50, help='landscapes per policy (default: 50)')
    ap.add_argument('--expansions', type=int, default=20, help='expansions per search (default: 20)')
    ap.add_argument('--noise', type=float, default=None, help='evaluation noise (default: the Landscape default, 0.03)')
    ap.add_argument('--tuning', action='store_true', help='also run other UCT constants and the descent rule')
    a = ap.parse_args()
    pols = {'uct (default c=%g)' % UCT().c: UCT(), 'greedy best-first': Greedy(), 'sequential': Sequential(), 'random': RandomPolicy(0)}
    if a.tuning:
        for c in (0.1, 0.2, 0.3, 0.5, 1.0):
            if c != UCT().c: pols[f'uct c={c}'] = UCT(c)
        pols['uct descent c=0.2'] = UCT(0.2, 'descent')
    t0 = time.time()
    rows = compare(pols, seeds=a.seeds, expansions=a.expansions, progress=True, **({'noise': a.noise} if a.noise is not None else {}))
    print(f"{a.seeds} seeds x {a.expansions} expansions, noise {a.noise if a.noise is not None else 'default'}, {time.time()-t0:.0f} s")
    print(table(rows, 'greedy best-first'))
    u,g = rows[0],rows[1]
    diff = u['best'] - g['best']; se = math.sqrt(u['se']**2 + g['se']**2)
    print(f"UCT - greedy: {diff:+.4f} (± {se:.4f}): UCT is {'not worse than' if diff >= 0 else 'WORSE than'} greedy on average")
