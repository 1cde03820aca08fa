#!/usr/bin/env python3
"""WikiQA test-even through `archivist ask --json -`, as ../shared/bench/README.md measures it.

The archive: test-even.tsv's documents, one article each (its sentences joined by spaces), built with
the real build into bench/.cache. Every question is asked of the whole archive. WikiQA's licence allows
measuring only: nothing here trains anything.

- P@1, over the questions with a right and a wrong sentence: the first passage is from the right
  document and its quote covers at least half of a correct sentence.
- Answer triggering, over every question: an `answered` reply whose first quote is correct is a true
  positive; any other `answered` reply a false positive; a question with a correct sentence that does
  not get one is a false negative. P, R and F1.

    python bench/wikiqa.py [--reader none|bundled|FOLDER]
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict

import answers
from answers import Ask, toml_for
from common import CACHE, SHARED, bench_config, ensure_index

TSV = SHARED / "wikiqa" / "test-even.tsv"


def load():
    """(questions: id -> (text, doc id, {sentence index: label}), docs: id -> (title, sentences))."""
    questions: dict[str, list] = {}
    docs: dict[str, tuple[str, list[str]]] = {}
    with open(TSV, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            qid, did = row["QuestionID"], row["DocumentID"]
            title, sents = docs.setdefault(did, (row["DocumentTitle"], []))
            n = int(row["SentenceID"].rsplit("-", 1)[1])
            while len(sents) <= n:
                sents.append("")
            sents[n] = row["Sentence"]
            questions.setdefault(qid, [row["Question"], did, {}])[2][n] = int(row["Label"])
    return questions, docs


def url(did: str) -> str:
    return f"https://wikiqa.example.org/{did}"


def archive(docs) -> dict:
    out = CACHE / "wikiqa-test-even.jsonl"
    if not out.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            for did, (title, sents) in docs.items():
                f.write(json.dumps({"id": did, "title": title, "url": url(did), "text": " ".join(sents)}) + "\n")
    return {"path": str(out), "format": "jsonl"}


def covers(quote: str, sentence: str) -> bool:
    """The quote covers at least half of the sentence (by characters, whitespace folded)."""
    q, s = " ".join(quote.split()), " ".join(sentence.split())
    if not s:
        return False
    if s in q:
        return True
    # the longest run of the sentence inside the quote: a quote cut at its start or its end
    best = 0
    for i in range(len(s)):
        lo, hi = best + 1, len(s) - i
        while lo <= hi:  # binary search on the length of s[i:i+L] found in q
            mid = (lo + hi) // 2
            if s[i:i + mid] in q:
                best, lo = mid, mid + 1
            else:
                hi = mid - 1
        if best >= len(s) - i:
            break
    return best >= len(s) / 2


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reader", default="", help='[search] reader for this run: "none", "bundled" or a folder')
    args = ap.parse_args()
    from index.embedding.embed import Embedder

    questions, docs = load()
    source = archive(docs)
    cfg = bench_config("wikiqa", [source])
    ensure_index(cfg, Embedder())
    if args.reader:
        answers.SEARCH["reader"] = args.reader
    ask = Ask(toml_for("wikiqa", [source]))
    p1 = [0, 0]
    tp = fp = with_answer = 0
    status: dict[str, int] = defaultdict(int)
    for qid, (text, did, labels) in questions.items():
        reply, _ = ask(text)
        status[reply["status"]] += 1
        right = [docs[did][1][i] for i, y in labels.items() if y]
        first = reply["passages"][0] if reply["passages"] else None
        correct = bool(first and first["url"] == url(did) and any(covers(first["quote"], s) for s in right))
        if right and len(right) < len(labels):
            p1[0] += correct
            p1[1] += 1
        with_answer += bool(right)
        if reply["status"] == "answered":
            tp += correct
            fp += not correct
    ask.close()
    p = tp / max(1, tp + fp)
    r = tp / max(1, with_answer)
    f1 = 2 * p * r / max(1e-9, p + r)
    n = len(questions)
    print(f"WikiQA test-even through `archivist ask --json -` ({n} questions over {len(docs)} documents; "
          f"reader: {args.reader or 'as configured (bundled)'})")
    print(f"   P@1 {p1[0] / max(1, p1[1]):.3f} ({p1[0]} of {p1[1]} questions with a right and a wrong sentence)")
    print(f"   answer triggering: P {p:.3f}  R {r:.3f}  F1 {f1:.3f} ({tp} right answered, {fp} wrongly answered, "
          f"{with_answer} with an answer)")
    print("   status: " + "   ".join(f"{s} {status[s] / n:.3f}" for s in ("answered", "related", "nothing")))
    print(f"\ncommand: python bench/wikiqa.py{' --reader ' + args.reader if args.reader else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
