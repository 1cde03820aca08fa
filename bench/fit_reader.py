#!/usr/bin/env python3
"""Fit how the reader's verdict joins the sentence model's (index/searching/evidence.py READ), cross-validated,
and choose how many sentences of each article it reads (bot/answer.py READ_FIRST, READ_OTHERS).

Candidates are fit_answers.py's: every candidate sentence of the articles the real pipeline reads,
for News QA dev's answerable questions and XQuAD's held-out third (the articles the bundled reader was
not trained on), with their sentence-model features. The reader reads, per article, the candidates
the cheap features rank highest, as served. READ is a logistic regression over the sentence model's
logit and the reader's logit, fitted with L2 by Newton's method; folds are grouped by article.
Printed: how often the right article's chosen sentence holds the answer, as served, with N sentences
of the article read, for the sentence model alone, the reader alone and the two joined (CV).

    python bench/fit_reader.py [--refresh]
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from common import (CACHE, NEWSQA, SUMMARIES, WIKINEWS, bench_config, ensure_index, newsqa_config, xquad_articles,
                    xquad_questions)
from fit_answers import collect, featurize, fit

FOLDS = 5
MOST = 16  # sentences of an article the reader reads at most in these trials


def sig(z):
    return 1 / (1 + np.exp(-z))


def fold_candidates(refresh: bool) -> dict:
    """News QA dev (to report) and News QA train's held-out fifth (to fit: stories the reader never saw,
    the questions worded loosely), as bench/answers.py --only fold indexes them."""
    cache = CACHE / "reader-candidates-fold.json"
    if refresh or not cache.is_file():
        from answers import fold_set
        from index.embedding.embed import Embedder

        embedder = Embedder()
        path, sources = fold_set()
        fold = bench_config("newsqa-fold", sources)
        ensure_index(newsqa_config(), embedder)
        ensure_index(fold, embedder, start_from="newsqa")
        dev = [json.loads(line) for line in open(NEWSQA)]
        rows = [json.loads(line) for line in open(path)]
        sets = {
            "newsqa": collect(newsqa_config(), [(d["q"], d["url"], d["any"]) for d in dev if not d.get("unanswerable")],
                              embedder),
            "fold": collect(fold, [(d["q"], d["url"], d["any"]) for d in rows if not d.get("unanswerable")], embedder),
        }
        cache.write_text(json.dumps(sets))
    return json.loads(cache.read_text())


def candidates(refresh: bool) -> dict:
    cache = CACHE / "reader-candidates.json"
    if refresh or not cache.is_file():
        from index.embedding.embed import Embedder

        embedder = Embedder()
        dev = [json.loads(line) for line in open(NEWSQA)]
        news_mix = bench_config("news-mix", [WIKINEWS, *SUMMARIES, xquad_articles()])
        ensure_index(newsqa_config(), embedder)
        ensure_index(news_mix, embedder, start_from="newsqa")
        sets = {
            "newsqa": collect(newsqa_config(), [(d["q"], d["url"], d["any"]) for d in dev if not d.get("unanswerable")],
                              embedder),
            "xquad": collect(news_mix, xquad_questions(heldout=True), embedder),
        }
        cache.write_text(json.dumps(sets))
    return json.loads(cache.read_text())


def read_all(sets: dict, refresh: bool, name: str = "") -> None:
    """Each question's candidates ranked per article by the cheap model; the reader reads the first
    MOST of each (its logits cached by the reader file's sha256)."""
    from index.searching import evidence
    from index.reader.model import BUNDLED_DIR, load, passage

    sha = json.loads((BUNDLED_DIR / "reader.json").read_text())["sha256"][:16]
    cache = CACHE / f"reader-logits-{name}{sha}.json"
    known = json.loads(cache.read_text()) if cache.is_file() and not refresh else {}
    reader = None
    for name, questions in sets.items():
        for qi, q in enumerate(questions):
            by_article: dict[str, list[dict]] = {}
            for r in q["rows"]:
                r["cheap"] = evidence.CHEAP.probability(r["cheap_x"])
                r["sentence"] = evidence.SENTENCE.probability(r["x"])
                by_article.setdefault(r["article"], []).append(r)
            q["articles_ranked"] = []
            for aid, rows in by_article.items():
                rows.sort(key=lambda r: -r["cheap"])
                q["articles_ranked"].append(rows)
            key = f"{name}/{qi}"
            todo = [r for rows in q["articles_ranked"] for r in rows[:MOST]]
            if key not in known:
                reader = reader or load("bundled")
                known[key] = reader.score(q["q"], [passage(r["title"], r["text"]) for r in todo]).tolist()
            for r, z in zip(todo, known[key]):
                r["read"] = z
    cache.write_text(json.dumps(known))


def served(questions: list[dict], n: int, how: str, w: np.ndarray | None = None) -> float:
    """Share of questions whose right article's chosen sentence holds the answer when the reader and
    model read that article's n best by cheap features (the rest keep their cheap probability)."""
    from index.searching import evidence

    good = 0
    for q in questions:
        right = [rows for rows in q["articles_ranked"] if rows[0]["right"]]
        if not right:
            continue
        rows = right[0]
        def p(i, r):
            if i >= n:
                return r["cheap"] if how != "reader" else -1e9
            if how == "sentence":
                return r["sentence"]
            if how == "reader":
                return r["read"]
            return sig(w[0] + np.dot(w[1:], evidence.read_features(r["sentence"], r["read"])))
        scores = [p(i, r) for i, r in enumerate(rows)]
        good += rows[int(np.argmax(scores))]["y"]
    return good / len(questions)


def matrix(questions: list[dict], n: int) -> tuple[np.ndarray, np.ndarray]:
    from index.searching import evidence

    rows = [r for q in questions for rs in q["articles_ranked"] for r in rs[:n]]
    return (np.array([evidence.read_features(r["sentence"], r["read"]) for r in rows], float),
            np.array([r["y"] for r in rows], float))


def cross_validated(questions: list[dict], n: int) -> float:
    groups = sorted({q["url"] for q in questions})
    fold = {g: i % FOLDS for i, g in enumerate(groups)}
    good = 0.0
    for f in range(FOLDS):
        test = [q for q in questions if fold[q["url"]] == f]
        if test:
            w = fit(*matrix([q for q in questions if fold[q["url"]] != f], MOST))
            good += served(test, n, "joined", w) * len(test)
    return good / len(questions)


def main() -> int:
    from index.searching import evidence

    ap = argparse.ArgumentParser()
    ap.add_argument("--refresh", action="store_true", help="collect the candidates and read them again")
    ap.add_argument("--fold", action="store_true", help="fit on News QA train's held-out fifth, report on News QA "
                    "dev (else: fit on News QA dev and XQuAD's held-out third, cross-validated)")
    args = ap.parse_args()
    sets = fold_candidates(args.refresh) if args.fold else candidates(args.refresh)
    featurize(sets)
    read_all(sets, args.refresh, "fold" if args.fold else "")
    if args.fold:
        return fit_on_fold(sets, args)
    both = sets["newsqa"] + sets["xquad"]
    print(f"features: {', '.join(evidence.READ_FEATURES)}; questions: "
          + ", ".join(f"{k} {len(v)}" for k, v in sets.items()) + " (XQuAD: the held-out third)")
    print("\nthe right article's chosen sentence holds the answer, as served with N of its sentences read")
    print(f"   {'N':>3} " + "".join(f"{name + ' ' + how:>22}" for name in sets for how in ("sentence", "reader", "joined CV")))
    for n in (1, 2, 3, 4, 6, 8, 10):
        cells = []
        for name, qs in sets.items():
            cells += [served(qs, n, "sentence"), served(qs, n, "reader"), cross_validated(qs if name == "xquad" else qs, n)]
        print(f"   {n:>3} " + "".join(f"{c:>22.3f}" for c in cells))
    print(f"\nboth sets together, joined, 5-fold CV by article: "
          + "   ".join(f"N={n} {cross_validated(both, n):.3f}" for n in (2, 4, 6, 8)))
    w = fit(*matrix(both, MOST))
    print(f"\nREAD = Model(bias={w[0]:.3f}, weights=({', '.join(f'{v:.3f}' for v in w[1:])}))")
    print("\ncommand: python bench/fit_reader.py" + (" --refresh" if args.refresh else ""))
    return 0


def fit_on_fold(sets: dict, args) -> int:
    """READ fitted on the held-out fifth (5-fold CV by story there), then reported on News QA dev."""
    fold, dev = sets["fold"], sets["newsqa"]
    print(f"questions: fold {len(fold)} (fit), News QA dev {len(dev)} (report)")
    print("\nthe right article's chosen sentence holds the answer, with N of its sentences read")
    print(f"   {'N':>3} {'fold sentence':>14} {'fold reader':>12} {'fold joined CV':>15} {'dev sentence':>13} "
          f"{'dev reader':>11} {'dev joined':>11}")
    w = fit(*matrix(fold, MOST))
    for n in (1, 2, 4, 8, 12, MOST):
        print(f"   {n:>3} {served(fold, n, 'sentence'):14.3f} {served(fold, n, 'reader'):12.3f} "
              f"{cross_validated(fold, n):15.3f} {served(dev, n, 'sentence'):13.3f} {served(dev, n, 'reader'):11.3f} "
              f"{served(dev, n, 'joined', w):11.3f}")
    print(f"\nREAD = Model(bias={w[0]:.3f}, weights=({', '.join(f'{v:.3f}' for v in w[1:])}))")
    print("\ncommand: python bench/fit_reader.py --fold" + (" --refresh" if args.refresh else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
