#!/usr/bin/python3
"""Reference values from SciPy/NumPy for test/stats.test.ts.

Writes test/fixtures/golden/stats.json:
- McNemar's exact test = scipy.stats.binomtest(min(b, c), b + c, 0.5, 'two-sided') on discordant counts;
- percentiles = numpy.percentile (linear interpolation, the quantile rule of the bootstrap CIs);
- Student t quantiles = scipy.stats.t.ppf (seed-mean intervals).

Run: /usr/bin/python3 scripts/golden_stats.py   (Debian: apt-get install python3-scipy)
"""
import json
import os

import numpy as np
import scipy
from scipy.stats import binomtest, t


def main():
    pairs = [(0, 0), (0, 1), (3, 3), (2, 9), (10, 25), (30, 100), (480, 1000), (5, 2000), (0, 70), (60, 100), (400, 1000)]
    mcnemar = [{"b": b, "c": c, "p": binomtest(min(b, c), b + c, 0.5, alternative="two-sided").pvalue if b + c else 1.0}
               for b, c in pairs]
    rng = np.random.RandomState(7)
    values = rng.rand(37).tolist()
    qs = [0, 0.025, 0.1, 0.5, 0.9, 0.975, 1]
    percentiles = {"values": values, "q": qs, "expected": [float(np.percentile(values, 100 * q)) for q in qs]}
    student = [{"p": p, "df": df, "q": float(t.ppf(p, df))} for p, df in [(0.975, 2), (0.975, 9), (0.95, 4), (0.995, 29)]]
    # A percentile bootstrap CI of weighted F1 with many resamples (numpy RNG): the TS bootstrap,
    # with its own RNG, must land within Monte Carlo error of it.
    from sklearn.metrics import f1_score
    brng = np.random.RandomState(11)
    n = 300
    gold = brng.choice(4, size=n, p=[0.5, 0.25, 0.15, 0.1])
    pred = np.where(brng.rand(n) < 0.65, gold, brng.randint(0, 4, size=n))
    draws = []
    for _ in range(20000):
        idx = brng.randint(0, n, size=n)
        draws.append(f1_score(gold[idx], pred[idx], labels=[0, 1, 2, 3], average="weighted", zero_division=0))
    low, high = np.percentile(draws, [2.5, 97.5])
    bootstrap = {"labels": ["a", "b", "c", "d"], "gold": gold.tolist(), "pred": pred.tolist(),
                 "resamples": 20000, "low": float(low), "high": float(high)}
    out = {"generator": "scripts/golden_stats.py", "scipy": scipy.__version__,
           "mcnemar": mcnemar, "percentiles": percentiles, "student_t": student, "bootstrap_weighted_f1": bootstrap}
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "golden", "stats.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
