#!/usr/bin/env python3
"""100 watched topics over the Wikinews index (5,907 articles): from a build's publish to the watch posts.

The archive starts without 60 Wikinews articles; 100 watches are set with `/archivist watch` over signed
HTTP (60 on the held-back articles' subjects, in a few words of their titles, 40 on subjects of
articles already indexed); then a real build adds the 60 and the running bot (watch thread every
`--interval` seconds, the local fake of Slack receiving its posts) posts each watch's news. Measured:
time from the build's return (the publish) to the first and the last post, and to every watch being
done; posts, articles posted, and how many of the 60-article watches got their own article. Then a
restart on the same index, to check that nothing is posted twice.

    python bench/watches.py [--watches 100] [--interval 1]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from common import CACHE, ROOT, SLACK_SECRET, WIKINEWS, SlackHTTP, bench_config, ensure_index, median

sys.path.insert(0, str(ROOT / "tests"))
from fakeslack import TEAM, FakeSlack  # noqa: E402

HELD_BACK = 60
STOP = {"the", "a", "an", "of", "in", "on", "to", "for", "and", "as", "at", "by", "with", "from", "after", "is",
        "are", "be", "says", "say", "over", "into", "its", "his", "her", "their", "new", "us", "uk"}


def topic(title: str) -> str:
    """A watch as a person would type it: the first three or four telling words of a headline."""
    words = [w for w in re.findall(r"[A-Za-z][\w'-]+", title) if w.lower() not in STOP]
    return " ".join(words[:4])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--watches", type=int, default=100)
    ap.add_argument("--interval", type=float, default=1.0)
    args = ap.parse_args()
    from bot.slack.app import create_app
    from index.storing.build import build
    from index.config import parse
    from index.embedding.embed import Embedder

    rows = [json.loads(line) for line in open(WIKINEWS["path"])]
    rng = random.Random(7)
    held = rng.sample(range(len(rows)), HELD_BACK)
    held_set = set(held)
    base_file, news_file = CACHE / "watch-base.jsonl", CACHE / "watch-news.jsonl"
    with open(base_file, "w") as b, open(news_file, "w") as n:
        for i, row in enumerate(rows):
            (n if i in held_set else b).write(json.dumps(row) + "\n")
    embedder = Embedder()
    base = bench_config("watch-base", [{"path": str(base_file), "format": "jsonl"}])
    ensure_index(base, embedder, start_from="wikinews")  # removes the 60 from a copy: nothing is embedded

    work = Path(tempfile.mkdtemp(prefix="archivist-watch-"))
    shutil.copytree(base.index_dir(), work / "idx")
    fake = FakeSlack()
    channels = [f"CNEWS{i}" for i in range(10)]  # ten channels of ten watches
    for c in channels:
        fake.members[c] = ["UHUMAN"]
    cfg = parse({"index": {"path": str(work / "idx")},
                 "sources": [{"path": str(base_file), "format": "jsonl"}, {"path": str(news_file), "format": "jsonl"}],
                 "slack": {"api_base_url": fake.api_url}, "watch": {"interval": args.interval, "per_channel": 100}}, ROOT)
    app = create_app(cfg, bot_token="xoxb-bench", signing_secret=SLACK_SECRET, embedder=embedder)
    slack = SlackHTTP(app, 4)

    on_news = [topic(rows[i]["title"]) for i in held[:min(HELD_BACK, args.watches * 3 // 5)]]
    others = [topic(rows[i]["title"]) for i in rng.sample(sorted(set(range(len(rows))) - held_set),
                                                          args.watches - len(on_news))]
    for i, words in enumerate(on_news + others):
        form = urllib.parse.urlencode({"team_id": TEAM, "channel_id": channels[i % 10], "channel_name": "news", "user_id": "UHUMAN",
                                       "command": "/archivist", "text": f"watch {words}", "response_url":
                                       fake.url + f"/response/w{i}", "trigger_id": "1", "token": "x"})
        slack.post(form, "application/x-www-form-urlencoded")
    set_ = fake.wait_for("response_url", len(on_news) + len(others), timeout=120)
    assert all(c.args["response_type"] == "in_channel" for c in set_), [c.args["text"] for c in set_][:3]

    t_build = time.monotonic()
    summary = build(cfg, embedder=embedder)
    published = time.monotonic()
    state, searcher = app.bot.state, app.bot.searcher
    searcher.refresh()
    generation = searcher.generation
    watches = state.watches()
    while any(state.done_generation(w) < generation for w in watches):
        time.sleep(0.05)
    all_done = time.monotonic()
    posts = [c for c in fake.of("chat.postMessage") if c.args.get("channel") in channels and c.args.get("metadata")]
    new_ids = set(searcher.store.published_between(generation - 1, generation))
    posted = {w.id: state.posted(w.id) for w in watches}
    # a watch set on a held-back article's title: did its post include that article?
    titles = {searcher.store.article(a).title: a for a in new_ids}
    own = sum(1 for w, i in zip(watches, held) if titles.get(rows[i]["title"]) in posted[w.id])

    # the Home tab of someone in all ten channels, opened five times (the first lists the members)
    home = []
    for i in range(5):
        t0 = time.monotonic()
        slack.event({"type": "app_home_opened", "user": "UHUMAN", "channel": "DHOME", "tab": "home"}, f"EvHome{i}")
        [view] = fake.wait_for("views.publish", i + 1, timeout=30)[i:]
        home.append((view.at - t0) * 1000)
    blocks = len(view.args["view"]["blocks"])

    app.watcher.stop()
    again = create_app(cfg, bot_token="xoxb-bench", signing_secret=SLACK_SECRET, embedder=embedder, watch=False)
    repeats = again.watcher.run_once()

    print(f"Build adding {summary.added} articles to the {searcher.articles - summary.added:,}-article Wikinews "
          f"index: {published - t_build:.1f} s ({summary.chunks_embedded} chunks embedded)")
    print(f"{len(watches)} watches ({len(on_news)} on held-back articles' subjects, {len(others)} on others), "
          f"watch thread every {args.interval:g} s:")
    if posts:
        print(f"   publish to first post   {posts[0].at - published:6.1f} s")
        print(f"   publish to last post    {posts[-1].at - published:6.1f} s")
    print(f"   publish to all done     {all_done - published:6.1f} s "
          f"({(all_done - published) / len(watches) * 1000:.0f} ms per watch)")
    print(f"   posts {len(posts)} · articles posted {sum(len(p) for p in posted.values())} · watches posting "
          f"{sum(bool(p) for p in posted.values())} of {len(watches)}")
    print(f"   held-back-article watches whose post holds their own article: {own} of {len(on_news)}")
    print(f"   other watches posting: {sum(bool(posted[w.id]) for w in watches[len(on_news):])} of {len(others)}")
    print(f"   a restart on the same index posts {repeats} more")
    print(f"Home tab with these {len(watches)} watches ({blocks} blocks): event to views.publish "
          f"{home[0]:.0f} ms the first time, median {median(home[1:]):.0f} ms after")
    print(f"command: python bench/watches.py --watches {args.watches} --interval {args.interval:g}")
    slack.close()
    fake.close()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
