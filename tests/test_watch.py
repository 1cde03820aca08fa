"""Watched topics end to end: `/archivist watch` over signed HTTP, a real build that adds articles, the
bot noticing the new generation and posting to a local fake of Slack, exactly once."""
import json
import sqlite3
import threading
import time

import pytest

from conftest import extended_index, folder_with, free_port
from fakeslack import FakeSlack
from test_slack import SECRET, archivist, settle
from bot.web import server as web
from bot.slack.app import create_app
from bot.state.state import State, open_state
from bot.watch import EVENT_TYPE
from index.storing.build import build
from index.config import parse
from index.searching.search import Searcher

FERRY = ("Ferry Workers Strike Over Harbor Safety\n\nJune 3, 2021\n\n"
         "Ferry workers in Port Halden walked off the job on Thursday, halting crossings for about 9,000 commuters. "
         "The ferry union said the strike would go on until the port authority repairs the broken safety rails on "
         "three of its vessels.\n\n"
         "The port authority said repairs would start next week and called the ferry strike premature.\n")
FERRY_TALKS = ("Ferry Strike Talks Resume in Port Halden\n\nJune 5, 2021\n\n"
               "Talks between the ferry union and the port authority resumed on Saturday as the ferry strike entered "
               "its third day. Commuters crowded onto buses while the ferries stayed tied up.\n")
LIBRARY = ("Library Extends Opening Hours\n\nJune 4, 2021\n\n"
           "The central library will open until nine in the evening from July, the council said, after readers asked "
           "for later hours. The reading room gets forty new chairs.\n")


@pytest.fixture
def watch_env(tmp_path, sample_index, embedder):
    """A private copy of the sample index plus a folder new articles are dropped into; the app served
    over HTTP with its watcher running every 0.3 s; `replica()` makes another app on the same index."""
    news = folder_with(tmp_path / "news", {})
    union = extended_index(tmp_path, sample_index, embedder, news)
    fake = FakeSlack()
    fake.members["CW"] = ["UHUMAN"]
    cfg = parse({"index": {"path": str(tmp_path / "idx")}, "sources": [
        {"path": s.path, "format": s.format, "fields": dict(s.fields)} for s in union.sources],
        "slack": {"allowed_channels": ["CW"], "api_base_url": fake.api_url},
        "watch": {"interval": 0.3, "digest": 1}}, union.base_dir)
    apps = []

    def replica(watch=True):
        app = create_app(cfg, bot_token="xoxb-test", signing_secret=SECRET, watch=watch,
                         searcher=Searcher(cfg.index_dir(), embedder, cfg.search))
        apps.append(app)
        return app

    app = replica()
    port = free_port()
    server = web.server(app, SECRET, "127.0.0.1", port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    env = {"url": f"http://127.0.0.1:{server.effective_port}", "fake": fake, "cfg": cfg, "news": news,
           "embedder": embedder, "app": app, "replica": replica}
    yield env
    for a in apps:
        a.watcher.stop()
    server.close()
    fake.close()


def add(env, **files):
    for name, text in files.items():
        (env["news"] / f"{name}.txt").write_text(text)
    return build(env["cfg"], embedder=env["embedder"])


def watch_posts(fake, channel="CW"):
    return [c for c in fake.of("chat.postMessage") if c.args.get("channel") == channel and c.args.get("metadata")]


def watch_id(text: str) -> int:
    return int(text.split("`#")[1].split("`")[0])


def test_a_watch_posts_a_new_matching_article_once_after_a_build_and_never_again(watch_env):
    fake = watch_env["fake"]
    kind, text = archivist(watch_env, "watch ferry strike", channel="CW")
    assert kind == "in_channel"
    wid = watch_id(text)
    settle(1)
    assert not watch_posts(fake)  # what the archive held before the watch is not news
    t0 = time.monotonic()
    summary = add(watch_env, ferry=FERRY, library=LIBRARY)
    assert summary.added == 2
    [post] = fake.wait_for("chat.postMessage", timeout=30, where=lambda c: c.args.get("metadata"))
    took = time.monotonic() - t0
    assert post.args["channel"] == "CW" and took < 30
    blob = json.dumps(post.args["blocks"], ensure_ascii=False)
    assert f"*New in the archive* for watch `#{wid}`: _ferry strike_" in blob
    assert "Ferry Workers Strike Over Harbor Safety" in blob and "2021-06-03" in blob
    assert "> " in post.args["blocks"][1]["text"]["text"]  # the best quote
    assert "Library Extends Opening Hours" not in blob
    assert post.args["text"] == f"1 new article for watch #{wid}: ferry strike"
    assert post.args["metadata"]["event_type"] == EVENT_TYPE
    assert post.args["metadata"]["event_payload"]["watch"] == wid
    settle(1.5)  # several more passes of the watcher
    assert len(watch_posts(fake)) == 1
    assert add(watch_env).added == 0  # a rebuild with nothing new
    settle(1)
    assert len(watch_posts(fake)) == 1
    # a restart: a new process on the same index posts nothing again
    watch_env["app"].watcher.stop()
    watch_env["replica"]()
    settle(1.5)
    assert len(watch_posts(fake)) == 1
    # the next build's news is posted, and only it
    add(watch_env, talks=FERRY_TALKS)
    fake.wait_for("chat.postMessage", count=2, where=lambda c: c.args.get("metadata"))
    second = json.dumps(watch_posts(fake)[1].args["blocks"], ensure_ascii=False)
    assert "Ferry Strike Talks Resume" in second and "Ferry Workers Strike" not in second


def test_two_replicas_post_once(watch_env):
    fake = watch_env["fake"]
    watch_env["app"].watcher.stop()
    archivist(watch_env, "watch ferry strike", channel="CW")
    a, b = watch_env["replica"](watch=False), watch_env["replica"](watch=False)
    add(watch_env, ferry=FERRY)
    posts = []
    threads = [threading.Thread(target=lambda w=w: posts.append(w.run_once())) for w in (a.watcher, b.watcher)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(posts) == [0, 1]
    assert a.watcher.run_once() == b.watcher.run_once() == 0
    assert len(watch_posts(fake)) == 1


def test_a_long_run_of_matches_is_one_digest_and_unwatch_stops_it(watch_env):
    fake = watch_env["fake"]
    watch_env["app"].watcher.stop()
    app = watch_env["replica"](watch=False)
    wid = watch_id(archivist(watch_env, "watch ferry strike", channel="CW")[1])
    add(watch_env, ferry=FERRY, talks=FERRY_TALKS, library=LIBRARY)
    assert app.watcher.run_once() == 1
    [post] = watch_posts(fake)
    blocks = post.args["blocks"]
    assert post.args["text"] == f"2 new articles for watch #{wid}: ferry strike"
    # [watch] digest = 1: one article in full, the other by title
    assert len([b for b in blocks if b["type"] == "section" and "\n> " in b["text"]["text"]]) == 1
    assert blocks[2]["elements"][0]["text"].startswith("and 1 more: ")
    assert archivist(watch_env, f"unwatch {wid}", channel="CW")[0] == "in_channel"
    (watch_env["news"] / "more.txt").write_text(FERRY.replace("Thursday", "Friday").replace("Ferry Workers", "Deckhands"))
    add(watch_env)
    assert app.watcher.run_once() == 0 and len(watch_posts(fake)) == 1


def test_rate_limits_and_failed_posts_are_retried_without_repeats(watch_env):
    fake = watch_env["fake"]
    watch_env["app"].watcher.stop()
    app = watch_env["replica"](watch=False)
    archivist(watch_env, "watch ferry strike", channel="CW")
    add(watch_env, ferry=FERRY)
    fake.fail("chat.postMessage", 429, retry_after=1)  # waited out by the client's retry handler
    assert app.watcher.run_once() == 1
    fake.fail("chat.postMessage", 500, times=10)  # beyond the retries: this pass fails, the next posts
    add(watch_env, talks=FERRY_TALKS)
    assert app.watcher.run_once() == 0
    fake.failures.clear()
    assert app.watcher.run_once() == 1
    assert app.watcher.run_once() == 0
    assert len(watch_posts(fake)) == 2


def test_a_post_that_reached_slack_before_a_crash_is_recorded_not_repeated(watch_env):
    """A process claimed a watch's news, posted it, and died before recording it; the next one to take
    over finds the post by its marker and records it. One that died before posting is made up for."""
    fake = watch_env["fake"]
    watch_env["app"].watcher.stop()
    app = watch_env["replica"](watch=False)
    wid = watch_id(archivist(watch_env, "watch ferry strike", channel="CW")[1])
    add(watch_env, ferry=FERRY)
    state, searcher = open_state(watch_env["cfg"]), app.bot.searcher
    db = sqlite3.connect(watch_env["cfg"].index_dir() / "archive.sqlite", isolation_level=None)
    searcher.refresh()
    ferry_id = searcher.store.published_between(searcher.generation - 1, searcher.generation)[0]
    # the process that died: claimed, planned, posted with its marker, never finished
    run = state.claim_run(wid, searcher.generation)
    assert state.plan_run(run, [ferry_id])
    app.watcher.client.chat_postMessage(channel="CW", text="posted by the process that died", metadata={
        "event_type": EVENT_TYPE, "event_payload": {"watch": wid, "generation": run.generation, "nonce": run.nonce}})
    assert app.watcher.run_once() == 0  # its lease still holds
    db.execute("UPDATE watch_runs SET at = at - ? WHERE watch_id = ?", (State.LEASE + 1, wid))  # time passes
    assert app.watcher.run_once() == 0
    assert len(watch_posts(fake)) == 1
    assert state.posted(wid) == {ferry_id}
    # died after planning, before posting: the post is made, once
    add(watch_env, talks=FERRY_TALKS)
    searcher.refresh()
    run = state.claim_run(wid, searcher.generation)
    assert state.plan_run(run, ["whatever"])
    db.execute("UPDATE watch_runs SET at = at - ? WHERE watch_id = ?", (State.LEASE + 1, wid))
    assert app.watcher.run_once() == 1
    assert len(watch_posts(fake)) == 2 and "Ferry Strike Talks Resume" in json.dumps(watch_posts(fake)[1].args["blocks"])
    state.close()
    db.close()


def test_a_digest_says_how_many_copies_it_folded(watch_env):
    fake = watch_env["fake"]
    watch_env["app"].watcher.stop()
    app = watch_env["replica"](watch=False)
    wid = watch_id(archivist(watch_env, "watch ferry strike", channel="CW")[1])
    add(watch_env, ferry=FERRY, ferry_again=FERRY, ferry_third=FERRY)  # one story saved three times
    assert app.watcher.run_once() == 1
    [post] = watch_posts(fake)
    assert post.args["text"] == f"1 new article, 2 copies for watch #{wid}: ferry strike"
    assert f"_ferry strike_ (1 new article, 2 copies)" in post.args["blocks"][0]["text"]["text"]
