"""Hostile input, measured as the user meets it: `archivist build` of the sample archive alone and of
the sample archive next to a folder of every hostile file (tests/hostile_files.py), side by side.

For each build: wall time, peak RSS of the build process, error lines, and whether every good article
is still answerable (`archivist ask --json -` with each article's title finds that article). Then the
time to extract and chunk 100 KB, 1 MB and 8 MB articles, which must grow linearly.

    python bench/hostile.py [--bomb-mb 2048]
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

from common import ROOT

sys.path.insert(0, str(ROOT / "tests"))
import hostile_files as hf  # noqa: E402

EXAMPLES = ROOT / "examples" / "archive"
_BUILD = hf.PEAK_RSS


def make_hostile(folder: Path, bomb_mb: int) -> None:
    folder.mkdir(parents=True)
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bomb-mb", type=int, default=2048, help="size of each gzip bomb's line once expanded")
    args = ap.parse_args()
    print(f"$ python bench/hostile.py --bomb-mb {args.bomb_mb}")
    results = {}
    with tempfile.TemporaryDirectory() as d:
        for name, with_hostile in (("sample", False), ("sample + hostile", True)):
            work = Path(d) / name.replace(" + ", "-")
            shutil.copytree(EXAMPLES, work / "archive")
            paths = ["archive"]
            if with_hostile:
                make_hostile(work / "hostile", args.bomb_mb)
                paths.append("hostile")
            r = run_build(work, paths)
            titles = sample_titles(work)
            r["answerable"] = f"{answerable(work, titles)}/{len(titles)}"
            results[name] = r
    print(f"\n{'build of':<20}{'seconds':>9}{'peak RSS MB':>13}{'error lines':>13}{'tracebacks':>12}"
          f"{'exit':>6}  {'articles':>9}  good articles answerable")
    for name, r in results.items():
        s = r["summary"]
        print(f"{name:<20}{r['seconds']:>9.1f}{r['peak_mb']:>13.0f}{r['errors']:>13}{r['tracebacks']:>12}"
              f"{r['returncode']:>6}  {s.get('added', 0):>9}  {r['answerable']}")
    print("\nextract + chunk one article (must grow linearly):")
    rows = chunk_times()
    for size, seconds in rows:
        print(f"  {size / 2**20:>6.2f} MB  {seconds:6.2f} s  ({seconds / (size / 2**20):.2f} s/MB)")


if __name__ == "__main__":
    main()
