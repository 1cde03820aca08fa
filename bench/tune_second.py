#!/usr/bin/env python3
"""Tune bot/answer.py's READ_SECOND_FLOOR and READ_CLEARLY (with --reader none: SECOND_FLOOR and CLEARLY)
on XQuAD: how likely an article's further sentences
must be, and how much likelier than each later article's best, to show before other articles. Tuned
on XQuAD's held-out third (206 questions on the articles the bundled reader was not trained on, among
the news mix), with the configured reader; `answer()` runs in process with the constants set for each
row. News QA is not looked at here: its figures come from `bench/answers.py`, through `archivist ask`.

    python bench/tune_second.py [--reader none|bundled]
"""
from __future__ import annotations

import argparse

from common import SUMMARIES, WIKINEWS, bench_config, xquad_articles, xquad_questions

GRID = ((0.05, 2.0), (0.05, 1.0), (0.02, 2.0), (0.02, 1.0), (0.02, 0.5), (0.0, 0.0))  # (floor, clearly)


def main() -> int:
    import bot.answer as A
    from index.search import Searcher

    ap = argparse.ArgumentParser()
    ap.add_argument("--reader", default="bundled")
    args = ap.parse_args()
    cfg = bench_config("news-mix", [WIKINEWS, *SUMMARIES, xquad_articles()], search={"reader": args.reader})
    searcher = Searcher.open(cfg)
    questions = xquad_questions(heldout=True)
    names = ("READ_SECOND_FLOOR", "READ_CLEARLY") if args.reader != "none" else ("SECOND_FLOOR", "CLEARLY")
    configured = tuple(getattr(A, n) for n in names)
    print(f"XQuAD's held-out third ({len(questions)} questions, reader {args.reader}): gold answer inside a top-3 "
          f"quote, and articles among the top 3 passages, by {' and '.join(names)}")
    for floor, clearly in GRID:
        setattr(A, names[0], floor)
        setattr(A, names[1], clearly)
        found = articles = 0
        for q, _, golds in questions:
            top = A.answer(q, searcher).passages[:3]
            found += any(g in p.quote for p in top for g in golds)
            articles += len({p.article_id for p in top})
        n = len(questions)
        print(f"   {floor:.2f} {clearly:4.1f}   {found / n:.3f}   {articles / n:.2f}"
              + ("   <- configured" if (floor, clearly) == configured else ""), flush=True)
    print(f"command: python bench/tune_second.py --reader {args.reader}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
