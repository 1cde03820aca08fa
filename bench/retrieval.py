#!/usr/bin/env python3
"""The search layer alone, side by side in one run (what the user gets is measured by bench/answers.py):

  1. SciFact (5,183 abstracts as a JSONL source, 809 claims): nDCG@10 of hybrid, dense and keyword.
  2. Latency of one whole answer (search, fusion, candidate sentences, quotes) over an index of 50,000+
     chunks, in process.

    python bench/retrieval.py [--quick] [--only scifact|latency]
Indexes are built once into bench/.cache with the real build and reused.
"""
from __future__ import annotations

import argparse
import math
import sqlite3
import time

from common import (SCIFACT, SHARED, SUMMARIES, WIKINEWS, bench_config, ensure_index, median, pct, wikinews_reprints,
                    xquad_articles, xquad_questions)

NEWS = [WIKINEWS, *SUMMARIES]  # filled in main(): the XQuAD articles are derived on first use


def load_scifact():
    import json

    queries = {}
    for line in open(SHARED / "scifact" / "queries.jsonl"):
        q = json.loads(line)
        queries[q["_id"]] = q["text"]
    qrels: dict[str, dict[str, int]] = {}
    for i, line in enumerate(open(SHARED / "scifact" / "qrels.tsv")):
        if i == 0:
            continue
        qid, did, score = line.split()
        qrels.setdefault(qid, {})[did] = int(score)
    return {q: t for q, t in queries.items() if q in qrels}, qrels


def ndcg10(ranked: list[str], rel: dict[str, int]) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sum(r / math.log2(i + 2) for i, r in enumerate(sorted(rel.values(), reverse=True)[:10]))
    return dcg / ideal if ideal else 0.0


def scifact_docs(cfg) -> dict[str, str]:
    """SciFact's own document id of each indexed article: an article's record is the export's own id
    (older indexes hold the line it came from, mapped back here)."""
    import json

    ids_by_line = {str(i): json.loads(line)["_id"] for i, line in enumerate(open(SCIFACT["path"]), 1)}
    known = set(ids_by_line.values())
    db = sqlite3.connect(cfg.index_dir() / "archive.sqlite")
    doc_of = {aid: rec if rec in known else ids_by_line[rec]
              for aid, rec in db.execute("SELECT article_id, record FROM articles")}
    db.close()
    return doc_of


def scifact_scores(cfg, embedder, limit: int = 0) -> dict[str, float]:
    """Mean nDCG@10 of each mode over the SciFact claims, on an index of the SciFact corpus."""
    from index.searching.search import Searcher

    doc_of = scifact_docs(cfg)
    queries, qrels = load_scifact()
    items = list(queries.items())[: limit or None]
    searcher = Searcher.open(cfg, embedder)
    scores: dict[str, list[float]] = {m: [] for m in ("hybrid", "dense", "keyword")}
    for qid, text in items:
        qvec = searcher.encode_query(text)
        for mode in scores:
            docs: list[str] = []
            for h in searcher.search(text, mode=mode, qvec=qvec):
                d = doc_of[h.article_id]
                if d not in docs:
                    docs.append(d)
            scores[mode].append(ndcg10(docs, qrels[qid]))
    searcher.close()
    return {m: sum(v) / len(v) for m, v in scores.items()} | {"claims": len(items)}


def scifact(embedder, limit: int) -> None:
    cfg = bench_config("scifact", [SCIFACT])
    ensure_index(cfg, embedder, start_from="large")  # SciFact's vectors are in the large index already
    scores = scifact_scores(cfg, embedder, limit)
    s = cfg.search
    print(f"\n1. SciFact nDCG@10 ({scores['claims']} claims)")
    for mode in ("hybrid", "dense", "keyword"):
        print(f"   {mode:<8} {scores[mode]:.3f}")
    print(f"   fusion: {s.fusion}, dense weight {s.dense_weight}, keyword weight {s.keyword_weight}, "
          f"{s.candidates} candidates each")


def latency(embedder, limit: int) -> None:
    from bot.answer import answer
    from index.searching.search import Searcher

    cfg = large_config()
    ensure_index(cfg, embedder, start_from="news-mix")
    searcher = Searcher.open(cfg, embedder)
    questions = [q for q, _, _ in xquad_questions()][: limit or 200]
    answer(questions[0], searcher)  # warm
    times = []
    for q in questions:
        t0 = time.perf_counter()
        answer(q, searcher)
        times.append((time.perf_counter() - t0) * 1000)
    chunks = searcher.store.counts()["chunks"]
    print(f"\n2. Latency of a whole answer over {chunks:,} chunks ({len(times)} questions, model and index loaded)")
    print(f"   p50 {median(times):.0f} ms   p95 {pct(times, 95):.0f} ms   max {max(times):.0f} ms")
    searcher.close()


def large_config():
    """Over 50,000 chunks: the news mix, SciFact, and every Wikinews story syndicated a second time."""
    return bench_config("large", [*NEWS, xquad_articles(), SCIFACT, wikinews_reprints()])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a sample of the questions, for a fast look")
    ap.add_argument("--only", choices=("scifact", "latency"))
    args = ap.parse_args()
    from index.embedding.embed import Embedder

    embedder = Embedder()
    limit = 100 if args.quick else 0
    # build order: each index starts as a copy of the one before, so no article is embedded twice
    ensure_index(bench_config("news-mix", [*NEWS, xquad_articles()]), embedder)
    ensure_index(large_config(), embedder, start_from="news-mix")
    if args.only in (None, "scifact"):
        scifact(embedder, limit)
    if args.only in (None, "latency"):
        latency(embedder, limit)
    print(f"\ncommand: python bench/retrieval.py{' --quick' if args.quick else ''}"
          f"{' --only ' + args.only if args.only else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
