#!/usr/bin/python3
"""Reference metrics from scikit-learn for test/metrics.test.ts.

Writes test/fixtures/golden/metrics.json: a list of cases (labels, label roles, gold, pred, parse)
with the metrics scikit-learn computes for them. A prediction that is no label (null) is passed to
scikit-learn as the string "<none>", which is outside `labels=`, so it counts as a false negative
for the gold class and a false positive for no class; `balanced_accuracy_score` has no `labels=`
and drops classes absent from y_true (their recall is NaN), which is what `ua` matches.

Run: /usr/bin/python3 scripts/golden_metrics.py   (Debian: apt-get install python3-sklearn)
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
import warnings

warnings.filterwarnings("ignore")  # balanced_accuracy warns about classes absent from y_true

NONE = "<none>"


def case(name, labels, gold, pred, parse=None, neutral=None, positive=None, negative=None):
    return dict(name=name, labels=labels, gold=gold, pred=pred, parse=parse,
                neutral=neutral, positive=positive, negative=negative)


def reference(c):
    labels = c["labels"]
    y_true = c["gold"]
    y_pred = [NONE if p is None or p not in labels else p for p in c["pred"]]
    n = len(y_true)
    m = {
        "accuracy": accuracy_score(y_true, y_pred),
        "wa": accuracy_score(y_true, y_pred),
        "macro_f1": f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0),
        "weighted_f1": f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0),
        "micro_f1": f1_score(y_true, y_pred, labels=labels, average="micro", zero_division=0),
        "ua": balanced_accuracy_score(y_true, y_pred),
    }
    if c["neutral"] is not None:
        rest = [l for l in labels if l != c["neutral"]]
        m["micro_f1_excl_neutral"] = f1_score(y_true, y_pred, labels=rest, average="micro", zero_division=0)
    if c["positive"] is not None:
        pn = f1_score(y_true, y_pred, labels=[c["positive"], c["negative"]], average=None, zero_division=0)
        m["pos_neg_f1"] = float(np.mean(pn))
    parse = c["parse"] or ["ok" if p is not None and p in labels else "unparseable" for p in c["pred"]]
    m["parse_rate"] = sum(1 for s in parse if s == "ok") / n
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per_class = {l: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                 for i, l in enumerate(labels)}
    cm = confusion_matrix(y_true, y_pred, labels=labels + [NONE])[: len(labels)]
    return {
        "metrics": {k: float(v) for k, v in m.items()},
        "per_class": per_class,
        "confusion": cm.tolist(),
        "parse_counts": {s: sum(1 for x in parse if x == s) for s in ("ok", "unparseable", "error")},
    }


def main():
    rng = np.random.RandomState(20261123)
    erc = ["neutral", "anger", "disgust", "fear", "joy", "sadness", "surprise"]
    cases = [
        case("all-correct", ["a", "b", "c"], ["a", "b", "c", "a"], ["a", "b", "c", "a"]),
        case("all-wrong", ["a", "b", "c"], ["a", "b", "c", "a"], ["b", "c", "a", "c"]),
        case("single-example", ["a", "b"], ["b"], ["b"]),
        case("single-example-wrong", ["a", "b"], ["b"], ["a"]),
        case("imbalanced", ["maj", "mid", "min"],
             ["maj"] * 12 + ["mid"] * 5 + ["min"] * 2,
             ["maj"] * 10 + ["mid", "min"] + ["mid"] * 3 + ["maj", "maj"] + ["maj", "min"]),
        case("class-never-predicted", ["x", "y", "z"],
             ["x", "y", "z", "z", "y", "x"], ["x", "y", "y", "x", "y", "x"]),
        case("class-absent-from-gold", ["x", "y", "z"],
             ["x", "y", "x", "y", "x"], ["x", "z", "x", "y", "z"]),
        case("class-absent-everywhere", ["x", "y", "z", "w"],
             ["x", "y", "x", "y"], ["x", "y", "y", "y"]),
        case("pred-null", ["a", "b", "c"],
             ["a", "b", "c", "a", "b", "c"], ["a", None, "c", None, "b", "a"],
             parse=["ok", "unparseable", "ok", "error", "ok", "ok"]),
        case("all-null", ["a", "b"], ["a", "b", "a"], [None, None, None],
             parse=["error", "unparseable", "error"]),
        case("neutral-and-poles", ["negative", "neutral", "positive"],
             ["positive", "negative", "neutral", "neutral", "positive", "negative", "positive", "neutral"],
             ["positive", "neutral", "neutral", "positive", None, "negative", "positive", "negative"],
             neutral="neutral", positive="positive", negative="negative"),
        case("only-neutral-gold", ["neutral", "joy", "anger"],
             ["neutral", "neutral", "neutral"], ["neutral", "joy", "neutral"], neutral="neutral"),
    ]
    # A class predicted but never gold: `score` without --protocol takes the labels as the union of
    # gold and predicted labels, scikit-learn's default, so this case's labels are that union.
    cases.append(case("pred-not-in-gold", ["a", "b", "c"], ["a", "b", "a", "b", "a"], ["a", "c", "b", None, "c"]))
    # The edge cases again with label roles, so micro_f1_excl_neutral (DailyDialog) and pos_neg_f1
    # (Mastodon) are checked on them too.
    pnn = ["negative", "neutral", "positive"]
    roles = dict(neutral="neutral", positive="positive", negative="negative")
    cases += [
        case("roles-all-correct", pnn, ["negative", "neutral", "positive", "neutral"],
             ["negative", "neutral", "positive", "neutral"], **roles),
        case("roles-all-wrong", pnn, ["negative", "neutral", "positive", "neutral"],
             ["positive", "negative", "neutral", "positive"], **roles),
        case("roles-single-example", pnn, ["positive"], ["positive"], **roles),
        case("roles-single-neutral-wrong", pnn, ["neutral"], ["negative"], **roles),
        case("roles-only-neutral-predicted", pnn, ["negative", "positive", "neutral", "positive"],
             ["neutral", "neutral", "neutral", "neutral"], **roles),
        case("roles-pole-never-predicted", pnn,
             ["negative", "positive", "neutral", "negative", "positive"],
             ["neutral", "positive", "neutral", "neutral", "positive"], **roles),
        case("roles-pole-absent-from-gold", pnn, ["positive", "neutral", "positive", "neutral"],
             ["negative", "neutral", "positive", "negative"], **roles),
        case("roles-pred-null", pnn, ["negative", "neutral", "positive", "positive", "negative"],
             ["negative", None, None, "positive", "neutral"],
             parse=["ok", "unparseable", "error", "ok", "ok"], **roles),
        case("roles-all-null", pnn, ["negative", "positive"], [None, None],
             parse=["error", "unparseable"], **roles),
    ]
    # Mastodon-like: 3 classes with poles, neutral most frequent, 10% no-label answers.
    rng3 = np.random.RandomState(20261130)  # its own stream: the cases below keep their values
    gold3 = rng3.choice(pnn, size=300, p=[0.33, 0.42, 0.25]).tolist()
    pred3, parse3 = [], []
    for g in gold3:
        u = rng3.rand()
        if u < 0.1:
            pred3.append(None)
            parse3.append("unparseable")
        elif u < 0.65:
            pred3.append(g)
            parse3.append("ok")
        else:
            pred3.append(str(rng3.choice(pnn)))
            parse3.append("ok")
    cases.append(case("roles-random-300", pnn, gold3, pred3, parse=parse3, **roles))
    # A random 500-example case: skewed gold like MELD, a 60% accurate classifier, 4% no-label answers.
    gold = rng.choice(erc, size=500, p=[0.47, 0.11, 0.03, 0.03, 0.16, 0.07, 0.13]).tolist()
    pred = []
    parse = []
    for g in gold:
        u = rng.rand()
        if u < 0.04:
            pred.append(None)
            parse.append("unparseable" if rng.rand() < 0.5 else "error")
        elif u < 0.64:
            pred.append(g)
            parse.append("ok")
        else:
            pred.append(str(rng.choice(erc)))
            parse.append("ok")
    cases.append(case("random-500", erc, gold, pred, parse=parse, neutral="neutral"))
    # Labels outside the label set in pred count as no label.
    cases.append(case("pred-outside-labels", ["a", "b"], ["a", "b", "a"], ["a", "banana", "b"],
                      parse=["ok", "ok", "ok"]))

    out = {
        "generator": "scripts/golden_metrics.py",
        "sklearn": sklearn.__version__,
        "cases": [dict(c, expected=reference(c)) for c in cases],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "golden", "metrics.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
