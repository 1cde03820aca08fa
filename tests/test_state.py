"""The bot's state: the same semantics in the index's SQLite and in PostgreSQL (a real server started
by the fixture), two replicas on separate index copies sharing PostgreSQL answer a retried event once,
and a PostgreSQL restart between two events loses nothing."""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port
from fakeslack import BOT_USER, TEAM, FakeSlack, signed
from bot.state.state import State, open_state
from bot.state.db import PostgresDb, SqliteDb, StateError
from index.config import ConfigError, parse


@pytest.fixture(params=["sqlite", "postgresql"])
def make_state(request, tmp_path):
    """A factory of States on one database: each call is another connection, as another replica's."""
    made = []
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else ""

    def make():
        s = State(PostgresDb(url) if url else SqliteDb(tmp_path / "idx"))
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_each_event_is_claimed_once_and_a_failed_or_expired_claim_is_taken_again(make_state):
    a, b = make_state(), make_state()
    assert a.claim("msg:C1:1") and not b.claim("msg:C1:1") and not a.claim("msg:C1:1")
    a.finish("msg:C1:1", delivered=False)  # nothing reached Slack: Slack's retry is answered
    assert b.claim("msg:C1:1")
    b.finish("msg:C1:1", delivered=True)
    assert not a.claim("msg:C1:1") and not b.claim("msg:C1:1")
    assert a.claim("msg:C1:2")
    b.LEASE = 0.2  # the process holding it died: after the lease, another takes over
    assert not b.claim("msg:C1:2")
    time.sleep(0.3)
    assert b.claim("msg:C1:2") and not a.claim("msg:C1:2")


def test_claims_race_across_connections_and_one_wins(make_state):
    states = [make_state() for _ in range(4)]
    for key in ("race:1", "race:2", "race:3"):
        won = []
        threads = [threading.Thread(target=lambda s=s: won.append(s.claim(key))) for s in states]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(won) == [False, False, False, True]


def test_threads_turns_and_questions(make_state):
    s = make_state()
    root = "1700000010.000100"
    assert not s.answered_thread("C1", root)
    s.remember_thread("C1", root)
    s.remember_thread("C1", root)
    assert s.answered_thread("C1", root) and not s.answered_thread("C2", root)
    s.add_turn("C1", root, root, "who opposed the bridge?", ["a1", "a2"])
    s.add_turn("C1", root, "1700000009.500000", "earlier", ["a0"])
    s.add_turn("C1", root, "1700000011.000000", "how much did it cost?", ["a2", "a3"])
    t = s.thread("C1", root, before_ts="1700000011.000000")
    assert t.questions == ("earlier", "who opposed the bridge?") and t.article_ids == ("a1", "a2", "a0")
    assert s.thread("C1", root).article_ids[:3] == ("a2", "a3", "a1")
    s.log_question("C1", "1.1", "U1", "first", "answered")
    s.log_question("C1", "1.2", "U1", "second", "nothing")
    s.log_question("C1", "1.2", "U1", "second", "related")  # the same message again: one row
    s.log_question("C2", "1.3", "U2", "someone else's", "answered")
    assert s.recent_questions("U1") == [("second", "related", "C1"), ("first", "answered", "C1")]


def test_votes_are_once_and_carry_their_verdict(make_state):
    s = make_state()
    shown = [{"chunk_id": 7, "start": 10, "end": 60, "article_id": "a1", "title": "T", "quote": "q"}]
    assert s.feedback("U1", "C1", "5.5", "down", "why?", [7], "answered", shown)
    assert not s.feedback("U1", "C1", "5.5", "down", "why?", [7], "answered", shown)  # a replayed click
    assert s.feedback("U1", "C1", "5.5", "up", "why?", [7], "answered", shown)  # changed their mind
    assert s.feedback("U2", "C1", "5.5", "down", "why?", [7], "answered", shown)
    assert s.verdict("U1", "C1", "5.5", "wrong_quote", "not that one")
    assert not s.verdict("U9", "C1", "5.5", "other", "")  # no such vote
    votes = s.feedback_since("")
    assert [(v.user, v.vote, v.verdict, v.comment) for v in votes] == [
        ("U1", "down", "wrong_quote", "not that one"), ("U1", "up", "", ""), ("U2", "down", "", "")]
    assert votes[0].shown == tuple(shown) and votes[0].status == "answered" and votes[0].question == "why?"
    assert s.feedback_since("2999-01-01") == []


def test_watches_and_their_runs(make_state):
    a, b = make_state(), make_state()
    w1 = a.add_watch("C1", "T1", "ferry strike", "U1", 3)
    w2 = b.add_watch("C2", "T1", "elections", "U2", 3)
    assert w2 == w1 + 1
    [watch] = a.watches("C1")
    assert (watch.id, watch.query, watch.user, watch.after_generation) == (w1, "ferry strike", "U1", 3)
    assert [w.id for w in b.watches()] == [w1, w2]
    assert a.done_generation(watch) == 3
    run = a.claim_run(w1, 5)
    assert run and run.tried == () and b.claim_run(w1, 5) is None
    assert a.plan_run(run, ["x", "y"])
    a.fail_run(run)  # the post failed: claimable again at once, with the marker to look for
    again = b.claim_run(w1, 5)
    assert again.tried == (run.nonce,) and again.planned == ("x", "y") and again.nonce != run.nonce
    assert not a.plan_run(run, ["x"])  # the first claim is no longer the holder
    b.finish_run(again, ["x", "y"], "1700.1")
    assert a.posted(w1) == {"x", "y"} and a.done_generation(watch) == 5 and a.claim_run(w1, 5) is None
    assert not a.remove_watch("C2", w1) and a.remove_watch("C1", w1) and not a.remove_watch("C1", w1)
    assert [w.id for w in b.watches()] == [w2]


def test_a_newer_state_version_is_refused_and_an_old_sqlite_feedback_table_is_migrated(tmp_path):
    import sqlite3

    (tmp_path / "idx").mkdir()
    db = sqlite3.connect(tmp_path / "idx" / "archive.sqlite")
    db.executescript("CREATE TABLE feedback (id INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT NOT NULL, "
                     "channel TEXT NOT NULL, vote TEXT NOT NULL, question TEXT NOT NULL, chunk_ids TEXT NOT NULL);"
                     "INSERT INTO feedback VALUES (1, '2026-01-01T00:00:00Z', 'U1', 'C1', 'up', 'old', '[]');")
    db.close()
    s = State(SqliteDb(tmp_path / "idx"))
    [old] = s.feedback_since()
    assert (old.question, old.message, old.verdict, old.shown) == ("old", "", "", ())
    s.db.run("UPDATE bot_schema SET version = 99")
    s.close()
    with pytest.raises(StateError, match=r"version 99, newer than this Archivist's 2: upgrade Archivist"):
        State(SqliteDb(tmp_path / "idx"))


def test_state_url_is_checked_and_unreachable_postgres_is_one_clear_line(tmp_path):
    with pytest.raises(ConfigError, match=r"\[state\] url must be a postgresql:// address"):
        parse({"state": {"url": "mysql://x/y"}}, tmp_path)
    with pytest.raises(ConfigError, match=r"holds a password: keep it out of the file \(set PGPASSWORD"):
        parse({"state": {"url": "postgresql://bot:hunter2@db/archivist"}}, tmp_path)
    cfg = parse({"index": {"path": str(tmp_path / "idx")},
                 "state": {"url": f"postgresql://archivist@127.0.0.1:{free_port()}/x"}}, tmp_path)
    with pytest.raises(StateError, match=r"^cannot connect to the state database postgresql://archivist@127\.0\.0\.1:"):
        open_state(cfg)


def test_the_environment_state_url_wins_over_the_file(tmp_path, monkeypatch):
    from bot.state.state import state_url

    cfg = parse({"state": {"url": "postgresql://archivist@file-host/x"}}, tmp_path)
    monkeypatch.delenv("ARCHIVIST_STATE_URL", raising=False)
    assert state_url(cfg) == "postgresql://archivist@file-host/x"
    monkeypatch.setenv("ARCHIVIST_STATE_URL", "postgresql://archivist@env-host/x")
    assert state_url(cfg) == "postgresql://archivist@env-host/x"
    assert state_url(parse({}, tmp_path)) == "postgresql://archivist@env-host/x"


def test_a_postgres_restart_between_two_events_loses_nothing(postgres, pg_url):
    s = State(PostgresDb(pg_url))
    assert s.claim("msg:C1:1")
    s.finish("msg:C1:1", True)
    s.remember_thread("C1", "1")
    postgres.restart()
    assert s.claim("msg:C1:2")  # the lost connection is made again at the next transaction
    s.finish("msg:C1:2", True)
    assert not s.claim("msg:C1:1") and s.answered_thread("C1", "1")
    s.close()


def test_two_bot_processes_on_separate_index_copies_share_postgres_and_answer_once(tmp_path, sample_index, pg_url):
    """Two `archivist serve --http` processes, each with its own copy of the index (as on two hosts),
    both get the same Slack event (the second as Slack's retry): one reply."""
    fake = FakeSlack()
    secret = "pg-secret"
    procs, urls = [], []
    try:
        for i in (1, 2):
            shutil.copytree(sample_index.index_dir(), tmp_path / f"idx{i}")
            config = tmp_path / f"host{i}.toml"
            config.write_text(f'[index]\npath = "{tmp_path / f"idx{i}"}"\n[slack]\napi_base_url = "{fake.api_url}"\n'
                              f'[state]\nurl = "{pg_url}"\n')
            port = free_port()
            exe = Path(sys.executable).parent / "archivist"
            procs.append(subprocess.Popen(
                [str(exe), "--config", str(config), "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
                env={**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": secret,
                     "HF_HUB_OFFLINE": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            _wait_healthy(url, procs)
        ts = "1800000000.000100"
        body = json.dumps({"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                           "event_id": "EvPg1", "event_time": int(time.time()),
                           "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
                           "event": {"type": "app_mention", "user": "UHUMAN", "channel": "C1", "ts": ts,
                                     "text": f"<@{BOT_USER}> why did IBM quit facial recognition?"}})
        for url, retry in zip(urls, ({}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})):
            req = urllib.request.Request(url + "/slack/events", data=body.encode(), method="POST", headers={
                "Content-Type": "application/json", **signed(body, secret), **retry})
            assert urllib.request.urlopen(req, timeout=10).status == 200
        [reply] = fake.wait_for("chat.postMessage", where=lambda c: c.args.get("thread_ts") == ts, timeout=60)
        assert "IBM" in json.dumps(reply.args["blocks"])
        time.sleep(2)
        assert len([c for c in fake.of("chat.postMessage") if c.args.get("thread_ts") == ts]) == 1
        for p in procs:
            p.terminate()
        for url, (_, log) in zip(urls, (p.communicate(timeout=30) for p in procs)):
            # the start line, logged without a "--- Logging error ---" traceback
            assert f"serving Slack requests on {url}/slack/events" in log and "Logging error" not in log
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
        fake.close()


def _wait_healthy(url: str, procs, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise AssertionError(f"a bot process exited: {dead[0].stderr.read()}")
        time.sleep(0.2)
    raise AssertionError(f"{url} never became healthy")
