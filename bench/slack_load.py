#!/usr/bin/env python3
"""50 questions at once over HTTP: each answered exactly once; time from request to posted reply.

The bot is served by waitress (as `archivist serve --http` does) over the sample archive; a local
fake of Slack's Web API receives the replies; requests are signed as Slack signs them.

    python bench/slack_load.py [--questions 50]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, SLACK_SECRET, SlackHTTP, example_sources, median, pct

sys.path.insert(0, str(ROOT / "tests"))
from fakeslack import BOT_USER, FakeSlack  # noqa: E402

QUESTIONS = ["why did IBM quit facial recognition?", "plane crash in Karaj", "Robert Mugabe death",
             "protests in Serbia", "water main burst in White Plains", "Chadwick Boseman tributes",
             "debate cancelled", "Kenosha suspect bond", "Facebook records exposed", "hotel fire in Delhi"]


def main() -> int:

    from bot.slack.app import create_app
    from index.storing.build import build
    from index.config import parse
    from index.embedding.embed import Embedder

    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=50)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="archivist-load-"))
    embedder = Embedder()
    cfg = parse({"index": {"path": str(work / "idx")}, "sources": example_sources()}, ROOT)
    build(cfg, embedder=embedder)
    fake = FakeSlack()
    cfg = parse({"index": {"path": str(work / "idx")}, "slack": {"api_base_url": fake.api_url}}, ROOT)
    slack = SlackHTTP(create_app(cfg, bot_token="xoxb-bench", signing_secret=SLACK_SECRET, embedder=embedder), 16)

    sent: dict[str, float] = {}
    acks: list[float] = []

    def ask(i: int) -> None:
        ts = f"{1900000000 + i}.000100"
        sent[ts] = time.monotonic()
        assert slack.event({"type": "app_mention", "user": "UHUMAN", "channel": "CLOAD", "ts": ts,
                            "text": f"<@{BOT_USER}> {QUESTIONS[i % len(QUESTIONS)]}"}, f"EvLoad{i}") == 200
        acks.append(time.monotonic() - sent[ts])

    n = args.questions
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(ask, range(n)))
    fake.wait_for("chat.postMessage", n, timeout=600, where=lambda c: c.args.get("channel") == "CLOAD")
    time.sleep(2)  # any duplicate would arrive now
    posts = [c for c in fake.of("chat.postMessage") if c.args.get("channel") == "CLOAD"]
    per_thread = {}
    for c in posts:
        per_thread[c.args["thread_ts"]] = per_thread.get(c.args["thread_ts"], 0) + 1
    latency = [(c.at - sent[c.args["thread_ts"]]) * 1000 for c in posts]
    print(f"{n} questions sent at once over HTTP; {len(posts)} replies posted; "
          f"answered exactly once: {sorted(per_thread.values()) == [1] * n}")
    print(f"ack (HTTP response) p50 {median(acks) * 1000:.0f} ms, p95 {pct(acks, 95) * 1000:.0f} ms, "
          f"max {max(acks) * 1000:.0f} ms")
    print(f"request to posted reply: p50 {median(latency):.0f} ms, p95 {pct(latency, 95):.0f} ms, "
          f"max {max(latency):.0f} ms; all {n} done in {time.monotonic() - t0:.1f}s")
    print(f"command: python bench/slack_load.py --questions {n}")
    slack.close()
    fake.close()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
