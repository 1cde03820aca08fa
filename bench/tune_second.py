#!/usr/bin/env python3
"""Tune bot/answer.py's SECOND_FLOOR on XQuAD (its 612 questions among the news mix): how likely an
article's second sentence must be to show before other articles (when it is also twice as likely as
each of them). Tuning runs `answer()` in process, with the constant set for each row; the figures
reported for the issue come from `bench/answers.py`, through `archivist ask`, and News QA is not
looked at here.

    python bench/tune_second.py
"""
from __future__ import annotations

from common import SUMMARIES, WIKINEWS, bench_config, xquad_articles, xquad_questions

FLOORS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)


def main() -> int:
    import bot.answer as A
    from index.search import Searcher

    cfg = bench_config("news-mix", [WIKINEWS, *SUMMARIES, xquad_articles()])
    searcher = Searcher.open(cfg)
    questions = xquad_questions()
    configured = A.SECOND_FLOOR
    print(f"XQuAD ({len(questions)} questions): gold answer inside a top-3 quote, by SECOND_FLOOR")
    for floor in FLOORS:
        A.SECOND_FLOOR = floor
        found = sum(any(g in p.quote for p in A.answer(q, searcher).passages[:3] for g in golds)
                    for q, _, golds in questions)
        print(f"   {floor:.2f}   {found / len(questions):.3f}" + ("   <- configured" if floor == configured else ""),
              flush=True)
    print("command: python bench/tune_second.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
