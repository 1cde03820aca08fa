"""Hostile input, measured as the user meets it: `archivist build` of the sample archive alone, next to
a folder of every hostile file (tests/hostile_files.py), and next to those and the files that stalled
parsers (1 MB each: a run of dots, of brackets, of unclosed emphasis, a paragraph of bold words).

For each build: wall time, peak RSS of the build's processes, error lines, and whether every good
article is still answerable (`archivist ask --json -` with each article's title finds that article).
Then what `archivist extract` reads of each damaged WARC, and of WARCs of a slow record or of 40,000
small ones; the server (the Slack app over HTTP, as
`archivist serve --http` runs it, with a local fake of Slack) idle, under 1,100 connections trickling a
byte a second, and under 60 clients of the search page: the time /healthz and a signed event take;
and the time to extract and chunk 100 KB, 1 MB and 8 MB articles, which must grow linearly.

    python bench/hostile.py [--bomb-mb 2048] [--stall-mb 1]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SlackHTTP, median, pct

sys.path.insert(0, str(ROOT / "tests"))
import hostile_files as hf  # noqa: E402

EXAMPLES = ROOT / "examples" / "archive"
_BUILD = hf.PEAK_RSS


def make_hostile(folder: Path, bomb_mb: int) -> None:
    folder.mkdir(parents=True)
    (folder / "warcs").mkdir()
    hf.damaged_warcs(folder / "warcs")
    hf.bad_records(folder)
    hf.odd_names(folder)
    hf.bomb_line(folder / "bomb.jsonl.gz", bomb_mb)
    hf.bomb_line(folder / "bomb.csv.gz", bomb_mb)
    hf.bomb_warc(folder / "bomb.warc.gz", bomb_mb)
    hf.unbalanced_csv(folder / "open-quote.csv")
    hf.odd_dates(folder)
    hf.outside_link(folder, folder.parent / "outside-secret.txt")
    hf.long_article(folder / "long-8mb.txt", 8 * 2**20)


def run_build(work: Path, paths: list[str]) -> dict:
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", _BUILD, "build", "--json", *paths], cwd=work, capture_output=True,
                         text=True, timeout=3600)
    seconds = time.monotonic() - t0
    err = out.stderr.strip().splitlines()
    summary = json.loads(out.stdout) if out.returncode == 0 else {}
    return {"seconds": seconds, "peak_mb": int(err[-1]) / 1024, "errors": sum(line.startswith("error:") for line in err),
            "tracebacks": out.stderr.count("Traceback"), "returncode": out.returncode, "summary": summary}


def answerable(work: Path, titles: dict[str, str]) -> int:
    """How many sample articles `ask` finds by their own title (the article among its passages)."""
    lines = "\n".join(titles) + "\n"
    out = subprocess.run([sys.executable, "-m", "bot.cli", "ask", "--json", "-"], cwd=work, input=lines,
                         capture_output=True, text=True, timeout=1800)
    found = 0
    for title, line in zip(titles, out.stdout.splitlines()):
        got = json.loads(line)
        found += any(p["title"] == title for p in got["passages"]) or any(c["title"] == title for c in got["closest"])
    return found


def sample_titles(work: Path) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "bot.cli", "extract", "--json", "archive"], cwd=work,
                         capture_output=True, text=True, timeout=600)
    return {a["title"]: a["article_id"] for a in map(json.loads, out.stdout.splitlines())}


def chunk_times() -> list[tuple[int, float]]:
    from index.reading import extract
    from index.reading.chunk import chunk
    from index.config import ChunkSettings

    rows = []
    with tempfile.TemporaryDirectory() as d:
        for size in (100 * 2**10, 2**20, 8 * 2**20):
            hf.long_article(Path(d) / "long.txt", size)
            t0 = time.perf_counter()
            text = extract.text_dump((Path(d) / "long.txt").read_text()).text
            chunk(text, ChunkSettings())
            rows.append((size, time.perf_counter() - t0))
    return rows


def warc_budgets() -> dict[str, tuple[float, int, int, str]]:
    """A slow record between good ones must cost that record only, and a WARC of 40,000 small records
    (about 3 ms of trafilatura each, however small) must be read to its last record, a real page."""
    rows = {}
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "config.toml").write_text("[index]\nmax_file_seconds = 2\n")
        hf.slow_warc(Path(d) / "slow-record.warc", 100_000)
        small = [hf.warc_record(f"https://w.example/{i}", f"<html><body><p>Page {i}.</p></body></html>".encode(), f"s{i}")
                 for i in range(40_000)]
        (Path(d) / "40000-small-records.warc").write_bytes(
            b"".join(small) + hf.warc_record("https://w.example/last", hf.page("The last record"), "last"))
        for name in ("slow-record.warc", "40000-small-records.warc"):
            t0 = time.monotonic()
            out = subprocess.run([sys.executable, "-m", "bot.cli", "extract", "--json", name], cwd=d,
                                 capture_output=True, text=True, timeout=3600)
            read = [json.loads(line)["title"] for line in out.stdout.splitlines()]
            errors = out.stderr.strip().splitlines()
            rows[name] = (time.monotonic() - t0, len(read), len(errors), read[-1] if read else "")
    return rows


def server_figures(work: Path) -> dict[str, dict]:
    """/healthz and signed events against the sample index's server: idle, under slow-loris, with busy pages."""
    import itertools
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from fakeslack import FakeSlack

    from bot.slack.app import create_app
    from index.config import parse
    from index.embedding.embed import Embedder
    from index.searching.search import Searcher

    import logging

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is N", for each request
    fake = FakeSlack()
    cfg = parse({"index": {"path": str(work / "archive-index")}, "slack": {"api_base_url": fake.api_url},
                 "web": {"search": True, "public_search": True}}, work)
    app = create_app(cfg, bot_token="xoxb-bench", signing_secret="bench-secret", watch=False,
                     searcher=Searcher.open(cfg, Embedder.for_index(cfg.index)))
    slack = SlackHTTP(app, threads=16)
    base = slack.url.removesuffix("/slack/events")
    ids = itertools.count()

    def probe() -> list[float]:
        took = []
        for _ in range(20):
            t0 = time.monotonic()
            with urllib.request.urlopen(base + "/healthz", timeout=30) as r:
                r.read()
            took.append(time.monotonic() - t0)
            t0 = time.monotonic()
            slack.event({"type": "app_home_opened", "user": "UHUMAN", "channel": "D1", "tab": "home"}, f"Ev{next(ids)}")
            took.append(time.monotonic() - t0)
            time.sleep(0.1)
        return took

    def row(took: list[float], pages: str = "") -> dict:
        ms = [t * 1000 for t in took]
        return {"p50": median(ms), "p99": pct(ms, 99), "max": max(ms), "pages": pages}

    rows = {"idle": row(probe())}
    host, port = base.removeprefix("http://").split(":")
    with hf.trickling(host, int(port)):
        rows["1,100 trickling connections"] = row(probe())

    stop, statuses, page_ms = threading.Event(), [], []

    def search(i):
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                with urllib.request.urlopen(base + "/search?" + urllib.parse.urlencode({"q": f"council vote {i}"}),
                                            timeout=60) as r:
                    r.read()
                    statuses.append(r.status)
                    page_ms.append((time.monotonic() - t0) * 1000)
            except urllib.error.HTTPError as e:
                statuses.append(e.code)

    with ThreadPoolExecutor(60) as pool:
        for i in range(60):
            pool.submit(search, i)
        time.sleep(2)
        took = probe()
        stop.set()
    rows["60 clients searching"] = row(took, f"{statuses.count(200)} answered (p50 {median(page_ms):.0f} ms), "
                                             f"{statuses.count(503)} told 503 busy")
    slack.close()
    fake.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bomb-mb", type=int, default=2048, help="size of each gzip bomb's line once expanded")
    ap.add_argument("--stall-mb", type=float, default=1, help="size of each stall file")
    args = ap.parse_args()
    print(f"$ python bench/hostile.py --bomb-mb {args.bomb_mb} --stall-mb {args.stall_mb:g}")
    results = {}
    d = tempfile.mkdtemp()
    try:
        report(args, d, results)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def report(args, d: str, results: dict) -> None:
    for name in ("sample", "sample + hostile", "sample + hostile + stall"):
        work = Path(d) / name.replace(" + ", "-")
        shutil.copytree(EXAMPLES, work / "archive")
        paths = ["archive"]
        if "hostile" in name:
            make_hostile(work / "hostile", args.bomb_mb)
            paths.append("hostile")
        if "stall" in name:
            (work / "stall").mkdir()
            hf.stall_files(work / "stall", int(args.stall_mb * 2**20))
            paths.append("stall")
        r = run_build(work, paths)
        titles = sample_titles(work)
        r["answerable"] = f"{answerable(work, titles)}/{len(titles)}"
        results[name] = r
    print(f"\n{'build of':<26}{'seconds':>9}{'peak RSS MB':>13}{'error lines':>13}{'tracebacks':>12}"
          f"{'exit':>6}  {'articles':>9}  good articles answerable")
    for name, r in results.items():
        s = r["summary"]
        print(f"{name:<26}{r['seconds']:>9.1f}{r['peak_mb']:>13.0f}{r['errors']:>13}{r['tracebacks']:>12}"
              f"{r['returncode']:>6}  {s.get('added', 0):>9}  {r['answerable']}")
    base = results["sample + hostile"]["seconds"]
    print(f"\nstall files: the build takes {results['sample + hostile + stall']['seconds'] / base:.2f}x the time "
          "of the same build without them (target: within 2x)")
    print("\ndamaged WARC files, as `archivist extract --json` reads them (5 HTML records each, 1 damaged):")
    with tempfile.TemporaryDirectory() as warcs:
        for name in hf.damaged_warcs(Path(warcs)):
            out = subprocess.run([sys.executable, "-m", "bot.cli", "extract", "--json", name], cwd=warcs,
                                 capture_output=True, text=True, timeout=600)
            errors = out.stderr.strip().splitlines()
            print(f"  {name:<24} {len(out.stdout.splitlines())} read  {errors[0] if errors else ''}")
    print("\nWARC files of slow or many records, as `archivist extract --json` reads them with max_file_seconds = 2:")
    for name, (seconds, read, errors, last) in warc_budgets().items():
        print(f"  {name:<40} {seconds:6.1f} s  {read:>5} read  {errors:>6} error lines  last: {last}")
    print("\nthe server: time for /healthz and for a signed Slack event to be answered (ms), 20 of each")
    print(f"{'':<36}{'p50':>7}{'p99':>7}{'max':>7}  pages")
    for name, row in server_figures(Path(d) / "sample").items():
        print(f"  {name:<34}{row['p50']:>7.0f}{row['p99']:>7.0f}{row['max']:>7.0f}  {row['pages']}")
    print("\nextract + chunk one article (must grow linearly):")
    rows = chunk_times()
    for size, seconds in rows:
        print(f"  {size / 2**20:>6.2f} MB  {seconds:6.2f} s  ({seconds / (size / 2**20):.2f} s/MB)")


if __name__ == "__main__":
    main()
