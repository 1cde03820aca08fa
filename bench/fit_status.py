#!/usr/bin/env python3
"""Fit the reply model of index/searching/evidence.py (REPLY_READ: with the reader, does a reply hold what was asked,
or only related material?) on the dev sets, cross-validated, and print its weights.

Replies come from the real `bot.answer.answer` over the bench indexes; the features of each reply's
likeliest quote are recorded as answer() computes them. Positives: questions whose article is in the
archive (News QA dev's 60 answerable; XQuAD's held-out third, 206 questions the bundled reader was not
trained on, with their articles among news). Negatives: News QA
dev's 20 off-archive questions; its 60 answerable ones again over the archive without their 30
articles, which keeps their related stories (hard negatives: the subject is there, the fact is not);
the same XQuAD questions over the News QA archive, which lacks their articles. A reply with status `nothing`
(no article reaches min_evidence) is not the model's to judge: it counts as not answered. Folds are
grouped by article, so that a question and its leave-out twin are in the same fold; XQuAD weighs as
much per class as News QA's answerable questions, so that News QA's hard cases are not drowned.

    python bench/fit_status.py [--refresh]
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from common import (CACHE, NEWSQA, SUMMARIES, WIKINEWS, bench_config, ensure_index, newsqa_config,
                    newsqa_without_config, xquad_articles, xquad_questions)
from fit_answers import fit

FOLDS = 5
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def collect(cfg, items, embedder, label: int, source: str) -> list[dict]:
    """Each question answered by the real pipeline, with the reply features answer() computed."""
    import bot.answer
    from index.searching import evidence
    from index.searching.search import Searcher

    ensure_index(cfg, embedder)
    searcher = Searcher.open(cfg, embedder)
    seen: list[list[float]] = []
    real = evidence.reply_features

    def recording(*args, **kwargs):  # the real function, its result kept
        x = real(*args, **kwargs)
        seen.append(x)
        return x

    evidence.reply_features = recording
    out = []
    try:
        for question, url, phrases in items:
            seen.clear()
            reply = bot.answer.answer(question, searcher)
            holds = any(p in s.quote for s in reply.passages[:3] for p in phrases)
            out.append({"q": question, "group": url or question, "source": source, "y": label,
                        "status": reply.status, "holds": holds, "x": seen[-1] if seen else None})
    finally:
        evidence.reply_features = real
        searcher.close()
    return out


def gather(refresh: bool) -> list[dict]:
    cache = CACHE / "reply-features-read.json"
    if refresh or not cache.is_file():
        from index.embedding.embed import Embedder

        embedder = Embedder()
        dev = [json.loads(line) for line in open(NEWSQA)]
        answerable = [(d["q"], d["url"], d["any"]) for d in dev if not d.get("unanswerable")]
        off = [(d["q"], "", []) for d in dev if d.get("unanswerable")]
        xq = xquad_questions(heldout=True)  # the reader trained on the other two thirds
        news_mix = bench_config("news-mix", [WIKINEWS, *SUMMARIES, xquad_articles()])
        rows = (collect(newsqa_config(), answerable, embedder, 1, "newsqa")
                + collect(newsqa_config(), off, embedder, 0, "newsqa-off")
                + collect(newsqa_without_config(), answerable, embedder, 0, "leave-out")
                + collect(news_mix, xq, embedder, 1, "xquad")
                + collect(newsqa_config(), xq, embedder, 0, "xquad-off"))
        cache.write_text(json.dumps(rows))
    rows = json.loads(cache.read_text())
    # a leave-out question that the rest of the archive answers after all (a later story repeats the
    # fact) is no negative
    return [r for r in rows if not (r["source"] == "leave-out" and r["holds"])]


def weights(rows: list[dict]) -> np.ndarray:
    n_news = sum(r["source"] == "newsqa" for r in rows) or 1
    per = {s: n_news / max(1, sum(r["source"] == s for r in rows)) for s in ("xquad", "xquad-off")}
    return np.array([per.get(r["source"], 1.0) for r in rows])


def fitted(rows: list[dict]) -> np.ndarray:
    judged = [r for r in rows if r["x"] is not None]
    return fit(np.array([r["x"] for r in judged]), np.array([r["y"] for r in judged], float), weight=weights(judged))


def probability(w: np.ndarray, x: list[float] | None) -> float:
    return 0.0 if x is None else float(1 / (1 + np.exp(-(w[0] + np.dot(w[1:], x)))))


def cross_validated(rows: list[dict]) -> list[float]:
    """Each reply's probability from a model fitted on the other folds (grouped by article)."""
    groups = sorted({r["group"] for r in rows})
    fold = {g: i % FOLDS for i, g in enumerate(groups)}
    p = [0.0] * len(rows)
    for f in range(FOLDS):
        w = fitted([r for r in rows if fold[r["group"]] != f])
        for i, r in enumerate(rows):
            if fold[r["group"]] == f:
                p[i] = probability(w, r["x"])
    return p


SOURCES = ("newsqa", "newsqa-off", "leave-out", "xquad", "xquad-off")


def errors(rows: list[dict], probs: list[float], t: float) -> list[float]:
    """Per source, at min_answer t: the share of answerable questions not answered, or of off-archive
    ones answered."""
    out = []
    for s in SOURCES:
        idx = [i for i, r in enumerate(rows) if r["source"] == s]
        answered = sum(rows[i]["status"] != "nothing" and probs[i] >= t for i in idx) / max(1, len(idx))
        out.append(1 - answered if s in ("newsqa", "xquad") else answered)
    return out


def table(rows: list[dict], probs: list[float], thresholds, title: str) -> None:
    print(f"\n{title}")
    print(f"   {'threshold':>9} " + " ".join(f"{s:>11}" for s in SOURCES))
    for t in thresholds:
        print(f"   {t:>9.2f} " + " ".join(f"{c:>11.3f}" for c in errors(rows, probs, t)))
    print("   (answerable sets: share not answered; off-archive sets: share answered; lower is better)")


def main() -> int:
    from index.searching import evidence

    ap = argparse.ArgumentParser()
    ap.add_argument("--refresh", action="store_true", help="answer the questions again (after a code change)")
    args = ap.parse_args()
    rows = gather(args.refresh)
    print(f"features: {', '.join(evidence.REPLY_FEATURES)}")
    print("replies: " + ", ".join(f"{s} {sum(r['source'] == s for r in rows)}"
                                  for s in ("newsqa", "newsqa-off", "leave-out", "xquad", "xquad-off")))
    old = [probability(np.array([evidence.REPLY.bias, *evidence.REPLY.weights]), r["x"]) for r in rows]
    table(rows, old, THRESHOLDS, "before: the reply model fitted without the reader (REPLY)")
    cv = cross_validated(rows)
    table(rows, cv, THRESHOLDS, "fitted reply model, 5-fold CV grouped by article")
    # the product's genre decides: the fewest News QA errors of the three kinds together
    best = min(THRESHOLDS, key=lambda t: sum(errors(rows, cv, t)[:3]))
    print(f"min_answer with the fewest News QA errors (sum of its three columns, CV): {best}")
    w = fitted(rows)
    print(f"\nREPLY_READ = Model(bias={w[0]:.3f}, weights=({', '.join(f'{v:.3f}' for v in w[1:])}))")
    print("\ncommand: python bench/fit_status.py" + (" --refresh" if args.refresh else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
