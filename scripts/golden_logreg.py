#!/usr/bin/python3
"""Reference values for the tfidf-logreg baseline, from scikit-learn (Debian python3-sklearn).

Writes test/fixtures/golden/logreg.json with:
- "logreg": a small fixed dataset (written out in full) and, per C, scikit-learn's
  LogisticRegression(multi_class="multinomial", solver="lbfgs", fit_intercept=True) coefficients,
  intercepts, training-set probabilities and the value of the objective the TypeScript trainer
  minimises, f(W, b) = mean_i CE_i + ||W||^2 / (2 C n). scikit-learn minimises
  C * sum_i CE_i + ||W||^2 / 2 (intercept not penalised), which is f times C * n: same minimiser.
- "tfidf": TfidfVectorizer(ngram_range=(1, 2), min_df=2, smooth_idf, norm="l2") vocabulary, idf and
  rows for a few texts, with raw and sublinear tf, using the token pattern the TypeScript side uses
  by default (\\w runs with inner apostrophes; one-letter tokens kept).

Run from the repository root:  /usr/bin/python3 scripts/golden_logreg.py
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


def logreg_case():
    rng = np.random.RandomState(7)
    n, v, k = 60, 8, 3
    X = rng.rand(n, v)
    X[rng.rand(n, v) < 0.55] = 0.0  # sparse-looking rows, some all-zero entries
    X = np.round(X, 3)
    true_w = rng.randn(v, k) * 2.0
    logits = X @ true_w + rng.randn(n, k) * 0.8
    y = logits.argmax(axis=1)
    fits = []
    for C in [0.1, 1.0, 10.0]:
        clf = LogisticRegression(
            C=C, multi_class="multinomial", solver="lbfgs", fit_intercept=True, tol=1e-12, max_iter=100000
        )
        clf.fit(X, y)
        W = clf.coef_.T  # (v, k), feature-major like the TypeScript weights
        b = clf.intercept_
        z = X @ W + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        ce = -np.log(p[np.arange(n), y]).mean()
        objective = ce + (W**2).sum() / (2 * C * n)
        onehot = np.eye(k)[y]
        grad_w = X.T @ (p - onehot) / n + W / (C * n)
        grad_b = (p - onehot).mean(axis=0)
        fits.append(
            {
                "C": C,
                "coef": W.tolist(),
                "intercept": b.tolist(),
                "proba": p.tolist(),
                "objective": float(objective),
                "gradient_inf_norm": float(max(abs(grad_w).max(), abs(grad_b).max())),
            }
        )
    return {"X": X.tolist(), "y": y.tolist(), "classes": k, "fits": fits}


TEXTS = [
    "I can't believe it!",
    "Oh my God, I can't believe you did that.",
    "Okay. Okay, fine.",
    "You did that? Oh my God!",
    "Fine, fine. I believe you.",
    "What? What are you talking about?",
    "I am talking about you, Ross!",
    "Ross, you can't be serious.",
    "Oh, okay. That's fine.",
    "That's what I am talking about!",
]


def tfidf_case():
    out = {"texts": TEXTS, "variants": []}
    for sublinear in [False, True]:
        vec = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            token_pattern=r"(?u)\w+(?:'\w+)*",
            lowercase=True,
            smooth_idf=True,
            norm="l2",
            sublinear_tf=sublinear,
        )
        M = vec.fit_transform(TEXTS).toarray()
        terms = sorted(vec.vocabulary_, key=lambda t: vec.vocabulary_[t])
        out["variants"].append(
            {
                "sublinear_tf": sublinear,
                "terms": terms,
                "idf": vec.idf_.tolist(),
                "rows": M.tolist(),
            }
        )
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.path.join(root, "test", "fixtures", "golden", "logreg.json")
    doc = {
        "generator": "scripts/golden_logreg.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "logreg": logreg_case(),
        "tfidf": tfidf_case(),
    }
    with open(target, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
