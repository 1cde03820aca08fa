#!/usr/bin/env python3
"""Extractive summaries against Lead-3 and Lead-1, side by side in one run.

../shared/bench/summarization: 125 CNN/DailyMail and 126 XSum test articles with reference
summaries, indexed through the normal JSONL source. ROUGE-1/2/Lsum F x 100 (rouge-score, Porter
stemming, one sentence per line). All systems cut sentences with the same splitter from the same
indexed article text. Then the time to summarise one ~1,000-word article, model loaded.

    python bench/summarize.py
"""
from __future__ import annotations

import json
import re
import sqlite3
import time

from common import SHARED, SUMMARIES, bench_config, ensure_index, median, pct


def references(name: str) -> dict[str, str]:
    out = {}
    for line in open(SHARED / "summarization" / name):
        row = json.loads(line)
        # CNN/DM highlights are joined with " . "; one per line for ROUGE-Lsum
        out[row["id"]] = "\n".join(s.strip() for s in re.split(r"\s+\.\s+|\s+\.$", row["reference"]) if s.strip())
    return out


def main() -> int:
    from rouge_score import rouge_scorer

    from index.reading import sentences
    from index.config import SummarySettings
    from index.embedding.embed import Embedder
    from index.searching.summarize import summarize

    embedder = Embedder()
    cfg = bench_config("summaries", SUMMARIES)
    ensure_index(cfg, embedder)
    n = SummarySettings().sentences
    db = sqlite3.connect(cfg.index_dir() / "archive.sqlite")
    # the export's own id is kept in the article's record as its line: map articles back to references
    ids_by_file = {}
    for spec in SUMMARIES:
        path = spec["path"]
        ids_by_file[path.rsplit("/", 1)[1]] = {str(i): json.loads(line)["id"] for i, line in enumerate(open(path), 1)}
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    print(f"{'set':<8} {'system':<22} {'R-1':>6} {'R-2':>6} {'R-Lsum':>7}")
    long_texts = []
    for name, label in (("cnndm_test_frank.jsonl", "CNN/DM"), ("xsum_test_frank.jsonl", "XSum")):
        refs = references(name)
        rows = [(ids_by_file[name][rec], text) for src, rec, text in
                db.execute("SELECT source, record, text FROM articles") if src.endswith(name)]
        systems = {f"archivist ({n} sent.)": lambda t: summarize(t, embedder, n),
                   "Lead-3": lambda t: sentences.split(t)[:3], "Lead-1": lambda t: sentences.split(t)[:1]}
        for system, fn in systems.items():
            totals = {"rouge1": [], "rouge2": [], "rougeLsum": []}
            for rid, text in rows:
                pred = "\n".join(text[s:e] for s, e in fn(text))
                for k, v in scorer.score(refs[rid], pred).items():
                    totals[k].append(v.fmeasure * 100)
            avg = {k: sum(v) / len(v) for k, v in totals.items()}
            print(f"{label:<8} {system:<22} {avg['rouge1']:6.2f} {avg['rouge2']:6.2f} {avg['rougeLsum']:7.2f}"
                  f"   ({len(rows)} articles)")
        long_texts += [t for _, t in rows if 800 <= len(t.split()) <= 1200]
    db.close()
    summarize(long_texts[0], embedder, n)  # warm
    times = []
    for text in long_texts:
        t0 = time.perf_counter()
        summarize(text, embedder, n)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"\ntime to summarise one 800-1,200-word article ({len(times)} articles, model loaded): "
          f"p50 {median(times):.0f} ms, p95 {pct(times, 95):.0f} ms")
    print("command: python bench/summarize.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
