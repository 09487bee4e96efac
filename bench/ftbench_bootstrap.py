"""ftbench's vectorised bootstrap (one multinomial count matrix, statistics as matrix products) against the
plain loop over resampled indices, for a mean (accuracy) and for macro-F1 (HoC-sized: 315 docs x 10 labels).

    python bench/ftbench_bootstrap.py

Prints the time of each and the speed-up ratio (baseline: the loop, run in the same process), and checks
that both give the same intervals for the same resamples.
"""
import argparse
if __name__ == '__main__':   # --help prints the purpose and the settings before anything is imported or run
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                            epilog='No options. Needs numpy, scikit-learn (the dev extra) and ftbench.').parse_args()
import time
import numpy as np
from sklearn.metrics import f1_score
from ftbench.scoring import resample_counts, mean_stat, macro_f1_stat

def timeit(f, k=3):
    best = 1e9
    for _ in range(k):
        t = time.perf_counter(); r = f(); best = min(best, time.perf_counter() - t)
    return best, r

rng = np.random.default_rng(0); n, L, B = 315, 10, 1000
x = rng.random(n) < 0.7
Y = rng.random((n, L)) < 0.2; P = Y ^ (rng.random((n, L)) < 0.1)
W = resample_counts(n, B, seed=0)
idx = [np.repeat(np.arange(n), w) for w in W]

for name, vec, loop in [
    ('accuracy', lambda: mean_stat(x)(W), lambda: np.array([x[i].mean() for i in idx])),
    ('macro-F1', lambda: macro_f1_stat(Y, P)(W), lambda: np.array([f1_score(Y[i], P[i], average='macro', zero_division=0) for i in idx]))]:
    tv, rv = timeit(vec); tl, rl = timeit(loop, 1)
    assert np.allclose(rv, rl), name
    print(f"{name:9} vectorised {tv * 1e3:8.1f} ms   loop {tl * 1e3:8.1f} ms   speed-up {tl / tv:6.1f}x   95% CI {np.percentile(rv, [2.5, 97.5]).round(4)}")
