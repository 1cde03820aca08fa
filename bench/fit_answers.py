#!/usr/bin/env python3
"""Fit the sentence model of index/searching/evidence.py on the dev sets, cross-validated, and print its weights.

Candidates come from the real answer pipeline (bot.answer.read_turn and read, every candidate
sentence read by the model; their raw inputs are cached, the features made from them at fit time) over the bench indexes: XQuAD's 612 questions with its articles among
news distractors, and News QA dev's 60 answerable questions over its archive. A candidate is positive
when the sentence holds an expected phrase (XQuAD: a gold answer). The logistic regression is fitted
with L2 by Newton's method; folds are grouped by article, so a question is never scored by a model
that saw its article. Printed: how often the chosen sentence of the right article holds the answer,
hand weights against fitted ones, fitted on XQuAD alone and scored on News QA (another set), and the
weights to paste into index/searching/evidence.py (fitted on both sets).

    python bench/fit_answers.py [--refresh]
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from common import CACHE, NEWSQA, SUMMARIES, WIKINEWS, bench_config, newsqa_config, xquad_articles, xquad_questions

L2 = 1.0
FOLDS = 5


def collect(cfg, items, embedder) -> list[dict]:
    """Per question: the question as read and every candidate's raw inputs (the features are made from
    them at fit time, so a change of features needs no new encoding), with its label."""
    from bot.answer import _fold_copies, _group, read, read_turn
    from index.searching.search import Searcher

    searcher = Searcher.open(cfg, embedder)
    out = []
    for question, url, phrases in items:
        turn = read_turn(question, None, searcher)
        qvec = searcher.encode_query(turn.search)
        groups = _group(searcher.search(turn.search, qvec=qvec))
        articles = searcher.store.articles(list(groups)[:12])
        _fold_copies(groups, articles)
        order = [aid for aid, hs in groups.items() if max(h.similarity for h in hs) >= 0.3][:6]
        articles.update(searcher.store.articles([a for a in order if a not in articles]))
        readings, topic = read(turn.question, {a: groups[a] for a in order}, articles, searcher, qvec)
        sims = embedder.encode([r.text for r in readings]) @ qvec if readings else []
        whole = {r.hit.article_id: sorted(r.article) for r in readings}
        q = turn.question
        out.append({"q": question, "url": url, "kind": q.kind, "weights": q.weights, "words": sorted(q.words),
                    "focus": sorted(q.focus), "topic": topic, "articles": whole, "rows": [
                        {"text": r.text, "title": r.hit.title, "stems": r.stems, "context": sorted(r.context), "cosine": float(sim),
                         "position": r.span[0], "chunk": r.hit.similarity, "article": r.hit.article_id,
                         "y": int(any(p in r.text for p in phrases)),
                         "right": articles[r.hit.article_id].url == url} for r, sim in zip(readings, sims)]})
    searcher.close()
    return out


def featurize(sets: dict) -> None:
    """The features of every candidate, from its raw inputs, with and without its own cosine."""
    from index.searching import evidence
    from index.storing.store import Store

    store = Store.open(newsqa_config().index_dir(), readonly=True)  # any index stems the same way
    for questions in sets.values():
        tokens = store.analyze([d["q"] for d in questions])
        for d, toks in zip(questions, tokens):
            # kind and focus from the question's text as the code reads it now
            focus = frozenset(toks[i] for i in evidence.focus_positions(d["q"]) if i < len(toks))
            q = evidence.Question(d["q"], evidence.question_kind(d["q"]), tuple(map(tuple, d["weights"])),
                                  frozenset(d["words"]), focus)
            whole = {a: set(st) for a, st in d["articles"].items()}
            local = {a: evidence.local_rarity([set(r["stems"]) for r in d["rows"] if r["article"] == a])
                     for a in whole}
            for r in d["rows"]:
                args = (q, r["text"], r["stems"], set(r["context"]), whole[r["article"]])
                r["x"] = evidence.features(*args, r["cosine"], r["position"], r["chunk"], local[r["article"]])
                r["cheap_x"] = evidence.features(*args, r["chunk"], r["position"], r["chunk"], local[r["article"]])


def fit(X: np.ndarray, y: np.ndarray, l2: float = L2, weight: np.ndarray | None = None) -> np.ndarray:
    """Logistic regression with an L2 penalty (not on the bias), by Newton's method; [bias, weights].
    `weight` weighs each row (default 1)."""
    Xb = np.hstack([np.ones((len(X), 1)), X])
    sw = np.ones(len(X)) if weight is None else weight
    w = np.zeros(Xb.shape[1])
    reg = np.full(Xb.shape[1], l2)
    reg[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(Xb @ w, -30, 30)))
        grad = Xb.T @ (sw * (p - y)) + reg * w
        hess = (Xb * (sw * p * (1 - p))[:, None]).T @ Xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def chosen_right(questions: list[dict], w: np.ndarray, cheap: bool = False) -> float:
    """Share of questions whose right article's best-scored sentence holds the answer."""
    key = "cheap_x" if cheap else "x"
    good = 0
    for q in questions:
        rows = [r for r in q["rows"] if r["right"]]
        if rows:
            z = [w[0] + np.dot(w[1:], r[key]) for r in rows]
            good += rows[int(np.argmax(z))]["y"]
    return good / len(questions)


def served_right(questions: list[dict], full: np.ndarray, cheap: np.ndarray, per_article: int) -> float:
    """As served: cheap features rank the right article's sentences, the model reads the best
    `per_article` (scored with all features), the rest keep their cheap score; the best is quoted."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    good = 0
    for q in questions:
        rows = [r for r in q["rows"] if r["right"]]
        if rows:
            c = [sig(cheap[0] + np.dot(cheap[1:], r["cheap_x"])) for r in rows]
            order = sorted(range(len(rows)), key=lambda i: -c[i])
            p = {i: (sig(full[0] + np.dot(full[1:], rows[i]["x"])) if n < per_article else c[i])
                 for n, i in enumerate(order)}
            good += rows[max(p, key=p.get)]["y"]
    return good / len(questions)


def matrix(questions: list[dict], key: str = "x") -> tuple[np.ndarray, np.ndarray]:
    rows = [r for q in questions for r in q["rows"]]
    return np.array([r[key] for r in rows], dtype=float), np.array([r["y"] for r in rows], dtype=float)


def cross_validated(questions: list[dict], key: str) -> float:
    """Grouped by article: each fold's questions are scored by a model fitted on the other folds."""
    urls = sorted({q["url"] for q in questions})
    fold_of = {u: i % FOLDS for i, u in enumerate(urls)}
    good = 0.0
    for f in range(FOLDS):
        train = [q for q in questions if fold_of[q["url"]] != f]
        test = [q for q in questions if fold_of[q["url"]] == f]
        if test:
            w = fit(*matrix(train, key))
            good += chosen_right(test, w, key == "cheap_x") * len(test)
    return good / len(questions)


def main() -> int:
    from index.searching import evidence
    from index.embedding.embed import Embedder

    ap = argparse.ArgumentParser()
    ap.add_argument("--refresh", action="store_true", help="collect the candidates again")
    args = ap.parse_args()
    cache = CACHE / "answer-candidates-v3.json"
    if args.refresh or not cache.is_file():
        embedder = Embedder()
        newsqa = [json.loads(line) for line in open(NEWSQA)]
        sets = {
            "newsqa": collect(newsqa_config(), [(d["q"], d["url"], d["any"]) for d in newsqa if not d.get("unanswerable")],
                              embedder),
            "xquad": collect(bench_config("news-mix", [WIKINEWS, *SUMMARIES, xquad_articles()]), xquad_questions(),
                             embedder),
        }
        cache.write_text(json.dumps(sets))
    sets = json.loads(cache.read_text())
    featurize(sets)
    hand = np.array([evidence.HAND.bias, *evidence.HAND.weights])
    print(f"features: {', '.join(evidence.FEATURES)}")
    print("\nthe right article's chosen sentence holds the answer (share of questions)")
    print(f"{'set':<8} {'hand':>6} {'fitted, 5-fold CV by article':>30} {'cheap (no sentence cosine), CV':>32}")
    for name, qs in sets.items():
        print(f"{name:<8} {chosen_right(qs, hand):6.3f} {cross_validated(qs, 'x'):30.3f} "
              f"{cross_validated(qs, 'cheap_x'):32.3f}")
    w_x = fit(*matrix(sets["xquad"]))
    print(f"\nfitted on XQuAD only, scored on News QA: {chosen_right(sets['newsqa'], w_x):.3f} "
          f"(cheap: {chosen_right(sets['newsqa'], fit(*matrix(sets['xquad'], 'cheap_x')), True):.3f})")
    both = sets["newsqa"] + sets["xquad"]
    print(f"both sets, 5-fold CV by article: {cross_validated(both, 'x'):.3f} (cheap {cross_validated(both, 'cheap_x'):.3f})")
    w_full, w_cheap = fit(*matrix(both)), fit(*matrix(both, "cheap_x"))
    print("\nas served (cheap features rank, the model reads the best N of each article; fitted on both, in-sample):")
    for n in (1, 2, 3, 4, 6, 10):
        print(f"   N = {n:>2}: " + "   ".join(f"{name} {served_right(qs, w_full, w_cheap, n):.3f}" for name, qs in sets.items()))
    for name, key in (("SENTENCE", "x"), ("CHEAP", "cheap_x")):
        w = fit(*matrix(both, key))
        weights = ", ".join(f"{v:.3f}" for v in w[1:])
        print(f"\n{name} = Model(bias={w[0]:.3f}, weights=({weights}))")
    print("\ncommand: python bench/fit_answers.py" + (" --refresh" if args.refresh else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
