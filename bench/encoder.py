#!/usr/bin/env python3
"""The encoder backends side by side: torch (sentence-transformers), ONNX fp32 and ONNX int8.

1. chunks/s on the same 2,000 Wikinews chunk texts, and how close each backend's vectors are to torch's;
2. `archivist build` of Wikinews articles with torch and with ONNX (fresh index each, wall time);
3. a cold `archivist ask` (process start to answer printed), median of 5, on the sample archive and on
   the Wikinews index, with `python -c "import torch"` as the reference;
4. News QA answered@3 and SciFact nDCG@10 through `archivist ask --json` with each backend (torch and
   ONNX fp32 share one index: their vectors are the same; int8 has its own);
5. peak RSS of `archivist serve --http` with each backend, after 10 questions on the search page.

    python bench/encoder.py [--build-articles 5907] [--repeats 3] [--sections 1,2,3,4,5]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from common import (CACHE, NEWSQA, ROOT, SCIFACT, SEED, WIKINEWS, bench_config, ensure_index, example_sources,
                    newsqa_articles)

sys.path.insert(0, str(ROOT / "tests"))
from fakeslack import FakeSlack  # noqa: E402

BACKENDS = ("torch", "onnx", "onnx-int8")
EXE = str(Path(sys.executable).parent / "archivist")
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def chunk_texts(n: int = 2000) -> list[str]:
    from index.reading.chunk import chunk, embed_text
    from index.config import ChunkSettings

    texts = []
    with open(WIKINEWS["path"]) as f:
        for line in f:
            row = json.loads(line)
            texts += [embed_text(row["title"], row["text"], c) for c in chunk(row["text"], ChunkSettings())]
            if len(texts) >= n:
                return texts[:n]
    return texts


def throughput(repeats: int) -> None:
    from index.embedding.embed import Embedder

    texts = chunk_texts()
    print(f"\n1. Encoding the same {len(texts):,} Wikinews chunks (2 cores), median of {repeats}; "
          "torch at batch 64 (the old default) is 1.00x")
    print(f"   {'backend':<10} {'batch':>5} {'chunks/s':>9} {'vs torch@64':>12} {'least cosine to torch':>22}")
    base = rate0 = None
    for backend, batch in (("torch", 64), ("torch", 8), ("onnx", 64), ("onnx", 8), ("onnx-int8", 8)):
        e = Embedder(backend=backend, batch_size=batch)
        e.encode(texts[:64])  # load and warm
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            vecs = e.encode(texts)
            times.append(time.perf_counter() - t0)
        rate = len(texts) / statistics.median(times)
        if base is None:
            base, rate0 = vecs, rate
        print(f"   {backend:<10} {batch:>5} {rate:9.1f} {rate / rate0:11.2f}x "
              f"{float((base * vecs).sum(axis=1).min()):22.5f}", flush=True)


def builds(articles: int) -> None:
    print(f"\n2. `archivist build` of the first {articles:,} Wikinews articles into a fresh index")
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "wikinews.jsonl"
        with open(WIKINEWS["path"]) as f, open(src, "w") as o:
            for _, line in zip(range(articles), f):
                o.write(line)
        for backend, batch in (("torch", 64), ("onnx", 8)):  # before and after: the old and the new defaults
            cfg = Path(d) / f"{backend}.toml"
            cfg.write_text(f'[index]\npath = "idx-{backend}"\nbackend = "{backend}"\nbatch_size = {batch}\n\n'
                           f'[[sources]]\npath = "{src}"\nformat = "jsonl"\n')
            t0 = time.perf_counter()
            out = subprocess.run([EXE, "--config", str(cfg), "build", "--json"], cwd=d, capture_output=True,
                                 text=True, env=ENV)
            seconds = time.perf_counter() - t0
            s = json.loads(out.stdout)
            print(f"   {backend:<6} batch {batch:<3} {seconds:7.1f} s  {s['chunks_embedded'] / seconds:6.1f} chunks/s end to end "
                  f"({s['added']} articles, {s['chunks_embedded']} chunks)", flush=True)


def cold_ask(indexes: dict[str, Path]) -> None:
    print("\n3. Cold `archivist ask` (process start to answer printed), median of 5")
    ref = [_timed([sys.executable, "-c", "import torch"]) for _ in range(5)]
    print(f"   reference: python -c 'import torch'  {statistics.median(ref):.2f} s")
    for name, index in indexes.items():
        for backend, reader in (("torch", "bundled"), ("onnx", "bundled"), ("onnx", "none")):
            with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
                f.write(f'[index]\npath = "{index}"\nbackend = "{backend}"\n[search]\nreader = "{reader}"\n')
            times = [_timed([EXE, "--config", f.name, "ask", "why did IBM quit facial recognition?"]) for _ in range(5)]
            os.unlink(f.name)
            print(f"   {name:<28} {backend:<6} reader {reader:<8} {statistics.median(times):5.2f} s", flush=True)


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, env=ENV, check=True)
    return time.perf_counter() - t0


def quality(embedder_for) -> None:
    from answers import Ask, holds, toml_for
    from retrieval import load_scifact, ndcg10, scifact_docs

    print("\n4. Through `archivist ask --json`: News QA answered@3 (60 answerable) and SciFact nDCG@10 (300 claims)")
    items = [json.loads(line) for line in open(NEWSQA)]
    queries, qrels = load_scifact()
    for backend in BACKENDS:
        suffix = "" if backend != "onnx-int8" else "-onnx-int8"  # torch and ONNX fp32 share their vectors
        news = bench_config("newsqa" + suffix, [newsqa_articles(), SEED], index={"backend": backend})
        sci = bench_config("scifact" + suffix, [SCIFACT], index={"backend": backend})
        for cfg in (news, sci):
            ensure_index(cfg, embedder_for(backend))
        ask = Ask(toml_for("newsqa" + suffix, [newsqa_articles(), SEED], f"newsqa-{backend}", backend=backend))
        hits = [holds(ask(d["q"])[0], d["url"], d["any"]) for d in items if not d.get("unanswerable")]
        ask.close()
        doc_of = scifact_docs(sci)
        ask = Ask(toml_for("scifact" + suffix, [SCIFACT], f"scifact-{backend}", backend=backend), "-k", "10")
        scores = []
        for qid, text in queries.items():
            docs = list(dict.fromkeys(doc_of[p["article_id"]] for p in ask(text)[0]["passages"]))
            scores.append(ndcg10(docs, qrels[qid]))
        ask.close()
        print(f"   {backend:<10} News QA answered@3 {sum(hits) / len(hits):.3f}   SciFact nDCG@10 "
              f"{sum(scores) / len(scores):.3f}", flush=True)


def serve_rss(index: Path) -> None:
    print("\n5. Peak RSS of `archivist serve --http` after 10 questions on its search page")
    fake = FakeSlack()
    questions = ["why did IBM quit facial recognition?", "plane crash in Karaj", "Robert Mugabe", "hotel fire Delhi",
                 "Boris Johnson elected", "California boat fire", "Nevada legislature", "Ted Cruz amendment",
                 "Bolton ousted", "dinosaurs flapped their wings"]
    for backend in ("torch", "onnx", "onnx-int8"):
        with tempfile.TemporaryDirectory() as d:
            port = _free_port()
            cfg = Path(d) / "c.toml"
            cfg.write_text(f'[index]\npath = "{index}"\nbackend = "{backend}"\n[slack]\napi_base_url = "{fake.api_url}"\n'
                           "[web]\nsearch = true\npublic_search = true\n")
            proc = subprocess.Popen([EXE, "--config", str(cfg), "serve", "--http", "--host", "127.0.0.1", "--port",
                                     str(port)], env={**ENV, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "s"},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                _wait(f"http://127.0.0.1:{port}/healthz")
                for q in questions:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/search?" + urllib.parse.urlencode({"q": q}),
                                           timeout=120).read()
                status = Path(f"/proc/{proc.pid}/status").read_text()
                peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
                print(f"   {backend:<10} {peak:6.0f} MB", flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    fake.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def main() -> None:
    from index.storing.build import build
    from index.config import parse
    from index.embedding.embed import Embedder

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-articles", type=int, default=5907)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sections", default="1,2,3,4,5", help="which of the numbered sections to run")
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    print(f"$ python bench/encoder.py --build-articles {args.build_articles} --repeats {args.repeats} "
          f"--sections {args.sections}")
    if "1" in sections:
        throughput(args.repeats)
    if "2" in sections:
        builds(args.build_articles)
    sample = parse({"index": {"path": str(CACHE / "sample")}, "sources": example_sources()}, ROOT)
    embedders: dict[str, Embedder] = {}

    def embedder_for(backend: str) -> Embedder:
        return embedders.setdefault(backend, Embedder(backend=backend))

    build(sample, embedder=embedder_for("onnx"))
    wikinews = bench_config("wikinews", [WIKINEWS])
    ensure_index(wikinews, embedder_for("onnx"), start_from="news-mix")
    if "3" in sections:
        cold_ask({"sample (51 articles)": sample.index_dir(), "wikinews (5,907 articles)": wikinews.index_dir()})
    if "4" in sections:
        quality(embedder_for)
    if "5" in sections:
        serve_rss(wikinews.index_dir())


if __name__ == "__main__":
    main()
