#!/usr/bin/python3
"""The scikit-learn side of bench/stats.bench.ts: 1,000-resample percentile bootstrap CI of weighted
F1 (utterance resampling, numpy's RNG), timed. Reads {"labels", "gold", "pred", "resamples"} as JSON
on stdin (gold/pred as label indices, -1 = no label) and prints {"seconds", "cpu_seconds", "low", "high", "sklearn"}."""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.metrics import f1_score


def permutation(spec):
    """scipy.stats.permutation_test on paired predictions (permutation_type='samples' swaps the two
    systems' answers per example: approximate randomization), statistic = weighted-F1 difference."""
    import scipy
    from scipy.stats import permutation_test

    labels = list(range(len(spec["labels"])))
    gold = np.asarray(spec["gold"])

    def statistic(x, y):
        return f1_score(gold, x, labels=labels, average="weighted", zero_division=0) - f1_score(
            gold, y, labels=labels, average="weighted", zero_division=0
        )

    start = time.perf_counter()
    cpu_start = time.process_time()
    res = permutation_test(
        (np.asarray(spec["pred"]), np.asarray(spec["pred_b"])),
        statistic,
        permutation_type="samples",
        n_resamples=spec["permutations"],
        vectorized=False,
        random_state=0,
    )
    print(json.dumps({
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu_start,
        "permutations": spec["permutations"],
        "p": float(res.pvalue),
        "scipy": scipy.__version__,
    }))


def main():
    spec = json.load(sys.stdin)
    if spec.get("mode") == "permutation":
        return permutation(spec)
    labels = list(range(len(spec["labels"])))
    gold = np.asarray(spec["gold"])
    pred = np.asarray(spec["pred"])
    b = spec["resamples"]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    cpu_start = time.process_time()
    values = np.empty(b)
    n = len(gold)
    for i in range(b):
        idx = rng.integers(0, n, n)
        values[i] = f1_score(gold[idx], pred[idx], labels=labels, average="weighted", zero_division=0)
    low, high = np.percentile(values, [2.5, 97.5])
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "low": float(low), "high": float(high), "sklearn": sklearn.__version__}))


if __name__ == "__main__":
    main()
