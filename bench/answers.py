#!/usr/bin/env python3
"""Answers as the user gets them, through `archivist ask --json -` (a real subprocess per index, one
JSON line in, one out), side by side in one run:

  1. News QA dev (../shared/bench/newsqa): 60 questions over 30 Wikinews articles, indexed with 1,200
     other Wikinews articles and the seed dump, and 20 off-archive questions. answered@3: a top-3 quote
     from the right article holds an expected phrase; hit@1; the reply's status; each by question type.
     The same over bench/heldout.jsonl: 24 questions on 8 of those other articles and 8 off-archive
     questions on their subjects, written after the tuning (no dev question is about them).
  2. XQuAD (612 questions) with its 24 articles among 6,158 news articles: the gold answer inside a
     top-3 quote, hit@1/3, status; and the same questions against the News QA archive, which lacks
     their articles (off-archive: status should not be `answered`).
  3. Follow-ups (bench/conversations.jsonl, two-turn conversations over the sample archive and the
     News QA archive): the follow-up asked with its thread, and alone.
  4. SciFact nDCG@10 through `ask --json -k 10` (abstentions and filtering included).
  5. Latency of a whole answer through the `ask -` pipe over a 100,000-chunk index (bench/scale.py's).

    python bench/answers.py [--only newsqa|heldout|xquad|followups|scifact|latency] [--quick] [--reader none]

`--reader none` (or a folder) sets `[search] reader` in every config of the run, for the side-by-side
with the bundled reader; XQuAD also reports its held-out third, the articles the reader never saw.

A team's own votes replay as regression cases: `archivist feedback --export votes.jsonl`, then

    python bench/answers.py --replay votes.jsonl [--config config.toml]

asks each question again through the same pipe and says, per verdict, how many replies changed as the
vote asked (a 👎 case fixed, a 👍 case still the same).
Indexes are built once into bench/.cache with the real build and reused.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from common import (CACHE, NEWSQA, ROOT, SCIFACT, SEED, SUMMARIES, WIKINEWS, bench_config, ensure_index, median,
                    newsqa_articles, newsqa_config, pct, wikinews_with, xquad_articles, xquad_questions)

EXAMPLES = ROOT / "examples" / "archive"
SAMPLE_EXPORT = {"path": str(EXAMPLES / "exports" / "wikinews.jsonl"), "format": "jsonl",
                 "fields": {"title": "headline", "text": "body", "url": "link", "published": "date"}}


SEARCH: dict[str, str] = {}  # [search] keys every bench config of this run gets (--reader)


def toml_for(name: str, sources: list[dict], config_name: str = "", **index) -> Path:
    """A config file for a bench index, so that the real command line reads it; `index` adds keys to
    its [index] section (backend = "onnx-int8", say), `config_name` names the file when several differ."""
    lines = ["[index]", f"path = {json.dumps(str(CACHE / name))}",
             *(f"{k} = {json.dumps(v)}" for k, v in index.items()), ""]
    if SEARCH:
        lines += ["[search]", *(f"{k} = {json.dumps(v)}" for k, v in SEARCH.items()), ""]
        config_name = (config_name or name) + "-" + "-".join(f"{k}-{v}" for k, v in SEARCH.items()).replace("/", "_")
    for s in sources:
        lines.append("[[sources]]")
        lines.append(f"path = {json.dumps(s['path'])}")
        if "format" in s:
            lines.append(f"format = {json.dumps(s['format'])}")
        if "fields" in s:
            lines.append("fields = { " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in s["fields"].items()) + " }")
        lines.append("")
    path = CACHE / f"{config_name or name}.toml"
    path.write_text("\n".join(lines))
    return path


class Ask:
    """`archivist ask --json -` running in a subprocess: one line in, one JSON answer out, timed."""

    def __init__(self, config: Path, *args: str):
        exe = Path(sys.executable).parent / "archivist"
        self.proc = subprocess.Popen([str(exe), "--config", str(config), "ask", "--json", *args, "-"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                     env={**os.environ, "HF_HUB_OFFLINE": "1"})

    def __call__(self, question: str, thread: list[str] | None = None) -> tuple[dict, float]:
        line = json.dumps({"question": question, "thread": thread}) if thread else question.replace("\n", " ")
        t0 = time.perf_counter()
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out = self.proc.stdout.readline()
        return json.loads(out), (time.perf_counter() - t0) * 1000

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def holds(reply: dict, url: str, phrases: list[str], k: int = 3) -> bool:
    return any(p["url"] == url and any(ph in p["quote"] for ph in phrases) for p in reply["passages"][:k])


HELDOUT = Path(__file__).resolve().parent / "heldout.jsonl"


def fold_set() -> tuple[Path, list[dict]]:
    """The held-out fifth of News QA train (the stories the bundled reader never trained on: its
    newsqa_heldout) as dev-style questions, and its archive's sources: those stories and the same
    1,200 other Wikinews articles as News QA dev's archive. A question its story does not answer
    (`in_article: false`) is asked of an archive that holds the story: it should not be `answered`."""
    from index.reader.train import newsqa_heldout

    rows = [json.loads(line) for line in open(NEWSQA.parent / "train.jsonl")]
    held = [r for r in rows if newsqa_heldout(r["url"])]
    questions = CACHE / "newsqa-fold.jsonl"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(questions, "w") as f:
        for r in held:
            d = ({"q": r["q"], "unanswerable": True, "url": r["url"]} if r.get("in_article") is False else
                 {"q": r["q"], "type": r.get("type", "other"), "url": r["url"], "any": r["any"]})
            f.write(json.dumps(d) + "\n")
    return questions, [wikinews_with({r["url"] for r in held}, CACHE / "newsqa-fold-articles.jsonl"), SEED]


def newsqa(embedder, path: Path = NEWSQA, title: str = "News QA dev", key: str = "newsqa",
           sources: list[dict] | None = None, name: str = "newsqa") -> None:
    sources = sources or [newsqa_articles(), SEED]
    cfg = bench_config(name, sources)
    ensure_index(cfg, embedder, start_from=None if name == "newsqa" else "newsqa")
    ask = Ask(toml_for(name, sources))
    items = [json.loads(line) for line in open(path)]
    by_type: dict[str, list] = defaultdict(list)
    off, times = [], []
    for d in items:
        reply, ms = ask(d["q"])
        times.append(ms)
        CONFIDENCE[key, bool(d.get("unanswerable"))].append(confidence(reply))
        if d.get("unanswerable"):
            off.append(reply["status"])
            continue
        urls = [p["url"] for p in reply["passages"]]
        by_type[d["type"]].append((holds(reply, d["url"], d["any"]), bool(urls) and urls[0] == d["url"],
                                   reply["status"]))
    ask.close()
    rows = [r for rs in by_type.values() for r in rs]
    print(f"\n1. {title}: {len(rows)} answerable questions over {len({d['url'] for d in items if 'any' in d})} "
          f"articles among {cfg.index_dir().name} ({_counts(cfg)}), {len(off)} off-archive or unanswered")
    print(f"   {'type':<9} {'n':>3} {'answered@3':>10} {'hit@1':>6} {'status answered':>16}")
    for t, rs in sorted(by_type.items(), key=lambda kv: -len(kv[1])):
        _row(t, rs)
    _row("all", rows)
    n_off = len(off)
    print(f"   off-archive: {n_off} questions, status related {off.count('related') / n_off:.3f}, nothing "
          f"{off.count('nothing') / n_off:.3f}, answered {off.count('answered') / n_off:.3f} "
          f"-> not answered {(n_off - off.count('answered')) / n_off:.3f}")
    print(f"   answer time through the pipe: median {median(times):.0f} ms, p95 {pct(times, 95):.0f} ms")


def _row(name: str, rs: list) -> None:
    n = len(rs)
    print(f"   {name:<9} {n:>3} {sum(r[0] for r in rs) / n:10.3f} {sum(r[1] for r in rs) / n:6.3f} "
          f"{sum(r[2] == 'answered' for r in rs) / n:16.3f}")


def _counts(cfg) -> str:
    import sqlite3

    db = sqlite3.connect(cfg.index_dir() / "archive.sqlite")
    a, c = db.execute("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM chunks)").fetchone()
    db.close()
    return f"{a:,} articles, {c:,} chunks"


def xquad(embedder, limit: int) -> None:
    sources = [WIKINEWS, *SUMMARIES, xquad_articles()]
    cfg = bench_config("news-mix", sources)
    ensure_index(cfg, embedder, start_from="newsqa")
    questions = xquad_questions()[: limit or None]
    ask = Ask(toml_for("news-mix", sources))
    hit1 = hit3 = inquote = 0
    status: dict[str, int] = defaultdict(int)
    unseen = {url for _, url, _ in xquad_questions(heldout=True)}  # the reader never trained on these
    held = [0, 0, 0]  # questions, gold in a top-3 quote, answered
    for question, url, golds in questions:
        reply, _ = ask(question)
        urls = [p["url"] for p in reply["passages"]]
        hit1 += bool(urls) and urls[0] == url
        hit3 += url in urls[:3]
        found = any(g in p["quote"] for p in reply["passages"][:3] for g in golds)
        inquote += found
        status[reply["status"]] += 1
        if url in unseen:
            held[0] += 1
            held[1] += found
            held[2] += reply["status"] == "answered"
        CONFIDENCE["xquad", False].append(confidence(reply))
    ask.close()
    quote_chars = cfg.search.max_quote_chars
    n = len(questions)
    print(f"\n2. XQuAD in a news archive ({n} questions; {_counts(cfg)}; quotes of at most {quote_chars} characters)")
    print(f"   gold answer inside a top-3 quote {inquote / n:.3f}   article hit@1 {hit1 / n:.3f}   hit@3 {hit3 / n:.3f}   "
          + "   ".join(f"{s} {status[s] / n:.3f}" for s in ("answered", "related", "nothing")))
    if held[0]:
        print(f"   the held-out third ({held[0]} questions on articles the reader was not trained on): gold answer "
              f"inside a top-3 quote {held[1] / held[0]:.3f}   answered {held[2] / held[0]:.3f}")
    ask = Ask(toml_for("newsqa", [newsqa_articles(), SEED]))
    off: dict[str, int] = defaultdict(int)
    for question, _, _ in questions:
        reply = ask(question)[0]
        off[reply["status"]] += 1
        CONFIDENCE["xquad", True].append(confidence(reply))
    ask.close()
    print("   the same questions against the News QA archive (their articles absent): "
          + "   ".join(f"{s} {off[s] / n:.3f}" for s in ("answered", "related", "nothing")))


CONFIDENCE: dict[tuple[str, bool], list[float]] = defaultdict(list)  # (set, off-archive) -> per question


def confidence(reply: dict) -> tuple[float, float, float]:
    """What decides the state: the topic evidence (`nothing` below min_evidence), the reply model's
    probability that the reply holds what was asked (`answered` from min_answer) and the reader's
    (from min_read; 1 without a reader)."""
    return reply["evidence"], reply["answerable"], 1.0 if reply.get("reader") is None else reply["reader"]


def threshold_sweep(search) -> None:
    """How the two thresholds trade errors, per set, from the values the replies carried: for
    min_evidence, answerable questions that get `nothing` against off-archive ones that do not; for
    min_answer (at the configured min_evidence), answerable questions not `answered` against
    off-archive ones `answered`."""
    sets = sorted({name for name, _ in CONFIDENCE})

    def table(title, grid, configured, rate):
        print(f"\n   {title} (configured {configured}); per set: answerable / off-archive")
        print(f"   {'':>12}" + "".join(f"{name:>22}" for name in sets))
        for t in sorted(set(grid) | {configured}):
            cells = [rate(CONFIDENCE[n, False], CONFIDENCE[n, True], t) for n in sets]
            print(f"   {t:12.2f}" + "".join(f"{a:>13.3f} / {b:.3f}" for a, b in cells)
                  + ("  <- configured" if t == configured else ""))

    table("min_evidence: share with status nothing", [0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75], search.min_evidence,
          lambda pos, neg, t: (sum(e < t for e, _, _ in pos) / max(1, len(pos)),
                               sum(e < t for e, _, _ in neg) / max(1, len(neg))))
    ok, ans = search.min_evidence, search.min_answer
    table("min_answer, as served without a reader: answerable not answered / off-archive answered",
          [0.3, 0.4, 0.5, 0.6, 0.7], search.min_answer,
          lambda pos, neg, t: (sum(e < ok or c < t for e, c, _ in pos) / max(1, len(pos)),
                               sum(e >= ok and c >= t for e, c, _ in neg) / max(1, len(neg))))
    table(f"both gates (min_answer {ans} and min_read): answerable not answered / off-archive answered",
          [0.0, 0.1, 0.2, 0.3, 0.5], search.min_read,
          lambda pos, neg, t: (sum(e < ok or c < ans or r < t for e, c, r in pos) / max(1, len(pos)),
                               sum(e >= ok and c >= ans and r >= t for e, c, r in neg) / max(1, len(neg))))
    table("min_read, as served with a reader (min_answer not used): answerable not answered / off-archive answered",
          [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5], search.min_read,
          lambda pos, neg, t: (sum(e < ok or r < t for e, _, r in pos) / max(1, len(pos)),
                               sum(e >= ok and r >= t for e, _, r in neg) / max(1, len(neg))))


def conversations_config():
    sources = [newsqa_articles(), SEED, {"path": str(EXAMPLES)}, SAMPLE_EXPORT]
    return sources, bench_config("conversations", sources)


def followups(embedder) -> None:
    sources, cfg = conversations_config()
    ensure_index(cfg, embedder, start_from="newsqa")
    ask = Ask(toml_for("conversations", sources))
    items = [json.loads(line) for line in open(ROOT / "bench" / "conversations.jsonl")]
    seed_title = "IBM Quits Facial Recognition, Joins Call For Police Reforms"
    rows = []
    for d in items:
        def right(reply):
            ok = [p for p in reply["passages"][:3] if (p["url"] == d["url"] if d["url"] else p["title"] == seed_title)]
            return any(ph in p["quote"] for p in ok for ph in d["any"])
        threaded, _ = ask(d["follow_up"], [d["first"]])
        alone, _ = ask(d["follow_up"])
        rows.append((d.get("new_topic", False), right(threaded), right(alone), threaded["follow_up"]))
    ask.close()
    print(f"\n3. Follow-ups (bench/conversations.jsonl; {_counts(cfg)}): answered@3 of the second question")
    for label, new in (("follow-ups", False), ("new topic", True)):
        rs = [r for r in rows if r[0] == new]
        if rs:
            n = len(rs)
            print(f"   {label:<11} {n:>3}: with the thread {sum(r[1] for r in rs) / n:.3f}   asked alone "
                  f"{sum(r[2] for r in rs) / n:.3f}   read as a follow-up {sum(r[3] for r in rs) / n:.3f}")


def scifact(embedder, limit: int) -> None:
    from retrieval import load_scifact, ndcg10, scifact_docs

    cfg = bench_config("scifact", [SCIFACT])
    ensure_index(cfg, embedder)
    doc_of = scifact_docs(cfg)
    queries, qrels = load_scifact()
    items = list(queries.items())[: limit or None]
    ask = Ask(toml_for("scifact", [SCIFACT]), "-k", "10")
    scores, shown, status = [], [], defaultdict(int)
    for qid, text in items:
        reply, _ = ask(text)
        status[reply["status"]] += 1
        docs = list(dict.fromkeys(doc_of[p["article_id"]] for p in reply["passages"]))
        scores.append(ndcg10(docs, qrels[qid]))
        # a `nothing` reply lists the closest titles instead: shown, though not as answers
        shown.append(ndcg10(docs or [doc_of[c["article_id"]] for c in reply["closest"]], qrels[qid]))
    ask.close()
    n = len(items)
    print(f"\n4. SciFact through `archivist ask --json -k 10` ({n} claims; {_counts(cfg)}): nDCG@10 of the passages "
          f"{sum(scores) / n:.3f} (with the closest titles of `nothing` replies {sum(shown) / n:.3f})   "
          + "   ".join(f"{s} {status[s] / n:.3f}" for s in ("answered", "related", "nothing")))


def latency(embedder, limit: int) -> None:
    from scale import grown_index, wikinews_chunks

    articles, chunks = wikinews_chunks(embedder)
    cfg = grown_index(100_000, articles, chunks, embedder)
    ask = Ask(toml_for(cfg.index_dir().name, []))
    questions = [json.loads(line)["q"] for line in open(NEWSQA)] + [q for q, _, _ in xquad_questions()]
    questions = questions[: limit or 200]
    ask(questions[0])  # the model loads on the first question
    times = [ask(q)[1] for q in questions]
    ask.close()
    print(f"\n5. Latency of a whole answer through the `ask -` pipe, {_counts(cfg)} (bench/scale.py's grown index), "
          f"{len(times)} questions (News QA, then XQuAD)")
    print(f"   p50 {median(times):.0f} ms   p95 {pct(times, 95):.0f} ms   max {max(times):.0f} ms")


def _quotes(passages: list[dict]) -> list[tuple[str, str]]:
    return [(p["article_id"], " ".join(p["quote"].split())) for p in passages]


def judged(case: dict, reply: dict) -> bool:
    """Whether the reply now does what the vote asked: a 👍 reply keeps its first quote; a 👎 one no
    longer makes the mistake its verdict names (any change, without a verdict)."""
    before, now = _quotes(case["shown"]), _quotes(reply.get("passages", []))
    if case["vote"] == "up":
        return bool(before) and now[:1] == before[:1]
    verdict = case.get("verdict", "")
    if verdict == "should_be_nothing":
        return reply.get("status") in ("related", "nothing")
    if verdict == "wrong_article":
        return reply.get("status") != "answered" or not now or now[0][0] not in {a for a, _ in before}
    if verdict == "wrong_quote":
        return not set(now) & set(before)
    return now != before or reply.get("status") != case.get("status")


def replay(path: str, config: str) -> None:
    cases = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    ask = Ask(Path(config))
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in cases:
        reply, _ = ask(c["question"])
        kind = "👍 kept" if c["vote"] == "up" else f"👎 {c.get('verdict') or 'no verdict'}: fixed"
        tally[kind][0] += 1
        tally[kind][1] += judged(c, reply)
    ask.close()
    print(f"\nReplay of {len(cases)} votes from {path} through `archivist --config {config} ask --json -`")
    print(f"   {'case':<34} {'votes':>6} {'as asked':>9}")
    for kind, (n, ok) in sorted(tally.items()):
        print(f"   {kind:<34} {n:>6} {ok:>9}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replay", metavar="FILE", help="votes exported by `archivist feedback --export`: ask again")
    ap.add_argument("--config", default="config.toml", help="with --replay: the index's config")
    ap.add_argument("--only", choices=("newsqa", "heldout", "fold", "xquad", "followups", "scifact", "latency"))
    ap.add_argument("--quick", action="store_true", help="a sample of the larger sets, for a fast look")
    ap.add_argument("--reader", help='[search] reader for every question: "none", "bundled" or a folder')
    args = ap.parse_args()
    if args.reader:
        SEARCH["reader"] = args.reader
    if args.replay:
        replay(args.replay, args.config)
        print(f"\ncommand: python bench/answers.py --replay {args.replay} --config {args.config}")
        return 0
    from index.embedding.embed import Embedder

    embedder = Embedder()
    limit = 100 if args.quick else 0
    run = lambda name: args.only in (None, name)  # noqa: E731
    if run("newsqa"):
        newsqa(embedder)
    if run("heldout"):
        newsqa(embedder, HELDOUT, "Held out (bench/heldout.jsonl, written after the tuning on articles no dev "
                                  "question is about)", "heldout")
    if run("fold"):
        path, sources = fold_set()
        newsqa(embedder, path, "News QA train's held-out fifth (stories the reader never saw; questions worded "
                               "loosely; on-topic questions their story does not answer)", "fold", sources, "newsqa-fold")
    if run("xquad"):
        xquad(embedder, limit)
    if CONFIDENCE:
        threshold_sweep(newsqa_config().search)
    if run("followups"):
        followups(embedder)
    if run("scifact"):
        scifact(embedder, limit)
    if run("latency"):
        latency(embedder, limit)
    print(f"\ncommand: python bench/answers.py{' --only ' + args.only if args.only else ''}"
          f"{' --quick' if args.quick else ''}{' --reader ' + args.reader if args.reader else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
