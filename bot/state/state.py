"""The bot's own state: which Slack events are answered (so a retry, a restart or a second replica
never answers twice), the threads it answered and their turns, the questions asked (for the Home tab),
feedback with its verdicts, and watched topics with what each has posted. Kept in the index's SQLite
beside the archive, or in PostgreSQL (`[state] url`) for replicas on several hosts; bot/state/db.py is
the edge to either. The only module that writes the bot's SQL.
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass

from bot.state.db import PostgresDb, SqliteDb, StateError
from index.records import MAX_THREAD_ARTICLES, Thread
from index.storing.store import now_iso

SCHEMA_VERSION = 2  # 1: events, threads, turns, feedback; 2: questions, verdicts, watches

# portable SQL: {REAL} and {ID} are filled in per database, "user" is quoted (PostgreSQL reserves it)
SCHEMA = """
CREATE TABLE IF NOT EXISTS bot_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bot_events (key TEXT PRIMARY KEY, state TEXT NOT NULL, at {REAL} NOT NULL);
CREATE TABLE IF NOT EXISTS bot_threads (channel TEXT NOT NULL, thread_ts TEXT NOT NULL, at {REAL} NOT NULL,
    PRIMARY KEY (channel, thread_ts));
CREATE TABLE IF NOT EXISTS bot_turns (channel TEXT NOT NULL, thread_ts TEXT NOT NULL, ts TEXT NOT NULL,
    at {REAL} NOT NULL, question TEXT NOT NULL, article_ids TEXT NOT NULL, PRIMARY KEY (channel, thread_ts, ts));
CREATE TABLE IF NOT EXISTS bot_questions (channel TEXT NOT NULL, ts TEXT NOT NULL, "user" TEXT NOT NULL,
    question TEXT NOT NULL, status TEXT NOT NULL, at {REAL} NOT NULL, PRIMARY KEY (channel, ts));
CREATE INDEX IF NOT EXISTS bot_questions_user ON bot_questions("user", at);
CREATE TABLE IF NOT EXISTS feedback (
    id {ID}, at TEXT NOT NULL, "user" TEXT NOT NULL, channel TEXT NOT NULL, vote TEXT NOT NULL,
    question TEXT NOT NULL, chunk_ids TEXT NOT NULL, message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS watches (
    id {ID}, channel TEXT NOT NULL, team TEXT NOT NULL, query TEXT NOT NULL, "user" TEXT NOT NULL,
    at {REAL} NOT NULL, after_generation INTEGER NOT NULL, removed INTEGER NOT NULL DEFAULT 0
);
-- one attempt of one watch at one generation, claimed with a lease: `tried` lists the markers of posts
-- that may have reached Slack, so a taker-over looks for them before posting again
CREATE TABLE IF NOT EXISTS watch_runs (
    watch_id INTEGER NOT NULL, generation INTEGER NOT NULL, state TEXT NOT NULL, at {REAL} NOT NULL,
    nonce TEXT NOT NULL, tried TEXT NOT NULL DEFAULT '[]', planned TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (watch_id, generation)
);
CREATE TABLE IF NOT EXISTS watch_posts (
    watch_id INTEGER NOT NULL, article_id TEXT NOT NULL, generation INTEGER NOT NULL, message_ts TEXT NOT NULL,
    PRIMARY KEY (watch_id, article_id)
)
"""

# columns added to tables of version 1 (indexes made before the version number was kept)
_ADDED = [
    ("feedback", "message", "TEXT NOT NULL DEFAULT ''"),
    ("feedback", "status", "TEXT NOT NULL DEFAULT ''"),
    ("feedback", "shown", "TEXT NOT NULL DEFAULT '[]'"),
    ("feedback", "verdict", "TEXT NOT NULL DEFAULT ''"),
    ("feedback", "comment", "TEXT NOT NULL DEFAULT ''"),
]

VERDICTS = {
    "wrong_article": "wrong article",
    "wrong_quote": "right article, wrong quote",
    "should_be_nothing": 'should have said "nothing"',
    "other": "other",
}


@dataclass(frozen=True)
class Watch:
    id: int
    channel: str
    team: str
    query: str  # the words (and filters) watched, as typed
    user: str  # who set it
    after_generation: int  # articles published by later generations are news to it


@dataclass(frozen=True)
class Run:
    """This process's claim on posting one watch's news of one generation."""

    watch_id: int
    generation: int
    nonce: str  # marks the post in Slack (message metadata), so a taker-over can find it
    tried: tuple[str, ...]  # earlier attempts' markers: their posts may have reached Slack
    planned: tuple[str, ...]  # the articles the last attempt meant to post


@dataclass(frozen=True)
class Feedback:
    id: int
    at: str
    user: str
    channel: str
    message: str  # the reply's ts
    vote: str  # up | down
    question: str
    status: str  # the reply's status
    shown: tuple[dict, ...]  # {"chunk_id", "start", "end"} of each quote shown
    verdict: str  # a key of VERDICTS, or ""
    comment: str


class State:
    """The bot's state, in a SqliteDb or a PostgresDb (bot/state/db.py): the same SQL and the same
    semantics on both. Every method is one short transaction; safe across threads of one process and
    across processes (replicas) sharing the database."""

    LEASE = 120.0  # seconds a claim holds before a retry may take over an attempt that died
    TTL = 2 * 86400.0  # Slack retries for minutes; a day or two of memory is plenty
    THREAD_TTL = 30 * 86400.0  # a thread's questions, for follow-ups: a month
    QUESTION_TTL = 90 * 86400.0  # a person's recent questions on their Home tab

    def __init__(self, db):
        self.db = db
        self._lock = threading.Lock()
        self._purged = 0.0
        self._setup()

    def _setup(self) -> None:
        """Tables made on first use, older ones brought up to this version, the version noted."""
        with self._tx() as db:
            db.serialize_setup()
            for statement in SCHEMA.format(**db.types).split(";"):
                db.run(statement)
            row = db.run("SELECT max(version) FROM bot_schema").fetchone()
            found = row[0] or 0
            if found > SCHEMA_VERSION:
                raise StateError(f"the bot's state in {db.where} is version {found}, newer than this Archivist's "
                                 f"{SCHEMA_VERSION}: upgrade Archivist")
            for table, column, decl in _ADDED:
                if column not in db.columns(table):
                    db.run(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
            # one vote per person, reply and direction, however often Slack delivers the click
            db.run('CREATE UNIQUE INDEX IF NOT EXISTS feedback_once ON feedback("user", channel, message, vote) '
                   "WHERE message != ''")
            if found < SCHEMA_VERSION:
                db.run("DELETE FROM bot_schema")
                db.run("INSERT INTO bot_schema (version) VALUES (?)", (SCHEMA_VERSION,))

    @contextlib.contextmanager
    def _tx(self, write: bool = True):
        with self._lock, self.db.tx(write) as db:
            yield db

    def close(self) -> None:
        self.db.close()

    # --- exactly once ---------------------------------------------------------------------------
    def claim(self, key: str) -> bool:
        """True if this process should answer the event now; False if it is answered or being answered."""
        now = time.time()
        with self._tx() as db:
            if db.run("INSERT INTO bot_events (key, state, at) VALUES (?, 'working', ?) ON CONFLICT DO NOTHING",
                      (key, now)).rowcount == 1:
                return True
            state, at = db.run(f"SELECT state, at FROM bot_events WHERE key = ?{db.for_update}", (key,)).fetchone()
            if state == "done" or (state == "working" and now - at < self.LEASE):
                return False
            db.run("UPDATE bot_events SET state = 'working', at = ? WHERE key = ?", (now, key))
            return True

    def finish(self, key: str, delivered: bool) -> None:
        """Done when a reply reached Slack; failed (a retry will answer) when none could be posted."""
        now = time.time()
        with self._tx() as db:
            db.run("UPDATE bot_events SET state = ?, at = ? WHERE key = ?", ("done" if delivered else "failed", now, key))
            if now - self._purged > 3600:
                db.run("DELETE FROM bot_events WHERE at < ?", (now - self.TTL,))
                db.run("DELETE FROM bot_turns WHERE at < ?", (now - self.THREAD_TTL,))
                db.run("DELETE FROM bot_questions WHERE at < ?", (now - self.QUESTION_TTL,))
                self._purged = now

    # --- threads ----------------------------------------------------------------------------------
    def remember_thread(self, channel: str, thread_ts: str) -> None:
        with self._tx() as db:
            db.run("INSERT INTO bot_threads (channel, thread_ts, at) VALUES (?, ?, ?) "
                   "ON CONFLICT (channel, thread_ts) DO UPDATE SET at = excluded.at", (channel, thread_ts, time.time()))

    def answered_thread(self, channel: str, thread_ts: str) -> bool:
        with self._tx(write=False) as db:
            return db.run("SELECT 1 FROM bot_threads WHERE channel = ? AND thread_ts = ?",
                          (channel, thread_ts)).fetchone() is not None

    def add_turn(self, channel: str, thread_ts: str, ts: str, question: str, article_ids: list[str]) -> None:
        """A question asked in a thread and the articles its answer quoted: the next follow-up's context."""
        with self._tx() as db:
            db.run("INSERT INTO bot_turns (channel, thread_ts, ts, at, question, article_ids) VALUES (?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (channel, thread_ts, ts) DO UPDATE SET at = excluded.at, question = excluded.question, "
                   "article_ids = excluded.article_ids",
                   (channel, thread_ts, ts, time.time(), question, json.dumps(article_ids)))

    def thread(self, channel: str, thread_ts: str, before_ts: str | None = None) -> Thread:
        """The turns of a thread so far (those before `before_ts`, if given), as a Thread."""
        with self._tx(write=False) as db:
            rows = db.run("SELECT question, article_ids FROM bot_turns WHERE channel = ? AND thread_ts = ? AND ts < ? "
                          "ORDER BY ts",  # Slack's ts are fixed-width decimals: text order is time order
                          (channel, thread_ts, before_ts or "9" * 20)).fetchall()
        cited: list[str] = []
        for _, ids in reversed(rows):  # latest turn first
            cited += [a for a in json.loads(ids) if a not in cited]
        return Thread(tuple(q for q, _ in rows), tuple(cited[:MAX_THREAD_ARTICLES]))

    # --- questions, for the Home tab ----------------------------------------------------------------
    def log_question(self, channel: str, ts: str, user: str, question: str, status: str) -> None:
        with self._tx() as db:
            db.run('INSERT INTO bot_questions (channel, ts, "user", question, status, at) VALUES (?, ?, ?, ?, ?, ?) '
                   'ON CONFLICT (channel, ts) DO UPDATE SET "user" = excluded."user", question = excluded.question, '
                   "status = excluded.status, at = excluded.at", (channel, ts, user, question, status, time.time()))

    def recent_questions(self, user: str, limit: int = 5) -> list[tuple[str, str, str]]:
        """(question, status, channel) of the person's latest questions, newest first."""
        with self._tx(write=False) as db:
            return [tuple(r) for r in db.run('SELECT question, status, channel FROM bot_questions WHERE "user" = ? '
                                             "ORDER BY at DESC LIMIT ?", (user, limit)).fetchall()]

    # --- feedback ---------------------------------------------------------------------------------
    def feedback(self, user: str, channel: str, message: str, vote: str, question: str, chunk_ids: list[int],
                 status: str = "", shown: list[dict] | None = None) -> bool:
        """Record a vote on a reply (`message`: its ts); False when this person's same vote on it is
        already recorded (a replayed or repeated click)."""
        with self._tx() as db:
            return db.run(
                'INSERT INTO feedback (at, "user", channel, message, vote, question, chunk_ids, status, shown) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (now_iso(), user, channel, message, vote, question, json.dumps(chunk_ids), status,
                 json.dumps(shown or []))).rowcount == 1

    def verdict(self, user: str, channel: str, message: str, verdict: str, comment: str) -> bool:
        """What was wrong with a reply this person voted 👎 on; False if there is no such vote."""
        with self._tx() as db:
            return db.run('UPDATE feedback SET verdict = ?, comment = ? WHERE "user" = ? AND channel = ? AND message = ? '
                          "AND vote = 'down'", (verdict, comment, user, channel, message)).rowcount > 0

    def feedback_since(self, since: str = "") -> list[Feedback]:
        """Votes at or after `since` (an ISO date or time; empty: all), oldest first."""
        with self._tx(write=False) as db:
            rows = db.run('SELECT id, at, "user", channel, message, vote, question, status, shown, verdict, comment '
                          "FROM feedback WHERE at >= ? ORDER BY at, id", (since,)).fetchall()
        return [Feedback(*r[:8], tuple(json.loads(r[8] or "[]")), *r[9:]) for r in rows]

    # --- watches ----------------------------------------------------------------------------------
    def add_watch(self, channel: str, team: str, query: str, user: str, generation: int) -> int:
        with self._tx() as db:
            return db.run('INSERT INTO watches (channel, team, query, "user", at, after_generation) '
                          "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                          (channel, team, query, user, time.time(), generation)).fetchone()[0]

    def watches(self, channel: str | None = None) -> list[Watch]:
        where, params = ("AND channel = ?", (channel,)) if channel else ("", ())
        with self._tx(write=False) as db:
            return [Watch(*r) for r in db.run(
                f'SELECT id, channel, team, query, "user", after_generation FROM watches WHERE removed = 0 {where} '
                "ORDER BY id", params).fetchall()]

    def remove_watch(self, channel: str, watch_id: int) -> bool:
        with self._tx() as db:
            return db.run("UPDATE watches SET removed = 1 WHERE id = ? AND channel = ? AND removed = 0",
                          (watch_id, channel)).rowcount == 1

    def done_generation(self, watch: Watch) -> int:
        """The last generation whose news this watch has posted (or found none in)."""
        with self._tx(write=False) as db:
            row = db.run("SELECT max(generation) FROM watch_runs WHERE watch_id = ? AND state = 'done'",
                         (watch.id,)).fetchone()
        return max(row[0] or 0, watch.after_generation)

    def posted(self, watch_id: int) -> set[str]:
        with self._tx(write=False) as db:
            return {r[0] for r in db.run("SELECT article_id FROM watch_posts WHERE watch_id = ?", (watch_id,)).fetchall()}

    def claim_run(self, watch_id: int, generation: int) -> Run | None:
        """This process's turn to post the watch's news of this generation, or None when it is done or
        another process (or thread) holds a live claim on it."""
        now, nonce = time.time(), uuid.uuid4().hex
        with self._tx() as db:
            if db.run("INSERT INTO watch_runs (watch_id, generation, state, at, nonce) VALUES (?, ?, 'working', ?, ?) "
                      "ON CONFLICT DO NOTHING", (watch_id, generation, now, nonce)).rowcount == 1:
                return Run(watch_id, generation, nonce, (), ())
            state, at, tried, planned = db.run(
                f"SELECT state, at, tried, planned FROM watch_runs WHERE watch_id = ? AND generation = ?{db.for_update}",
                (watch_id, generation)).fetchone()
            if state == "done" or (state == "working" and now - at < self.LEASE):
                return None
            db.run("UPDATE watch_runs SET state = 'working', at = ?, nonce = ? WHERE watch_id = ? AND generation = ?",
                   (now, nonce, watch_id, generation))
            return Run(watch_id, generation, nonce, tuple(json.loads(tried)), tuple(json.loads(planned)))

    def plan_run(self, run: Run, article_ids: list[str]) -> bool:
        """Before posting: note the post's marker and articles, so a taker-over can find it in Slack.
        False when the claim was lost (its lease ran out and another process took over)."""
        with self._tx() as db:
            row = db.run(f"SELECT nonce, tried FROM watch_runs WHERE watch_id = ? AND generation = ?{db.for_update}",
                         (run.watch_id, run.generation)).fetchone()
            if not row or row[0] != run.nonce:
                return False
            db.run("UPDATE watch_runs SET tried = ?, planned = ?, at = ? WHERE watch_id = ? AND generation = ?",
                   (json.dumps(json.loads(row[1]) + [run.nonce]), json.dumps(article_ids), time.time(), run.watch_id,
                    run.generation))
            return True

    def finish_run(self, run: Run, posted: list[str], message_ts: str) -> None:
        """The generation's news is in Slack (or there was none): remember each article as posted."""
        with self._tx() as db:
            if posted:
                db.run_many("INSERT INTO watch_posts (watch_id, article_id, generation, message_ts) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT DO NOTHING", [(run.watch_id, aid, run.generation, message_ts) for aid in posted])
            db.run("UPDATE watch_runs SET state = 'done', at = ? WHERE watch_id = ? AND generation = ?",
                   (time.time(), run.watch_id, run.generation))

    def fail_run(self, run: Run) -> None:
        """Nothing reached Slack: the next pass tries again at once."""
        with self._tx() as db:
            db.run("UPDATE watch_runs SET state = 'failed', at = ? WHERE watch_id = ? AND generation = ? AND nonce = ?",
                   (time.time(), run.watch_id, run.generation, run.nonce))


def state_url(cfg) -> str:
    """The PostgreSQL address of the bot's state: ARCHIVIST_STATE_URL when set (the environment wins, so one
    config file serves every replica and stage), else [state] url; empty: SQLite."""
    return os.environ.get("ARCHIVIST_STATE_URL", "") or cfg.state.url


def open_state(cfg) -> State:
    """The bot's state where the config keeps it: PostgreSQL with a state url, else the index's SQLite."""
    url = state_url(cfg)
    return State(PostgresDb(url) if url else SqliteDb(cfg.index_dir()))
