#!/usr/bin/env python3
"""Fast at a million chunks: FAISS kinds, whole answers, memory and cold start (the encoders are
compared in bench/encoder.py).

Real vectors: the Wikinews chunks of ../shared/bench/wikinews, encoded by the real build (the cached
news-mix index of bench/retrieval.py), grown to each size by copies of those articles whose vectors
get Gaussian noise (sigma 0.02 per dimension, then normalised; cosine to the original about 0.93).
Each size is a real index folder (SQLite with FTS5, FAISS file, manifest) published by the build's
own publish step, so serving it is exactly what `archivist serve` does.

    python bench/scale.py [--sizes 100000,300000,1000000]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common import SUMMARIES, WIKINEWS, bench_config, ensure_index, median, pct, xquad_articles

SIGMA = 0.02


def wikinews_chunks(embedder):
    """(articles, chunks) of the Wikinews articles in the news-mix index: real text, real vectors."""
    from index.storing.store import Store

    cfg = bench_config("news-mix", [WIKINEWS, *SUMMARIES, xquad_articles()])
    ensure_index(cfg, embedder)
    store = Store.open(cfg.index_dir(), readonly=True)
    source = str(Path(WIKINEWS["path"]).resolve())
    articles = store.articles(
        [r[0] for r in store.conn.execute("SELECT article_id FROM articles WHERE source = ?", (source,))])
    chunks: dict[str, list] = {}
    for aid, ordinal, start, end, blob in store.conn.execute(
            'SELECT article_id, ordinal, start, "end", vector FROM chunks ORDER BY chunk_id'):
        if aid in articles:
            chunks.setdefault(aid, []).append((ordinal, start, end, np.frombuffer(blob, dtype=np.float32)))
    store.close()
    return articles, chunks


def grown_index(n: int, articles, chunks, embedder):
    """An index folder of n chunks: copy 0 is the real Wikinews, later copies carry noisy vectors."""
    from dataclasses import replace

    from index.storing import build as buildmod
    from index.records import Chunk
    from index.reading.sources import id_for
    from index.storing.store import Store

    cfg = bench_config(f"scale-{n}", [])
    manifest = cfg.index_dir() / "manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text())["chunks"] == n:
        return cfg
    import shutil

    shutil.rmtree(cfg.index_dir(), ignore_errors=True)
    store = Store.open(cfg.index_dir())
    key = buildmod.model_key(cfg)
    rng = np.random.default_rng(n)
    total, copy, keys, batch = 0, 0, [], []
    order = sorted(articles)
    while total < n:
        for aid in order:
            if total >= n:
                break
            cs = chunks[aid][: n - total]
            a = articles[aid]
            b = replace(a, article_id=id_for(f"scale:{copy}:{aid}"), source=f"scale-copy-{copy}", record=aid,
                        url=a.url + (f"?copy={copy}" if copy else ""))
            vecs = np.stack([c[3] for c in cs])
            if copy:
                vecs = vecs + rng.normal(0, SIGMA, vecs.shape).astype(np.float32)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            batch.append((b, [Chunk(c[0], c[1], c[2]) for c in cs], vecs))
            keys.append((b.article_id, b.content_hash))
            total += len(cs)
            if len(batch) >= 2000:
                store.stage(key, batch)
                batch = []
        copy += 1
    store.stage(key, batch)
    t0 = time.perf_counter()
    buildmod._publish(cfg, store, cfg.index_dir(), embedder, {}, key, False, keys, [], [], {})
    print(f"  published {n:,} chunks ({copy} copies of Wikinews) in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    store.close()
    return cfg


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file()) / 2**20


def serve_probe(index_dir: str) -> None:
    """Run in a subprocess: open the index as the bot does, load the model, answer; report RSS."""
    t0 = time.monotonic()
    from bot.answer import answer
    from index.config import parse
    from index.searching.search import Searcher

    cfg = parse({"index": {"path": index_dir}}, Path(index_dir))
    s = Searcher.open(cfg)
    answer("What happened after the earthquake?", s)
    ready = time.monotonic() - t0
    for q in ["election results", "plane crash investigation", "new species discovered", "court ruling appeal"] * 5:
        answer(q, s)
    rss = int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1]) / 1024
    print(json.dumps({"ready_s": ready, "rss_mb": rss}))


def scale_rows(sizes, articles, chunks, embedder, queries):
    from bot.answer import answer
    from index.storing import vectors
    from index.searching.search import Searcher

    qvecs = embedder.encode(queries)
    print(f"\n{'chunks':>9} {'index':>6} {'exact p50/p95 ms':>17} {'chosen p50/p95 ms':>18} {'recall@10':>9} "
          f"{'answer p50/p95 ms':>18} {'RSS MB':>7} {'folder MB':>9} {'ready s':>7}")
    for n in sizes:
        cfg = grown_index(n, articles, chunks, embedder)
        s = Searcher.open(cfg, embedder)
        exact = vectors.build(384, s.store.all_vectors(), "flat")
        chosen = s._faiss
        te, tc, recall = [], [], []
        for q in qvecs:
            t0 = time.perf_counter()
            want = vectors.search(exact, q, 100)
            te.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            got = vectors.search(chosen, q, 100, nprobe=cfg.index.nprobe)
            tc.append((time.perf_counter() - t0) * 1000)
            recall.append(len({i for i, _ in want[:10]} & {i for i, _ in got[:10]}) / 10)
        del exact
        answer(queries[0], s)
        ta = []
        for q in queries:
            t0 = time.perf_counter()
            answer(q, s)
            ta.append((time.perf_counter() - t0) * 1000)
        s.close()
        t0 = time.monotonic()
        out = subprocess.run([sys.executable, __file__, "--serve-probe", str(cfg.index_dir())], capture_output=True,
                             text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        probe = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{n:>9,} {vectors.kind_of(chosen):>6} {median(te):8.1f} /{pct(te, 95):6.1f} "
              f"{median(tc):9.1f} /{pct(tc, 95):6.1f} {np.mean(recall):9.3f} {median(ta):9.0f} /{pct(ta, 95):6.0f} "
              f"{probe['rss_mb']:7.0f} {folder_mb(cfg.index_dir()):9.0f} {probe['ready_s']:7.1f}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--serve-probe")
    args = ap.parse_args()
    if args.serve_probe:
        serve_probe(args.serve_probe)
        return 0
    from index.embedding.embed import Embedder

    embedder = Embedder()
    articles, chunks = wikinews_chunks(embedder)
    real = sum(len(c) for c in chunks.values())
    print(f"real vectors: {real:,} chunks of {len(articles):,} Wikinews articles, encoded by the build; grown by "
          f"copies with Gaussian noise (sigma {SIGMA}, renormalised)")
    queries = [articles[a].title for a in sorted(articles)[::max(1, len(articles) // 200)]][:200]
    scale_rows([int(x) for x in args.sizes.split(",")], articles, chunks, embedder, queries)
    print("  exact/chosen: dense search for the 100 candidates an answer takes, one query at a time; "
          "answer: search, fusion, quotes; RSS and ready: a fresh serving process (open, load model, first answer)")
    print(f"\ncommand: python bench/scale.py --sizes {args.sizes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
