#!/usr/bin/env python3
"""The archive's pages under load: 20 clients at once asking for archived copies (signed links, the
quote marked) and for the search page (a full answer each), as `archivist serve --http` serves them.

On the sample archive and on the 5,907-article Wikinews index (derived from the cached news-mix
index without embedding again). p50 / p95 of each request's time, and requests per second.

    python bench/web_load.py [--clients 20] [--copies 400] [--searches 60]
"""
from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, WIKINEWS, bench_config, ensure_index, example_sources, median, pct

sys.path.insert(0, str(ROOT / "tests"))
from fakeslack import FakeSlack  # noqa: E402


def sample_config(work: Path, embedder):
    from index.storing.build import build
    from index.config import parse

    cfg = parse({"index": {"path": str(work / "sample-idx")}, "sources": example_sources()}, ROOT)
    build(cfg, embedder=embedder)
    return cfg


def measure(name: str, index_dir: Path, embedder, clients: int, copies: int, searches: int) -> None:
    from bot.web import server as web
    from bot.slack.app import create_app
    from index.config import parse
    from index.searching.search import Searcher

    fake = FakeSlack()
    cfg = parse({"index": {"path": str(index_dir)}, "slack": {"api_base_url": fake.api_url},
                 "web": {"search": True, "public_search": True}}, ROOT)
    app = create_app(cfg, bot_token="xoxb-bench", signing_secret="s", searcher=Searcher.open(cfg, embedder))
    server = web.server(app, "s", "127.0.0.1", 0, threads=16)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    store, signer = app.bot.searcher.store, app.bot.signer
    rows = list(store.conn.execute('SELECT c.article_id, c.start, c."end", a.title FROM chunks c '
                                   "JOIN articles a USING (article_id)"))
    rng = random.Random(7)
    copy_urls = [base + signer.path(aid, s, min(e, s + 300)) for aid, s, e, _ in rng.sample(rows, min(copies, len(rows)))]
    titles = [t for _, _, _, t in rng.sample(rows, min(searches, len(rows)))]
    search_urls = [base + "/search?" + urllib.parse.urlencode({"q": t}) for t in titles]

    def fetch(url: str) -> float:
        t0 = time.perf_counter()
        with urllib.request.urlopen(url, timeout=120) as r:
            r.read()
            assert r.status == 200
        return time.perf_counter() - t0

    for kind, urls in (("archived copy", copy_urls), ("search page", search_urls)):
        fetch(urls[0])  # warm
        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            times = list(pool.map(fetch, urls))
        wall = time.perf_counter() - t0
        print(f"{name:<28}{kind:<15}{len(urls):>6}{median(times) * 1000:>10.0f}{pct(times, 95) * 1000:>10.0f}"
              f"{len(urls) / wall:>10.1f}")
    server.close()
    fake.close()


def main() -> None:
    from index.embedding.embed import Embedder

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--copies", type=int, default=400)
    ap.add_argument("--searches", type=int, default=60)
    args = ap.parse_args()
    print(f"$ python bench/web_load.py --clients {args.clients} --copies {args.copies} --searches {args.searches}")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" is the point of the test
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as d:
        sample = sample_config(Path(d), embedder)
        wikinews = bench_config("wikinews", [WIKINEWS])
        ensure_index(wikinews, embedder, start_from="news-mix")
        print(f"\n{'index':<28}{'page':<15}{'reqs':>6}{'p50 ms':>10}{'p95 ms':>10}{'req/s':>10}")
        measure(f"sample ({sample_articles(sample)} articles)", sample.index_dir(), embedder, args.clients,
                args.copies, args.searches)
        measure(f"wikinews ({sample_articles(wikinews)} articles)", wikinews.index_dir(), embedder, args.clients,
                args.copies, args.searches)


def sample_articles(cfg) -> int:
    from index.storing.store import Store

    store = Store.open(cfg.index_dir(), readonly=True)
    try:
        return store.count_articles()
    finally:
        store.close()


if __name__ == "__main__":
    main()
