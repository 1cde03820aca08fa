#!/usr/bin/env python3
"""Tune bot/answer.py's READ_SECOND_FLOOR and READ_CLEARLY (with --reader none: SECOND_FLOOR and CLEARLY)
on the dev sets: how likely an article's further sentences must be, and how much likelier than each
later article's best, to show before other articles. Tuned on XQuAD's held-out third (206 questions on
the articles the bundled reader was not trained on, among the news mix) and News QA dev's 60 answerable
questions, with the given reader; `answer()` runs in process with the constants set for each row. The
held-out news questions (bench/heldout.jsonl) and WikiQA are not looked at here.

    python bench/tune_second.py [--reader none|bundled]
"""
from __future__ import annotations

import argparse

import json

from common import NEWSQA, SEED, SUMMARIES, WIKINEWS, bench_config, newsqa_articles, xquad_articles, xquad_questions

GRID = ((0.05, 2.0), (0.05, 1.0), (0.02, 2.0), (0.02, 1.0), (0.02, 0.5), (0.0, 0.0))  # (floor, clearly)


def main() -> int:
    import bot.answer as A
    from index.searching.search import Searcher

    ap = argparse.ArgumentParser()
    ap.add_argument("--reader", default="bundled")
    args = ap.parse_args()
    search = {"reader": args.reader}
    sets = {  # name: (searcher, [(question, url, phrases)], whether the quote must be from that url)
        "xquad": (Searcher.open(bench_config("news-mix", [WIKINEWS, *SUMMARIES, xquad_articles()], search=search)),
                  xquad_questions(heldout=True), False),
        "newsqa": (Searcher.open(bench_config("newsqa", [newsqa_articles(), SEED], search=search)),
                   [(d["q"], d["url"], d["any"]) for d in map(json.loads, open(NEWSQA)) if not d.get("unanswerable")],
                   True),
    }
    names = ("READ_SECOND_FLOOR", "READ_CLEARLY") if args.reader != "none" else ("SECOND_FLOOR", "CLEARLY")
    configured = tuple(getattr(A, n) for n in names)
    print(f"XQuAD's held-out third ({len(sets['xquad'][1])} questions) and News QA dev ({len(sets['newsqa'][1])}), "
          f"reader {args.reader}: an answer inside a top-3 quote (News QA: of its article), and articles among the "
          f"top 3 passages, by {' and '.join(names)}; chosen: the most answers over both")
    print(f"   {'floor':>5} {'clearly':>7} {'xquad':>7} {'newsqa':>7} {'both':>7} {'articles':>8}")
    for floor, clearly in GRID:
        setattr(A, names[0], floor)
        setattr(A, names[1], clearly)
        found, articles, n = {}, 0, 0
        for name, (searcher, questions, same_url) in sets.items():
            found[name] = 0
            for q, url, golds in questions:
                top = A.answer(q, searcher).passages[:3]
                found[name] += any(g in p.quote and (p.url == url or not same_url) for p in top for g in golds)
                articles += len({p.article_id for p in top})
                n += 1
        share = {k: v / len(sets[k][1]) for k, v in found.items()}
        print(f"   {floor:5.2f} {clearly:7.1f} {share['xquad']:7.3f} {share['newsqa']:7.3f} {sum(found.values()) / n:7.3f} "
              f"{articles / n:8.2f}" + ("   <- configured" if (floor, clearly) == configured else ""), flush=True)
    print(f"command: python bench/tune_second.py --reader {args.reader}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
