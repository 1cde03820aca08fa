"""The Slack bot end to end over real HTTP: signed requests in, Web API calls out to a local fake of
Slack, the real model and index in between. Socket Mode over a local WebSocket server."""
import itertools
import json
import logging
import re
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import hostile_files as hf
from conftest import extended_index, folder_with, free_port, run_cli
from fakeslack import BOT_USER, TEAM, FakeSlack, SocketModeServer, signed
from bot.web import server as web
from bot.slack.app import TOKEN_HELP, create_app
from index.storing.build import build
from index.config import parse
from index.searching.search import Searcher

SECRET = "test-signing-secret"
IBM = "IBM Quits Facial Recognition, Joins Call For Police Reforms"
_ts = itertools.count(1)


def next_ts() -> str:
    return f"{1800000000 + next(_ts)}.000100"


@pytest.fixture(scope="module")
def slack_env(tmp_path_factory, sample_index, embedder):
    """A private copy of the sample index (plus a hostile article), the app served by waitress."""
    root = tmp_path_factory.mktemp("slack")
    hostile = folder_with(root / "hostile", {"warning.txt":
        "Emergency Broadcast Tests Confuse Harbor Residents\n\nMay 3, 2021\n\n"
        "The harbor siren test confused residents on Monday, and the notice read <!channel> evacuate the pier now "
        "<https://evil.example|click here for details> & stay calm, officials said later that day.\n\n"
        "Officials apologised for the harbor siren test and promised clearer notices before the next drill.\n"})
    union = extended_index(root, sample_index, embedder, hostile)
    fake = FakeSlack()
    port = free_port()
    cfg = parse({"index": {"path": str(root / "idx")}, "sources": [], "slack": {
        "allowed_channels": ["C1", "C2", "CTHREAD", "CBIG"], "api_base_url": fake.api_url, "admins": ["UADMIN"]},
        "web": {"public_url": f"http://127.0.0.1:{port}"}}, root)
    searcher = Searcher(cfg.index_dir(), embedder, cfg.search)
    app = create_app(cfg, bot_token="xoxb-test", signing_secret=SECRET, searcher=searcher, watch=False)
    server = web.server(app, SECRET, "127.0.0.1", port, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    env = {"url": f"http://127.0.0.1:{server.effective_port}", "fake": fake, "cfg": cfg, "union": union,
           "root": root, "app": app, "searcher": searcher}
    yield env
    server.close()
    fake.close()


def post(env, body: str, content_type: str, headers: dict | None = None, secret: str = SECRET, timestamp=None):
    req = urllib.request.Request(env["url"] + "/slack/events", data=body.encode(), method="POST", headers={
        "Content-Type": content_type, **signed(body, secret, timestamp), **(headers or {})})
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode(), time.monotonic() - t0
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), time.monotonic() - t0


def event(env, ev: dict, event_id: str | None = None, headers=None, **kw):
    payload = {"token": "x", "team_id": TEAM, "api_app_id": "AARCHIVIST", "type": "event_callback",
               "event_id": event_id or f"Ev{next(_ts)}", "event_time": int(time.time()), "event": ev,
               "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}
    return post(env, json.dumps(payload), "application/json", headers, **kw)


def mention(channel: str, text: str, ts: str | None = None, **extra) -> dict:
    return {"type": "app_mention", "user": "UHUMAN", "text": f"<@{BOT_USER}> {text}", "ts": ts or next_ts(),
            "channel": channel, "event_ts": ts, **extra}


def replies(fake, channel: str, thread_ts: str, count: int = 1, timeout: float = 30):
    return fake.wait_for("chat.postMessage", count, timeout,
                         where=lambda c: c.args.get("channel") == channel and c.args.get("thread_ts") == thread_ts)


def settle(seconds: float = 1.5):
    time.sleep(seconds)  # for asserting that something does NOT happen


def all_text(call) -> str:
    return json.dumps(call.args.get("blocks")) + call.args.get("text", "")


def action(env, action_id: str, value: str, channel="C1", message=None, response_url=None):
    payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "UHUMAN"}, "api_app_id": "AARCHIVIST",
               "token": "x", "trigger_id": "1.2.3", "channel": {"id": channel},
               "container": {"type": "message", "message_ts": (message or {}).get("ts", "1.1"), "channel_id": channel},
               "message": message or {"ts": "1.1"}, "response_url": response_url or env["fake"].url + "/response/a",
               "actions": [{"action_id": action_id, "block_id": "b", "type": "button", "value": value,
                            "action_ts": str(time.time())}]}
    return post(env, "payload=" + urllib.parse.quote(json.dumps(payload)), "application/x-www-form-urlencoded")


# --- questions ---------------------------------------------------------------------------------

def test_a_mention_gets_exactly_one_threaded_reply_with_quotes_and_links(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    status, _, took = event(slack_env, mention("C1", "why did IBM quit facial recognition?", ts))
    assert status == 200 and took < 3
    [reply] = replies(fake, "C1", ts)
    first = reply.args["blocks"][0]["text"]["text"]
    # no URL of its own: the title links the archived copy; the sample holds the story twice
    assert re.match(r"^\*<http://127\.0\.0\.1:\d+/a/[0-9a-f]{12}\?q=\d+-\d+&amp;exp=\d+&amp;sig=[0-9a-f]{32}#quote\|"
                    + re.escape(IBM) + r">\*\n2020-06-09 · saved 2 times\n> ", first), first
    assert reply.args["unfurl_links"] in (False, "0", "false") and reply.args["unfurl_media"] in (False, "0", "false")
    assert "passage" in reply.args["text"]
    assert any(c.args.get("name") == "eyes" for c in fake.of("reactions.add") if c.args.get("timestamp") == ts)
    settle()
    assert len([c for c in fake.of("chat.postMessage") if c.args.get("thread_ts") == ts]) == 1
    links = re.findall(r"<(https?://[^|>]+)\|", json.dumps(reply.args["blocks"]))
    # each link is an original (with a text fragment) or a signed archived copy on this server
    assert all(re.match(r"^https://en\.wikinews\.org/wiki/\S+#:~:text=", u) or u.startswith(slack_env["cfg"].web.public_url)
               for u in links), links


def test_the_same_event_retried_gets_no_second_reply(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    ev = mention("C1", "plane crash in Karaj", ts)
    event(slack_env, ev, event_id="EvRetry1")
    replies(fake, "C1", ts)
    status, _, _ = event(slack_env, ev, event_id="EvRetry1", headers={"X-Slack-Retry-Num": "1",
                                                                      "X-Slack-Retry-Reason": "http_timeout"})
    assert status == 200
    # the same message also arrives as a plain channel message event: still one answer
    event(slack_env, {**ev, "type": "message", "channel_type": "channel"}, event_id="EvRetry2")
    settle()
    assert len([c for c in fake.of("chat.postMessage") if c.args.get("thread_ts") == ts]) == 1


def test_a_follow_up_in_the_thread_needs_no_mention(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    event(slack_env, mention("CTHREAD", "why did IBM quit facial recognition?", ts))
    replies(fake, "CTHREAD", ts)
    follow = {"type": "message", "channel_type": "channel", "user": "UHUMAN", "text": "what about the Clearview AI startup?",
              "ts": next_ts(), "thread_ts": ts, "channel": "CTHREAD"}
    event(slack_env, follow)
    [_, second] = replies(fake, "CTHREAD", ts, count=2)
    assert "Clearview" in all_text(second)
    # a thread the bot never answered is left alone
    other = {**follow, "ts": next_ts(), "thread_ts": "1700000000.999999"}
    event(slack_env, other)
    settle()
    assert not [c for c in fake.of("chat.postMessage") if c.args.get("thread_ts") == "1700000000.999999"]


def test_a_follow_up_is_read_with_the_threads_earlier_question(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    event(slack_env, mention("CTHREAD", "Who led the opposition to the harbor bridge?", ts))
    [first] = replies(fake, "CTHREAD", ts)
    assert "Greg Hayes" in all_text(first)
    follow = {"type": "message", "channel_type": "channel", "user": "UHUMAN", "text": "What did he argue?",
              "ts": next_ts(), "thread_ts": ts, "channel": "CTHREAD"}
    event(slack_env, follow)
    [_, second] = replies(fake, "CTHREAD", ts, count=2)
    assert "heavy traffic" in second.args["blocks"][0]["text"]["text"]
    # the thread's turns are kept in the index's SQLite, so a restart or a second replica reads them too
    db = sqlite3.connect(slack_env["cfg"].index_dir() / "archive.sqlite")
    turns = db.execute("SELECT question FROM bot_turns WHERE channel = 'CTHREAD' AND thread_ts = ? ORDER BY ts",
                       (ts,)).fetchall()
    db.close()
    assert turns == [("Who led the opposition to the harbor bridge?",), ("What did he argue?",)]


def test_a_direct_message(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    event(slack_env, {"type": "message", "channel_type": "im", "user": "UHUMAN", "text": "Robert Mugabe death",
                      "ts": ts, "channel": "D1"})
    [reply] = replies(fake, "D1", ts)
    assert "Mugabe" in all_text(reply)


def test_own_and_other_bots_messages_are_ignored(slack_env):
    fake = slack_env["fake"]
    for ev in ({"type": "message", "channel_type": "im", "user": BOT_USER, "text": "IBM", "ts": next_ts(), "channel": "D9"},
               {"type": "message", "channel_type": "im", "bot_id": "BOTHER", "user": "UOTHERBOT", "text": "IBM",
                "ts": next_ts(), "channel": "D9"},
               {"type": "message", "subtype": "bot_message", "channel_type": "im", "text": "IBM", "ts": next_ts(),
                "channel": "D9"}):
        event(slack_env, ev)
    settle()
    assert not [c for c in fake.of("chat.postMessage") if c.args.get("channel") == "D9"]


def test_an_off_archive_question_says_nothing_found_with_the_closest_titles(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    event(slack_env, mention("C1", "best banana bread recipe with walnuts", ts))
    [reply] = replies(fake, "C1", ts)
    text = reply.args["blocks"][0]["text"]["text"]
    assert text.startswith("Nothing in the archive about _best banana bread recipe with walnuts_.\nThe closest articles:")
    assert text.count("\n• ") == 3


def test_archived_text_cannot_ping_or_forge_links(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    event(slack_env, mention("C1", "harbor siren test notice", ts))
    [reply] = replies(fake, "C1", ts)
    blob = json.dumps(reply.args["blocks"])
    assert "&lt;!channel&gt;" in blob and "&lt;https://evil.example|click here for details&gt;" in blob
    assert "<!channel>" not in blob and "<https://evil.example" not in blob and "&amp; stay calm" in blob
    assert "<" not in reply.args["text"]  # the notification text is escaped like the blocks


def test_every_quote_links_to_its_archived_copy_and_the_original_to_the_quote(slack_env):
    """The IBM story has no URL: its title links the signed archived copy, which opens on the quote.
    A Wikinews story links its original with a text fragment, and the archived copy beside it."""
    fake, ts = slack_env["fake"], next_ts()
    event(slack_env, mention("C1", "why did IBM quit facial recognition?", ts))
    [reply] = replies(fake, "C1", ts)
    first = reply.args["blocks"][0]["text"]["text"]
    m = re.match(r"^\*<(http://127\.0\.0\.1:\d+/a/[0-9a-f]{12}\?q=(\d+)-(\d+)&amp;exp=\d+&amp;sig=[0-9a-f]{32}#quote)\|"
                 + re.escape(IBM) + r">\*\n", first)
    assert m, first
    with urllib.request.urlopen(m.group(1).replace("&amp;", "&"), timeout=10) as r:
        page = r.read().decode()
    quote = first.split("\n> ", 1)[1].split("\n")[0].strip("…")
    assert r.status == 200 and '<mark id="quote">' in page
    assert quote[:40] in page.split('<mark id="quote">', 1)[1]
    ts = next_ts()
    event(slack_env, mention("C1", "Iranian cargo plane crash Karaj", ts))
    [reply] = replies(fake, "C1", ts)
    first = reply.args["blocks"][0]["text"]["text"]
    assert re.match(r"^\*<https://en\.wikinews\.org/wiki/Iranian_cargo_plane_crashes_into_Karaj_houses#:~:text=[^|>]+\|"
                    r"Iranian cargo plane crashes into Karaj houses>\* · <http://127\.0\.0\.1:\d+/a/[0-9a-f]{12}\?q=\d+-\d+"
                    r"&amp;exp=\d+&amp;sig=[0-9a-f]{32}#quote\|archived copy>\n", first), first


def test_a_question_typed_with_entities_is_not_echoed_as_a_ping(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    # the user typed "&lt;!channel&gt; zxqv": Slack escapes their & once more
    event(slack_env, mention("C1", "&amp;lt;!channel&amp;gt; zxqv qqqw", ts))
    [reply] = replies(fake, "C1", ts)
    assert "<!channel>" not in all_text(reply)
    assert "&amp;lt;!channel&amp;gt; zxqv qqqw" in reply.args["text"]


def test_a_channel_that_is_not_allowed_gets_a_private_note(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    event(slack_env, mention("CNOPE", "why did IBM quit facial recognition?", ts))
    [note] = fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("channel") == "CNOPE")
    assert note.args["user"] == "UHUMAN" and "isn't enabled in this channel" in note.args["text"]
    settle()
    assert not [c for c in fake.of("chat.postMessage") if c.args.get("channel") == "CNOPE"]


def test_a_429_is_retried_and_the_reply_delivered_once(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    fake.fail("chat.postMessage", 429, times=1, retry_after=1)
    event(slack_env, mention("C2", "why did IBM quit facial recognition?", ts))
    [reply] = replies(fake, "C2", ts)
    limited = [c for c in fake.calls if c.method == "chat.postMessage" and c.args["_status"] == 429]
    assert len(limited) == 1 and reply.at - limited[0].at >= 0.9  # waited for Retry-After
    settle()
    assert len(replies(fake, "C2", ts)) == 1


def test_a_500_then_success_is_delivered_once(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    fake.fail("chat.postMessage", 500, times=2)
    event(slack_env, mention("C2", "Boeing cargo plane", ts))
    replies(fake, "C2", ts)
    settle()
    assert len(replies(fake, "C2", ts)) == 1


def test_a_failing_search_ends_in_the_error_reply_with_a_logged_id(slack_env, caplog):
    fake, ts = slack_env["fake"], next_ts()
    db = sqlite3.connect(slack_env["cfg"].index_dir() / "archive.sqlite")
    # the keyword index is gone: the real search path fails on it
    db.execute("ALTER TABLE chunks_fts RENAME TO chunks_fts_away")
    db.commit()
    try:
        with caplog.at_level(logging.ERROR, logger="archivist.bot"):
            event(slack_env, mention("C1", "why did IBM quit facial recognition?", ts))
            [reply] = replies(fake, "C1", ts)
        m = re.search(r"error id `([0-9a-f]{8})`", reply.args["text"])
        assert reply.args["text"].startswith("Sorry, something went wrong while answering.") and m
        assert any(m.group(1) in r.getMessage() and r.exc_info for r in caplog.records)
    finally:
        db.execute("ALTER TABLE chunks_fts_away RENAME TO chunks_fts")
        db.commit()
        db.close()


def test_a_vector_file_lost_while_serving_keeps_the_bot_answering(slack_env, caplog):
    """A new generation whose FAISS file is missing: the bot answers from the index it has and says
    once, in the log, what is wrong and what to run."""
    fake, ts = slack_env["fake"], next_ts()
    db = sqlite3.connect(slack_env["cfg"].index_dir() / "archive.sqlite")
    meta = dict(db.execute("SELECT key, value FROM meta"))
    db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(int(meta["generation"]) + 50),))
    db.execute("UPDATE meta SET value = 'vectors-gone.faiss' WHERE key = 'faiss_file'")
    db.commit()
    try:
        with caplog.at_level(logging.ERROR, logger="archivist.search"):
            event(slack_env, mention("C1", "why did IBM quit facial recognition?", ts))
            [reply] = replies(fake, "C1", ts)
        assert IBM in all_text(reply)
        assert [r.getMessage() for r in caplog.records if "vectors-gone" in r.getMessage()] == [
            "error: the vector file vectors-gone.faiss is missing; run `archivist build` to rebuild it from the "
            f"database (nothing is embedded again); still answering from generation {meta['generation']}"]
    finally:
        db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (meta["generation"],))
        db.execute("UPDATE meta SET value = ? WHERE key = 'faiss_file'", (meta["faiss_file"],))
        db.commit()
        db.close()


def test_the_index_rebuilt_while_serving_is_used_for_the_next_question(slack_env, embedder):
    fake, root = slack_env["fake"], slack_env["root"]
    (root / "hostile" / "otters.txt").write_text(
        "Sea Otters Return To Gull Island\n\nJune 1, 2021\n\nA family of sea otters has been seen off Gull Island "
        "for the first time in eighty years, wildlife officers said on Tuesday.\n")
    assert build(slack_env["union"], embedder=embedder).added == 1
    ts = next_ts()
    event(slack_env, mention("C1", "sea otters seen off Gull Island", ts))
    [reply] = replies(fake, "C1", ts)
    assert "Sea Otters Return To Gull Island" in all_text(reply)


# --- security ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["bad signature", "old timestamp"])
def test_unsigned_or_stale_requests_get_401_and_nothing_is_posted(slack_env, kind):
    fake, ts = slack_env["fake"], next_ts()
    payload = json.dumps({"type": "event_callback", "team_id": TEAM, "event_id": f"Ev{ts}",
                          "event": mention("C1", "why did IBM quit?", ts)})
    if kind == "bad signature":
        status, _, _ = post(slack_env, payload, "application/json", secret="not-the-secret")
    else:
        status, _, _ = post(slack_env, payload, "application/json", timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    settle()
    assert not [c for c in fake.calls if c.args.get("thread_ts") == ts or c.args.get("timestamp") == ts]


def raw_post(env, body: bytes, headers: dict) -> int:
    req = urllib.request.Request(env["url"] + "/slack/events", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.parametrize("body, headers", [
    (b'{"type": "event_callback", "event": {', {"Content-Type": "application/json"}),
    (b'{"type": "url_verification"}', {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "soon",
                                        "X-Slack-Signature": "v0=00"}),
    (b"payload=%7B%22type", {"Content-Type": "application/x-www-form-urlencoded"}),
    (b"\xff\xfe", {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=1"}),
    # slack_sdk raised OverflowError on this timestamp: a 500 and a traceback
    (b'{"type": "url_verification"}', {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "9" * 400,
                                        "X-Slack-Signature": "v0=00"}),
])
def test_malformed_unsigned_requests_get_401_before_anything_is_parsed(slack_env, caplog, body, headers):
    with caplog.at_level("ERROR"):
        assert raw_post(slack_env, body, headers) == 401
    assert not [r for r in caplog.records if r.exc_info]  # no traceback in the log


@pytest.mark.parametrize("body, content_type", [
    ('{"type": "event_callback", "event": {', "application/json"),
    ("[" * 100_000 + "]" * 100_000, "application/json"),
    ("payload=%7B%22type", "application/x-www-form-urlencoded"),
    ("token=x&&&=;;", "application/x-www-form-urlencoded"),
    # JSON, but not an object as Slack sends: Bolt raised deep inside (500 and a traceback)
    ("[]", "application/json"),
    ("null", "application/json"),
    ('"x"', "application/json"),
    ('{"type": "event_callback", "event": "x"}', "application/json"),
    ("payload=%5B%5D", "application/x-www-form-urlencoded"),
])
def test_signed_but_malformed_bodies_get_a_clear_400_and_one_log_line(slack_env, caplog, body, content_type):
    with caplog.at_level("WARNING", logger="archivist"):
        status, text, _ = post(slack_env, body, content_type)
    assert status == 400 and json.loads(text)["error"].startswith("malformed body (")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("archivist")] == [
        f"a signed request to /slack/events refused: {json.loads(text)['error']}"]
    assert not [r for r in caplog.records if r.exc_info]


def test_huge_bodies_are_refused_unread(slack_env):
    """Refused on its Content-Length, before a byte of the body is sent."""
    import socket

    host, port = slack_env["url"].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 3145728\r\n\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.1 413 ")


def test_trickling_connections_do_not_starve_signed_events(slack_env):
    """1,100 connections each sending its request a byte a second (slow-loris, past the connection
    limit): /healthz and a signed question answer in under a second throughout, and every trickling
    connection is hung up on once its request is REQUEST_SECONDS old, though it never goes idle."""
    from bot.web import guard

    host, port = slack_env["url"].removeprefix("http://").split(":")
    with hf.trickling(host, int(port)) as slow:
        ts = next_ts()
        took = answer_times(slack_env, 5, lambda: mention("C1", "Robert Mugabe", ts))
        assert max(took) < 1, took
        assert replies(slack_env["fake"], "C1", ts)
        # each hung up on once past the deadline: waited for socket by socket, the deadline only a bound
        limit = time.monotonic() + guard.REQUEST_SECONDS + 2 * guard.CLEANUP_INTERVAL + 30
        for sock in slow:
            sock.settimeout(max(0.01, limit - time.monotonic()))
            try:
                assert sock.recv(1) == b""
            except ConnectionError:
                pass


def answer_times(env, rounds: int, make_event) -> list[float]:
    """Seconds each /healthz and each signed event (from `make_event()`) took to be answered."""
    took = []
    for _ in range(rounds):
        t0 = time.monotonic()
        with urllib.request.urlopen(env["url"] + "/healthz", timeout=10) as r:
            assert r.status == 200
        took.append(time.monotonic() - t0)
        status, _, seconds = event(env, make_event())
        assert status == 200
        took.append(seconds)
    return took


def test_busy_pages_leave_slacks_events_their_own_threads(slack_env):
    """60 clients on the search page at once: Slack's events and /healthz are answered in under a
    second each, and searches beyond the pages' share of the threads get a 503 with Retry-After at
    once instead of a place in the queue Slack's events share."""
    from concurrent.futures import ThreadPoolExecutor

    cfg = slack_env["cfg"]
    cfg = parse({"index": {"path": str(cfg.index_dir())}, "sources": [], "slack": {
        "allowed_channels": ["C1"], "api_base_url": slack_env["fake"].api_url},
        "web": {"search": True, "public_search": True}}, slack_env["root"])
    app = create_app(cfg, bot_token="xoxb-test", signing_secret=SECRET, searcher=slack_env["searcher"], watch=False)
    server = web.server(app, SECRET, "127.0.0.1", 0, threads=8)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    busy = {"url": f"http://127.0.0.1:{server.effective_port}"}
    stop, statuses = threading.Event(), []

    def search(i):
        while not stop.is_set():
            url = busy["url"] + "/search?" + urllib.parse.urlencode({"q": f"what did the council decide {i}"})
            try:
                with urllib.request.urlopen(url, timeout=30) as r:
                    statuses.append((r.status, None))
            except urllib.error.HTTPError as e:
                statuses.append((e.code, e.headers.get("Retry-After")))

    try:
        with ThreadPoolExecutor(60) as pool:
            for i in range(60):
                pool.submit(search, i)
            deadline = time.monotonic() + 60
            while 503 not in {s for s, _ in statuses} and time.monotonic() < deadline:
                time.sleep(0.05)  # until the pages are full: a search has been told 503
            took = answer_times(busy, 10, lambda: {"type": "app_home_opened", "user": "UBUSY", "channel": "D1",
                                                   "tab": "home"})
            stop.set()
        assert max(took) < 1, sorted(took)
        assert {s for s, _ in statuses} == {200, 503}
        assert {after for s, after in statuses if s == 503} == {"2"}
    finally:
        stop.set()
        server.close()
        server.task_dispatcher.shutdown()
        loop.join(10)  # its loop gone before this module's server takes the numbers its sockets held
        assert not loop.is_alive()


def test_healthz(slack_env):
    with urllib.request.urlopen(slack_env["url"] + "/healthz", timeout=5) as r:
        doc = json.loads(r.read())
    assert r.status == 200 and doc["ok"] is True and doc["articles"] >= 54


def test_head_has_no_body_so_a_reused_connection_reads_the_next_response_right(slack_env):
    import http.client

    host, port = slack_env["url"].removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("HEAD", "/healthz")
        head = conn.getresponse()
        assert head.status == 200 and head.read() == b""
        conn.request("GET", "/healthz")  # the same connection: a body left over from HEAD would be read here
        get = conn.getresponse()
        assert get.status == 200 and json.loads(get.read())["ok"] is True
        assert head.getheader("Content-Type") == "application/json"
    finally:
        conn.close()


# --- /summarize and buttons ----------------------------------------------------------------------

def command(env, text: str, channel="C1", response_id="s1", name="/summarize", user="UHUMAN"):
    form = {"token": "x", "team_id": TEAM, "channel_id": channel, "channel_name": "general", "user_id": user,
            "command": name, "text": text, "api_app_id": "AARCHIVIST", "trigger_id": "1.2.3",
            "response_url": env["fake"].url + f"/response/{response_id}"}
    return post(env, urllib.parse.urlencode(form), "application/x-www-form-urlencoded")


def test_summarize_acks_at_once_and_answers_privately_with_a_share_button(slack_env):
    fake = slack_env["fake"]
    status, body, took = command(slack_env, "Iranian cargo plane Karaj", response_id="sum1")
    assert status == 200 and took < 3
    [resp] = fake.wait_for("response_url", where=lambda c: c.args["_path"] == "/response/sum1")
    assert resp.args["response_type"] == "ephemeral"
    blob = json.dumps(resp.args["blocks"])
    assert "Iranian cargo plane crashes into Karaj houses" in blob and "share_summary" in blob


def test_share_in_channel_posts_the_summary_for_everyone(slack_env):
    fake = slack_env["fake"]
    command(slack_env, "Iranian cargo plane Karaj", response_id="sum2")
    [resp] = fake.wait_for("response_url", where=lambda c: c.args["_path"] == "/response/sum2")
    share = next(e for b in resp.args["blocks"] if b["type"] == "actions" for e in b["elements"])
    status, _, _ = action(slack_env, "share_summary", share["value"], channel="CSHARE",
                          response_url=fake.url + "/response/sum2-share")
    assert status == 200
    [post_] = fake.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "CSHARE")
    blob = json.dumps(post_.args["blocks"])
    assert "Iranian cargo plane crashes into Karaj houses" in blob and "Shared by <@UHUMAN>" in blob
    assert "share_summary" not in blob
    [delete] = fake.wait_for("response_url", where=lambda c: c.args["_path"] == "/response/sum2-share")
    assert delete.args.get("delete_original") in (True, "true")


def test_summarize_nothing_found(slack_env):
    command(slack_env, "zxqv nothing like this", response_id="sum3")
    [resp] = slack_env["fake"].wait_for("response_url", where=lambda c: c.args["_path"] == "/response/sum3")
    assert "No article in the archive matches" in json.dumps(resp.args)


def test_more_results_posts_the_next_passages_in_the_thread(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    event(slack_env, mention("C1", "fire", ts))
    [reply] = replies(fake, "C1", ts)
    buttons = {e["action_id"]: e for b in reply.args["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert "more_results" in buttons
    action(slack_env, "more_results", buttons["more_results"]["value"], message={"ts": "1.5", "thread_ts": ts})
    [_, more] = replies(fake, "C1", ts, count=2)
    first_quotes = {b["text"]["text"] for b in reply.args["blocks"] if b["type"] == "section"}
    more_quotes = {b["text"]["text"] for b in more.args["blocks"] if b["type"] == "section"}
    assert more_quotes and not first_quotes & more_quotes


def button(reply, action_id: str) -> dict:
    """The reply's button with this action id."""
    return next(e for b in reply.args["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == action_id)


def asked(env, question: str, channel="C1"):
    """(ts, reply) of a question mentioned in a channel and answered."""
    ts = next_ts()
    event(env, mention(channel, question, ts))
    [reply] = replies(env["fake"], channel, ts)
    return ts, reply


def view_submission(env, view: dict, values: dict, user="UHUMAN"):
    payload = {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": user}, "api_app_id": "AARCHIVIST",
               "token": "x", "trigger_id": "1.2.4", "view": {**view, "id": "V1", "state": {"values": values}}}
    return post(env, "payload=" + urllib.parse.quote(json.dumps(payload)), "application/x-www-form-urlencoded")


def test_a_thumbs_down_opens_a_form_whose_verdict_is_stored_with_what_was_shown(slack_env):
    fake, ts = slack_env["fake"], next_ts()
    event(slack_env, mention("C1", "why did IBM quit facial recognition?", ts))
    [reply] = replies(fake, "C1", ts)
    buttons = {e["action_id"]: e for b in reply.args["blocks"] if b["type"] == "actions" for e in b["elements"]}
    action(slack_env, "feedback_down", buttons["feedback_down"]["value"], message={"ts": "1.6", "thread_ts": ts})
    [opened] = fake.wait_for("views.open", where=lambda c: "1.6" in c.args["view"]["private_metadata"])
    view = opened.args["view"]
    assert opened.args["trigger_id"] == "1.2.3" and view["callback_id"] == "feedback_verdict"
    assert [o["value"] for o in view["blocks"][0]["element"]["options"]] == [
        "wrong_article", "wrong_quote", "should_be_nothing", "other"]
    # nothing picked: Slack shows the error on the form and nothing is stored
    status, body, _ = view_submission(slack_env, view, {"verdict": {"choice": {"selected_option": None}}})
    assert status == 200 and json.loads(body) == {"response_action": "errors",
                                                  "errors": {"verdict": "Pick what was wrong."}}
    status, _, _ = view_submission(slack_env, view, {
        "verdict": {"choice": {"type": "radio_buttons", "selected_option": {"value": "wrong_quote"}}},
        "comment": {"text": {"type": "plain_text_input", "value": "  the quote is about Amazon  "}}})
    assert status == 200
    [ack] = fake.wait_for("chat.postEphemeral", where=lambda c: "1.6" not in c.args.get("text", "")
                          and c.args.get("thread_ts") == ts)
    assert ack.args["text"] == "Thanks, your 👎 is recorded: right article, wrong quote."
    db = sqlite3.connect(slack_env["cfg"].index_dir() / "archive.sqlite")
    row = db.execute("SELECT user, channel, vote, question, chunk_ids, status, shown, verdict, comment FROM feedback "
                     "WHERE message = '1.6'").fetchone()
    db.close()
    value = json.loads(buttons["feedback_down"]["value"])
    assert row[:4] == ("UHUMAN", "C1", "down", "why did IBM quit facial recognition?")
    assert json.loads(row[4]) == value["chunks"] and row[5] == "answered"
    shown = json.loads(row[6])
    assert [(x["chunk_id"], x["start"], x["end"]) for x in shown] == [tuple(x) for x in value["shown"]] != []
    assert shown[0]["title"] == IBM and " ".join(shown[0]["quote"].split()[:8]) in reply.args["blocks"][0]["text"]["text"]
    assert row[7:] == ("wrong_quote", "the quote is about Amazon")


def test_a_thumbs_down_whose_form_cannot_open_is_still_recorded(slack_env):
    fake = slack_env["fake"]
    ts, reply = asked(slack_env, "Robert Mugabe")
    down = button(reply, "feedback_down")
    fake.fail("views.open", 400)  # e.g. the 3-second trigger expired
    action(slack_env, "feedback_down", down["value"], message={"ts": "1.7", "thread_ts": ts})
    [ack] = fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("thread_ts") == ts)
    assert ack.args["text"] == "Thanks, your 👎 is recorded."


def test_feedback_lists_and_exports_votes_that_the_bench_replays(slack_env, tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    fake = slack_env["fake"]
    ts, reply = asked(slack_env, "why did IBM quit facial recognition?")
    down = button(reply, "feedback_down")
    action(slack_env, "feedback_down", down["value"], message={"ts": "8.8", "thread_ts": ts})
    [opened] = fake.wait_for("views.open", where=lambda c: "8.8" in c.args["view"]["private_metadata"])
    view_submission(slack_env, opened.args["view"], {"verdict": {"choice": {"selected_option": {"value": "wrong_quote"}}}})
    fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("thread_ts") == ts)
    config = tmp_path / "c.toml"
    config.write_text(f'[index]\npath = {json.dumps(str(slack_env["cfg"].index_dir()))}\n')
    r = run_cli("--config", config, "feedback")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\d{4}-\d\d-\d\dT[\d:]+Z 👎 · right article, wrong quote · answered · UHUMAN in C1\n"
                     r"  question: why did IBM quit facial recognition\?\n  shown: " + re.escape(IBM) + " — “", r.stdout, re.M)
    votes = [json.loads(line) for line in run_cli("--config", config, "feedback", "--json").stdout.splitlines()]
    assert r.stdout.splitlines()[-1] == f"{len(votes)} votes: {sum(v['vote'] == 'up' for v in votes)} 👍, " \
                                        f"{sum(v['vote'] == 'down' for v in votes)} 👎"
    assert run_cli("--config", config, "feedback", "--since", "2999-01-01").stdout == "0 votes: 0 👍, 0 👎 since 2999-01-01\n"
    bad = run_cli("--config", config, "feedback", "--since", "yesterday")
    assert bad.returncode == 2 and bad.stderr == "error: --since expects a date like 2026-11-01, not 'yesterday'\n"
    export = tmp_path / "votes.jsonl"
    r = run_cli("--config", config, "feedback", "--export", export)
    assert r.stdout.startswith(f"wrote {len(votes)} cases (") and export.read_text().count("\n") == len(votes)
    case = next(json.loads(line) for line in export.read_text().splitlines() if '"wrong_quote"' in line)
    assert case["question"] == "why did IBM quit facial recognition?" and case["shown"][0]["title"] == IBM
    # the bench asks again through `archivist ask --json -`; the same index gives the same quote: not fixed
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "answers.py"), "--replay", str(export), "--config",
                          str(config)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = dict(re.findall(r"^   (\S.*?)\s{2,}(\d+\s+\d+)$", out.stdout, re.M))
    assert rows["👎 wrong_quote: fixed"].split()[1] == "0", out.stdout


def test_a_replayed_vote_is_recorded_once(slack_env):
    fake = slack_env["fake"]
    ts, reply = asked(slack_env, "Robert Mugabe")
    up = button(reply, "feedback_up")
    for _ in range(5):  # Slack (or an attacker) delivering the same click again
        assert action(slack_env, "feedback_up", up["value"], message={"ts": "9.9", "thread_ts": ts})[0] == 200
    fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("thread_ts") == ts)
    settle()
    assert len([c for c in fake.calls if c.method == "chat.postEphemeral" and c.args.get("thread_ts") == ts]) == 1
    db = sqlite3.connect(slack_env["cfg"].index_dir() / "archive.sqlite")
    assert db.execute("SELECT count(*) FROM feedback WHERE message = '9.9' AND vote = 'up'").fetchone() == (1,)
    db.close()


# --- /archivist, the Home tab, "Find in archive" ---------------------------------------------------

def archivist(env, text, channel="C2", user="UHUMAN", rid="w"):
    rid = f"{rid}{next(_ts)}"
    assert command(env, text, channel=channel, response_id=rid, name="/archivist", user=user)[0] == 200
    [resp] = env["fake"].wait_for("response_url", where=lambda c: c.args["_path"] == f"/response/{rid}")
    return resp.args["response_type"], resp.args["text"]


def test_only_a_channels_members_change_its_watches(slack_env):
    fake = slack_env["fake"]
    fake.members["C2"] = ["UA", "UB", "UHUMAN"]  # two pages of members: the bot must read both
    assert archivist(slack_env, "watch harbor bridge", user="UOUTSIDER") == (
        "ephemeral", "Only members of this channel can change its watches.")
    kind, text = archivist(slack_env, "watch harbor bridge since:2021")
    m = re.fullmatch(r"<@UHUMAN> set watch `#(\d+)`: new articles about _harbor bridge since:2021_ will be posted "
                     r"here after each build\. `/archivist unwatch \1` stops it\.", text)
    assert kind == "in_channel" and m, text
    watch_id = m.group(1)
    assert archivist(slack_env, "watches", user="UOUTSIDER") == ("ephemeral", (
        f"This channel's watches:\n• `#{watch_id}` _harbor bridge since:2021_ · set by <@UHUMAN>\n"
        "`/archivist unwatch <id>` stops one."))
    assert archivist(slack_env, f"unwatch {watch_id}", user="UOUTSIDER")[1] == \
        "Only members of this channel can change its watches."
    assert archivist(slack_env, f"unwatch {watch_id}", channel="C1")[1] == \
        "Only members of this channel can change its watches."  # C1 has no members listed
    assert archivist(slack_env, f"unwatch {watch_id}") == ("in_channel", f"<@UHUMAN> stopped watch `#{watch_id}`.")
    assert archivist(slack_env, f"unwatch {watch_id}")[1] == (
        f"This channel has no watch `#{watch_id}`; `/archivist watches` lists its watches.")
    assert archivist(slack_env, "watches")[1].startswith("This channel watches nothing yet.")


def test_archivist_command_errors_are_clear(slack_env):
    slack_env["fake"].members["C2"] = ["UHUMAN"]
    assert archivist(slack_env, "watch since:yesterday fires")[1] == (
        "That filter doesn't work: since: expects a date like 2020, 2020-06 or 2020-06-30, not 'yesterday'.")
    assert archivist(slack_env, "watch   ")[1].startswith("Watch what? Usage: `/archivist watch")
    assert archivist(slack_env, "unwatch many")[1].startswith("Which watch?")
    assert archivist(slack_env, "")[1].startswith("Usage: `/archivist watch")
    assert archivist(slack_env, "frobnicate")[1].startswith("Usage: `/archivist watch")
    assert archivist(slack_env, "watch fires", channel="CNOTALLOWED")[1] == (
        "Archivist isn't enabled in this channel. An admin can add it to `[slack] allowed_channels`. "
        "Until then it cannot have watches.")
    assert archivist(slack_env, "watch fires", channel="D123")[1].startswith("Watches belong to channels")
    assert archivist(slack_env, "watch " + "x" * 400)[1] == "A watch is at most 300 characters."


def _check_limits(blocks: list[dict]) -> None:
    assert 0 < len(blocks) <= 100
    for b in blocks:
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= 150
        for t in [b.get("text")] + b.get("elements", []):
            if isinstance(t, dict) and "text" in t and isinstance(t["text"], str):
                assert len(t["text"]) <= 3000


def test_the_home_tab_shows_the_archive_your_questions_and_your_channels_watches(slack_env):
    fake = slack_env["fake"]
    fake.members["CBIG"] = ["UHUMAN", "UADMIN"]
    fake.members["CTHREAD"] = ["UADMIN"]
    archivist(slack_env, "watch crash investigations", channel="CBIG")
    fake.members["CTHREAD"] = ["UADMIN"]
    archivist(slack_env, "watch lighthouses", channel="CTHREAD", user="UADMIN")
    ts = next_ts()
    event(slack_env, mention("C1", "how much will the harbor bridge cost?", ts))
    replies(fake, "C1", ts)
    event(slack_env, {"type": "app_home_opened", "user": "UHUMAN", "channel": "DHOME", "tab": "home"})
    [call] = fake.wait_for("views.publish", where=lambda c: c.args["user_id"] == "UHUMAN")
    view = call.args["view"]
    blocks, blob = view["blocks"], json.dumps(view["blocks"], ensure_ascii=False)
    _check_limits(blocks)
    assert view["type"] == "home"
    searcher = slack_env["searcher"]
    first, last = searcher.store.date_range()
    assert f"*{searcher.articles:,} articles* ({searcher.chunk_count:,} passages) from {first} to {last}" in blob
    assert "_how much will the harbor bridge cost?_ — ✅ answered · <#C1>" in blob
    assert "_crash investigations_ in <#CBIG> · set by <@UHUMAN>" in blob
    assert "lighthouses" not in blob  # not one of this person's channels
    assert "Feedback this week" not in blob  # not an admin
    # the Messages tab is not the Home tab: nothing is published for it
    event(slack_env, {"type": "app_home_opened", "user": "UOTHER", "channel": "DHOME", "tab": "messages"})
    settle()
    assert not [c for c in fake.of("views.publish") if c.args["user_id"] == "UOTHER"]


def test_admins_see_the_weeks_feedback_on_their_home_tab(slack_env):
    fake = slack_env["fake"]
    ts, reply = asked(slack_env, "plane crash in Karaj")
    down = button(reply, "feedback_down")
    action(slack_env, "feedback_down", down["value"], message={"ts": "5.5", "thread_ts": ts})
    fake.wait_for("views.open", where=lambda c: "5.5" in c.args["view"]["private_metadata"])
    db = sqlite3.connect(slack_env["cfg"].index_dir() / "archive.sqlite")
    up, downs = (db.execute("SELECT count(*) FROM feedback WHERE vote = ?", (v,)).fetchone()[0] for v in ("up", "down"))
    db.close()
    event(slack_env, {"type": "app_home_opened", "user": "UADMIN", "channel": "DHOME", "tab": "home"})
    [call] = fake.wait_for("views.publish", where=lambda c: c.args["user_id"] == "UADMIN")
    blob = json.dumps(call.args["view"]["blocks"], ensure_ascii=False)
    _check_limits(call.args["view"]["blocks"])
    assert f"👍 {up} · 👎 {downs}" in blob and downs >= 1
    assert "👎 _plane crash in Karaj_ (✅ answered) · <@UHUMAN> in <#C1>" in blob
    assert "_lighthouses_ in <#CTHREAD> · set by <@UADMIN>" in blob


def shortcut(env, text: str, channel="C1", ts="1700.1", thread_ts=None, rid="f"):
    payload = {"type": "message_action", "callback_id": "find_in_archive", "trigger_id": "1.2.5", "token": "x",
               "team": {"id": TEAM}, "user": {"id": "UHUMAN"}, "channel": {"id": channel, "name": "general"},
               "message": {"type": "message", "user": "UCOLLEAGUE", "text": text, "ts": ts,
                           **({"thread_ts": thread_ts} if thread_ts else {})},
               "message_ts": ts, "response_url": env["fake"].url + f"/response/{rid}", "action_ts": str(time.time())}
    return post(env, "payload=" + urllib.parse.quote(json.dumps(payload)), "application/x-www-form-urlencoded")


def test_find_in_archive_answers_privately_and_shares_into_the_thread(slack_env):
    fake = slack_env["fake"]
    root = next_ts()
    status, _, took = shortcut(slack_env, "IBM said it would stop selling facial recognition software", ts=root,
                               rid="find1")
    assert status == 200 and took < 3
    [private] = fake.wait_for("response_url", where=lambda c: c.args["_path"] == "/response/find1")
    assert private.args["response_type"] == "ephemeral"
    assert IBM in json.dumps(private.args["blocks"])
    [share] = [e for b in private.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert share["action_id"] == "share_answer" and share["text"]["text"] == "Share in thread"
    assert not fake.of("chat.postMessage", ok_only=False) or all(
        c.args.get("thread_ts") != root for c in fake.of("chat.postMessage"))  # nothing public yet
    action(slack_env, "share_answer", share["value"], response_url=fake.url + "/response/find1-share")
    [public] = replies(fake, "C1", root)
    assert public.args["blocks"][0]["elements"][0]["text"] == (
        "<@UHUMAN> looked this up in the archive: _IBM said it would stop selling facial recognition software_")
    assert IBM in all_text(public)
    [delete] = fake.wait_for("response_url", where=lambda c: c.args["_path"] == "/response/find1-share")
    assert delete.args.get("delete_original") in (True, "true")
    # the thread is now one the bot answered: a follow-up there, without a mention, is answered
    ts = next_ts()
    event(slack_env, {"type": "message", "channel_type": "channel", "user": "UHUMAN", "channel": "C1", "ts": ts,
                      "thread_ts": root, "text": "who wrote the letter to lawmakers?"})
    [_, follow] = replies(fake, "C1", root, count=2)
    assert "Krishna" in all_text(follow)


def test_find_in_archive_on_a_message_without_text_or_in_a_closed_channel(slack_env):
    fake = slack_env["fake"]
    shortcut(slack_env, "", rid="find2")
    [r] = fake.wait_for("response_url", where=lambda c: c.args["_path"] == "/response/find2")
    assert r.args["text"] == "That message has no text to look up in the archive."
    shortcut(slack_env, "IBM", channel="CNOTALLOWED", rid="find3")
    [r] = fake.wait_for("response_url", where=lambda c: c.args["_path"] == "/response/find3")
    assert r.args["text"].startswith("Archivist isn't enabled in this channel.")


# --- Socket Mode ---------------------------------------------------------------------------------

def test_socket_mode_answers_once_and_acks_every_envelope(slack_env):
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    fake = slack_env["fake"]
    ws = SocketModeServer()
    fake.ws_url = ws.url
    handler = SocketModeHandler(slack_env["app"], "xapp-test")
    handler.connect()
    try:
        assert ws.connected()
        ts = next_ts()
        payload = {"token": "x", "team_id": TEAM, "api_app_id": "AARCHIVIST", "type": "event_callback",
                   "event_id": "EvSocket1", "event_time": int(time.time()), "event": mention("C1", "Robert Mugabe", ts),
                   "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}
        ws.send({"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                 "retry_attempt": 0, "retry_reason": "", "payload": payload})
        ws.wait_ack("env-1")
        [reply] = replies(fake, "C1", ts)
        assert "Mugabe" in all_text(reply)
        ws.send({"envelope_id": "env-2", "type": "events_api", "accepts_response_payload": False,
                 "retry_attempt": 1, "retry_reason": "timeout", "payload": payload})
        ws.wait_ack("env-2")
        settle()
        assert len(replies(fake, "C1", ts)) == 1
    finally:
        handler.close()
        ws.close()


def test_serve_without_tokens_says_which_variable_and_where_to_get_it(tmp_path):
    r = run_cli("serve", env={"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": ""})
    assert r.returncode == 2
    assert "SLACK_BOT_TOKEN is not set: it is the Bot User OAuth Token" in r.stderr
    assert "SLACK_APP_TOKEN is not set" in r.stderr
    r = run_cli("serve", "--http", env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": ""})
    assert r.returncode == 2 and "SLACK_SIGNING_SECRET is not set" in r.stderr


def test_serve_checks_token_shapes_at_start():
    r = run_cli("serve", env={"SLACK_BOT_TOKEN": "xapp-1-wrong-kind", "SLACK_APP_TOKEN": "xoxb-2"})
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "error: SLACK_BOT_TOKEN does not start with xoxb-: it should be " + TOKEN_HELP["SLACK_BOT_TOKEN"] + ".",
        "SLACK_APP_TOKEN does not start with xapp-: it should be " + TOKEN_HELP["SLACK_APP_TOKEN"] + "."]


def test_slack_unreachable_at_start_is_retried_then_one_clear_line(slack_env, monkeypatch, caplog):
    import socket

    from bot.slack import app as slack

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = parse({"index": {"path": str(slack_env["cfg"].index_dir())},
                 "slack": {"api_base_url": f"http://127.0.0.1:{port}/api/"}}, slack_env["root"])
    monkeypatch.setattr(slack, "CONNECT_ATTEMPTS", 3)
    monkeypatch.setattr(slack, "FIRST_WAIT", 0.05)
    # as `serve` has it: Bolt read it too and said "As you gave `client` as well, `token` will be unused." each try
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    with caplog.at_level(logging.WARNING):
        with pytest.raises(slack.CannotStart) as e:
            create_app(cfg, bot_token="xoxb-test", signing_secret=SECRET, searcher=slack_env["searcher"])
    assert str(e.value) == ("cannot check the bot token: Slack cannot be reached ([Errno 111] Connection refused); "
                            "gave up after 3 attempts")
    assert [r.getMessage() for r in caplog.records] == [
        f"cannot check the bot token: Slack cannot be reached ([Errno 111] Connection refused); retrying in {w} s"
        for w in ("0", "0")]
