"""Watched topics: after a build publishes new or changed articles, each watch's matches are posted to
its channel, once each, by the running bot (the build never talks to Slack).

Exactly once, across restarts, replicas and crashes: a watch's news of one generation is claimed with a
lease (bot/state/state.py); before posting, the claim notes a marker and the articles it will post, and the
post carries that marker as message metadata; when the post is in Slack, its articles are remembered
as posted in the same transaction that marks the claim done. A process that takes over a claim whose
holder died looks for the marker in the channel's recent messages first, so a post that reached Slack
just before a crash is recorded, not repeated; one that did not is made.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import replace

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answer import LIKELY_QUOTE
from bot.service import Bot
from bot.state.state import Run, Watch
from bot.slack.views import watch_blocks
from index.searching import filters as filtermod
from index.searching.filters import FilterError
from index.records import ERROR, NOTHING, Passage

log = logging.getLogger("archivist.watch")

EVENT_TYPE = "archivist_watch"
BATCH = 5_000  # new articles read per search (SQLite's parameter limit, and a bounded filter)
HISTORY = 200  # recent channel messages searched for an earlier attempt's post


class Watcher:
    def __init__(self, bot: Bot, client: WebClient):
        self.bot, self.client = bot, client
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._said: dict[int, str] = {}  # each watch's last Slack error, said once until it changes

    def start(self) -> None:
        """Look for news every [watch] interval seconds, in a thread of its own."""
        self._thread = threading.Thread(target=self._loop, name="archivist-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(30)

    def _loop(self) -> None:
        while not self._stop.wait(self.bot.cfg.watch.interval):
            try:
                self.run_once()
            except Exception:
                log.exception("watches: a pass failed; the next one tries again")

    def run_once(self) -> int:
        """One pass: each watch with news in a generation it has not posted posts it. Returns the
        number of posts made."""
        state, searcher = self.bot.state, self.bot.searcher
        searcher.refresh()
        generation, posts = searcher.generation, 0
        for w in state.watches():
            if self._stop.is_set():
                break
            if not self.bot.allowed(w.channel, w.team or None, False):
                continue  # the channel is no longer allowed: its watches wait
            if state.done_generation(w) >= generation:
                continue
            run = state.claim_run(w.id, generation)
            if run is None:
                continue  # done meanwhile, or another replica is on it
            try:
                posts += self._run(w, run)
            except SlackApiError as e:
                # a channel the bot left or that was archived fails at every pass: said once, not every 30 s
                error = str(e.response.get("error"))
                level = logging.DEBUG if self._said.get(w.id) == error else logging.WARNING
                self._said[w.id] = error
                log.log(level, "watch #%d cannot post to %s (%s); the next pass tries again", w.id, w.channel, error)
                state.fail_run(run)
            except Exception:
                log.exception("watch #%d failed; the next pass tries again", w.id)
                state.fail_run(run)
        return posts

    def _run(self, w: Watch, run: Run) -> int:
        state = self.bot.state
        if run.tried:
            ts = self._posted_before(w, run)
            if ts:
                log.info("watch #%d: an earlier attempt's post is in Slack (%s); recorded", w.id, ts)
                state.finish_run(run, list(run.planned), ts)
                return 0
        posted = state.posted(w.id)
        new = [a for a in self.bot.searcher.store.published_between(state.done_generation(w), run.generation)
               if a not in posted]
        found = self.matches(w, new)
        if not found:
            state.finish_run(run, [], "")
            return 0
        ids = [p.article_id for p in found]
        if not state.plan_run(run, ids):
            return 0  # the claim's lease ran out and another process took over
        digest = self.bot.cfg.watch.digest
        blocks, text = watch_blocks(w, found[:digest], found[digest:], self.bot.signer)
        # rate limits: the client waits out Retry-After (slack_sdk's retry handler) and posts again
        resp = self.client.chat_postMessage(
            channel=w.channel, blocks=blocks, text=text, unfurl_links=False, unfurl_media=False,
            metadata={"event_type": EVENT_TYPE,
                      "event_payload": {"watch": w.id, "generation": run.generation, "nonce": run.nonce}})
        state.finish_run(run, ids, resp["ts"])
        log.info("watch #%d: posted %d new article(s) to %s", w.id, len(ids), w.channel)
        return 1

    def matches(self, w: Watch, article_ids: list[str]) -> list[Passage]:
        """The new articles that answer the watch, or are about it (evidence ≥ [watch] min_evidence),
        best first, one passage each, at most [watch] scan."""
        settings = self.bot.cfg.watch
        out: dict[str, Passage] = {}
        for i in range(0, len(article_ids), BATCH):
            near = self._near(w, article_ids[i:i + BATCH])
            if not near:
                continue
            a = self.bot.answer(w.query, k=settings.scan, within=tuple(near))
            if a.status in (ERROR, NOTHING):
                continue
            for p in a.passages:
                if p.article_id not in out and (p.confidence >= LIKELY_QUOTE
                                                or p.evidence >= settings.min_evidence):
                    out[p.article_id] = p
        return sorted(out.values(), key=lambda p: (-p.confidence, -p.evidence))[:settings.scan]

    def _near(self, w: Watch, article_ids: list[str]) -> list[str]:
        """The articles worth reading closely (the costly part of an answer): those with a passage near
        the watch in meaning (cosine ≥ [search] min_similarity, the bar an answer's articles pass too) or
        sharing its rare words. Most watches have none among a build's news, and cost two searches."""
        try:
            query, filters = filtermod.parse(w.query)
        except FilterError:
            return []  # checked when the watch was set; a later version may read filters differently
        within = replace(filters, articles=tuple(article_ids))
        s = self.bot.searcher
        with self.bot.lock:
            near = {h.article_id for h in s.search(query, within, mode="dense")
                    if h.similarity >= self.bot.cfg.search.min_similarity}
            near |= {h.article_id for h in s.search(query, within, mode="keyword")}
        return [a for a in article_ids if a in near]

    def _posted_before(self, w: Watch, run: Run) -> str:
        """The ts of an earlier attempt's post of this run, if it reached Slack ('' if not)."""
        try:
            resp = self.client.conversations_history(channel=w.channel, limit=HISTORY, include_all_metadata=True)
        except SlackApiError as e:  # without history, post: a rare repeat beats news never posted
            log.warning("watch #%d: cannot read %s's history to check an earlier attempt (%s)", w.id, w.channel,
                        e.response.get("error"))
            return ""
        for m in resp.get("messages", []):
            meta = m.get("metadata") or {}
            if meta.get("event_type") == EVENT_TYPE and meta.get("event_payload", {}).get("nonce") in run.tried:
                return m["ts"]
        return ""
