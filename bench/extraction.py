#!/usr/bin/env python3
"""Article extraction F1 on ../shared/bench/extraction (91 news pages with gold article bodies).

Scored as scrapinghub/article-extraction-benchmark scores it: word 4-gram shingles, per-page
tp/fp/fn normalised to 1, precision and recall averaged over pages, F1 of the two means.
Ours (index.reading.extract.html) and trafilatura with default settings, side by side in one run.

    python bench/extraction.py
"""
from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "bench" / "extraction"
_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter:
    toks = _TOKEN.findall(text or "")
    return Counter(tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1)) if toks[i:i + n])


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    a, b = shingles(true), shingles(pred)
    tp = fp = fn = 0.0
    for key in set(a) | set(b):
        t, p = a.get(key, 0), b.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def score(rows: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    def prec(tp, fp, fn):
        return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)

    def rec(tp, fp, fn):
        return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)

    p = statistics.mean(prec(*r) for r in rows if r[0] + r[1] > 0)
    r = statistics.mean(rec(*r) for r in rows if r[0] + r[2] > 0)
    return 2 * p * r / (p + r), p, r


def main() -> int:
    import trafilatura

    from index.reading.extract import ExtractError, html

    gold = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {k: gzip.open(DATA / "html" / f"{k}.html.gz").read() for k in gold}

    def ours(data: bytes, url: str) -> str:
        try:
            return html(data, url=url).text
        except ExtractError:
            return ""

    systems = {
        "archivist (index.reading.extract.html)": ours,
        "trafilatura defaults": lambda data, url: trafilatura.extract(data, url=url) or "",
    }
    print(f"{'system':<34} {'F1':>6} {'prec':>6} {'recall':>6} {'ms/page':>8}")
    for name, fn in systems.items():
        t0 = time.perf_counter()
        preds = {k: fn(pages[k], gold[k]["url"]) for k in gold}
        ms = (time.perf_counter() - t0) * 1000 / len(gold)
        f1, p, r = score([tp_fp_fn(gold[k]["articleBody"], preds[k]) for k in gold])
        print(f"{name:<34} {f1:6.3f} {p:6.3f} {r:6.3f} {ms:8.1f}")
    print(f"\n{len(gold)} pages from {DATA}\ncommand: python bench/extraction.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
