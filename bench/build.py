#!/usr/bin/env python3
"""Build throughput against the bare encoder, and the cost of a build with nothing changed.

On ../shared/bench/wikinews/articles.jsonl (5,907 Wikinews articles), in one run:
  1. `archivist build` in a subprocess, end to end (reading, chunking, model load, embedding, SQLite, FAISS);
  2. the same command again with nothing changed;
  3. SentenceTransformer.encode alone on the very same chunk texts (model already loaded).

    python bench/build.py [--limit N]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "bench" / "wikinews" / "articles.jsonl"


def run_build(config: Path) -> tuple[float, dict, float]:
    exe = Path(sys.executable).parent / "archivist"
    t0 = time.perf_counter()
    proc = subprocess.run([str(exe), "--config", str(config), "build", "--json"], capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"build failed: {proc.stderr}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, json.loads(proc.stdout), peak_mb


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="use only the first N articles")
    args = ap.parse_args()
    from index.reading.chunk import embed_text
    from index.embedding.embed import Embedder

    work = Path(tempfile.mkdtemp(prefix="archivist-bench-"))
    source = DATA
    if args.limit:
        source = work / "articles.jsonl"
        with open(DATA) as f, open(source, "w") as out:
            for i, line in enumerate(f):
                if i >= args.limit:
                    break
                out.write(line)
    config = work / "config.toml"
    config.write_text(f'[index]\npath = "{work / "index"}"\n\n[[sources]]\npath = "{source}"\nformat = "jsonl"\n')

    t_build, summary, peak_build = run_build(config)
    t_again, again, _ = run_build(config)

    db = sqlite3.connect(work / "index" / "archive.sqlite")
    texts = []
    for title, text, start, end in db.execute(
            'SELECT a.title, a.text, c.start, c."end" FROM chunks c JOIN articles a USING (article_id) ORDER BY c.chunk_id'):
        texts.append(f"{title}\n{text[start:end]}" if title else text[start:end])
    db.close()
    assert len(texts) == summary["chunks_embedded"]
    embedder = Embedder()
    t0 = time.perf_counter()
    embedder.model  # noqa: B018 -- load it: the load is timed apart from the encoding
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    embedder.encode(texts)
    t_encode = time.perf_counter() - t0
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert embed_text  # the build embeds exactly these strings (index.reading.chunk.embed_text)

    n = len(texts)
    print(f"articles: {summary['added']}  chunks: {n}  (from {source})")
    print(f"{'':34} {'seconds':>8} {'chunks/s':>9}")
    print(f"{'archivist build (end to end)':34} {t_build:8.1f} {n / t_build:9.1f}")
    print(f"{'SentenceTransformer.encode alone':34} {t_encode:8.1f} {n / t_encode:9.1f}   (+{t_load:.1f}s model load)")
    print(f"build / bare encoder throughput: {t_encode / t_build:.1%}")
    print(f"second build, nothing changed: {t_again:.2f}s = {t_again / t_build:.1%} of the first "
          f"({again['unchanged']} unchanged, {again['chunks_embedded']} embedded)")
    print(f"peak RSS: build process {peak_build:.0f} MB, bare encoder process {peak_self:.0f} MB")
    print(f"index folder: {sum(p.stat().st_size for p in (work / 'index').iterdir()) / 2**20:.1f} MB")
    print(f"torch threads: {__import__('torch').get_num_threads()}, cores: {os.cpu_count()}")
    print(f"command: python bench/build.py{' --limit ' + str(args.limit) if args.limit else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
