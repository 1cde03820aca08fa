#!/usr/bin/env python3
"""Answer quality and speed, side by side in one run (issue: hybrid retrieval, quotes, abstention).

  1. SciFact (5,183 abstracts as a JSONL source, 809 claims): nDCG@10 of hybrid, dense and keyword.
  2. XQuAD (612 questions) with its 24 articles mixed into 5,907 Wikinews and 251 CNN/DM + XSum
     articles: article hit rate at 1 and 3 of the answer, and how often the gold answer string
     is inside one of the top three quotes.
  3. Abstention on that archive: XQuAD questions (answerable) against SciFact claims (another
     collection, so unanswerable): wrongly abstained and wrongly answered, over thresholds.
  4. Latency of one whole answer (search, fusion, quotes) over an index of 50,000+ chunks.

    python bench/retrieval.py [--quick]
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


def scifact_scores(cfg, embedder, limit: int = 0) -> dict[str, float]:
    """Mean nDCG@10 of each mode over the SciFact claims, on an index of the SciFact corpus."""
    import json

    from index.search import Searcher

    # article ids come from the export's _id: map them back through the line each article came from
    ids_by_line = {str(i): json.loads(line)["_id"] for i, line in enumerate(open(SCIFACT["path"]), 1)}
    db = sqlite3.connect(cfg.index_dir() / "archive.sqlite")
    doc_of = {aid: ids_by_line[rec] for aid, rec in db.execute("SELECT article_id, record FROM articles")}
    db.close()
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
    print(f"   fusion: RRF k={s.rrf_k}, dense weight {s.dense_weight}, keyword weight {s.keyword_weight}, "
          f"{s.candidates} candidates each")


def news_mix(embedder):
    cfg = bench_config("news-mix", [*NEWS, xquad_articles()])
    ensure_index(cfg, embedder)
    return cfg


def xquad(embedder, cfg, limit: int) -> None:
    from bot.answer import answer
    from index.search import Searcher

    searcher = Searcher.open(cfg, embedder)
    questions = xquad_questions()[: limit or None]
    hit1 = hit3 = inquote = abstained = 0
    for question, url, golds in questions:
        a = answer(question, searcher)
        urls = [p.url for p in a.passages]
        hit1 += bool(urls) and urls[0] == url
        hit3 += url in urls[:3]
        inquote += any(g in p.quote for p in a.passages[:3] for g in golds)
        abstained += a.abstained
    n = len(questions)
    print(f"\n2. XQuAD in a news archive ({n} questions, {searcher.store.counts()['chunks']:,} chunks, "
          f"{searcher.store.counts()['articles']:,} articles)")
    print(f"   article hit@1 {hit1 / n:.3f}   hit@3 {hit3 / n:.3f}   gold answer inside a top-3 quote {inquote / n:.3f}"
          f"   abstained {abstained / n:.3f}")
    searcher.close()


def abstention(embedder, cfg, limit: int) -> None:
    from index.search import Searcher
    from bot.answer import best_evidence, clean_question
    from index.quotes import stems
    from index.search import query_terms

    searcher = Searcher.open(cfg, embedder)
    queries, _ = load_scifact()

    def evidence(q: str) -> float:
        q = clean_question(q)
        return best_evidence(searcher.search(q), stems(query_terms(q)))

    pos = [evidence(q) for q, _, _ in xquad_questions()[: limit or None]]
    neg = [evidence(q) for q in list(queries.values())[: limit or None]]
    print(f"\n3. Abstention: {len(pos)} answerable (XQuAD) vs {len(neg)} unanswerable (SciFact claims) questions;"
          f" evidence = best cosine + 0.5 x share of the question's terms in the passage")
    print("   threshold  wrongly abstained  wrongly answered")
    best = min((sum(p < t for p in pos) / len(pos) + sum(n >= t for n in neg) / len(neg), t)
               for t in [x / 100 for x in range(30, 91)])
    for t in sorted({0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, cfg.search.min_evidence, best[1]}):
        mark = " <- configured" if t == cfg.search.min_evidence else " <- lowest total error" if t == best[1] else ""
        print(f"   {t:9.2f}  {sum(p < t for p in pos) / len(pos):17.3f}  {sum(n >= t for n in neg) / len(neg):16.3f}{mark}")
    searcher.close()


def latency(embedder, limit: int) -> None:
    from bot.answer import answer
    from index.search import Searcher

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
    print(f"\n4. Latency of a whole answer over {chunks:,} chunks ({len(times)} questions, model and index loaded)")
    print(f"   p50 {median(times):.0f} ms   p95 {pct(times, 95):.0f} ms   max {max(times):.0f} ms")
    searcher.close()


def large_config():
    """Over 50,000 chunks: the news mix, SciFact, and every Wikinews story syndicated a second time."""
    return bench_config("large", [*NEWS, xquad_articles(), SCIFACT, wikinews_reprints()])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a sample of the questions, for a fast look")
    ap.add_argument("--only", choices=("scifact", "xquad", "abstention", "latency"))
    args = ap.parse_args()
    from index.embed import Embedder

    embedder = Embedder()
    limit = 100 if args.quick else 0
    # build order: each index starts as a copy of the one before, so no article is embedded twice
    ensure_index(bench_config("news-mix", [*NEWS, xquad_articles()]), embedder)
    if args.only in (None, "scifact", "latency"):
        ensure_index(large_config(), embedder, start_from="news-mix")
    if args.only in (None, "scifact"):
        scifact(embedder, limit)
    if args.only in (None, "xquad", "abstention"):
        cfg = news_mix(embedder)
        if args.only in (None, "xquad"):
            xquad(embedder, cfg, limit)
        if args.only in (None, "abstention"):
            abstention(embedder, cfg, limit)
    if args.only in (None, "latency"):
        latency(embedder, limit)
    print(f"\ncommand: python bench/retrieval.py{' --quick' if args.quick else ''}"
          f"{' --only ' + args.only if args.only else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
