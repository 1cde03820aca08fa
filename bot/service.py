"""What the Slack listeners share: the searcher (one answer at a time: the encoder uses every core),
the bot's state, the settings, and the steps more than one listener takes."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answer import answer
from bot.slack.blocks import answer_blocks
from bot.summary import summary
from bot.state.state import State
from index.config import Config
from index.searching.links import Signer
from index.records import ERROR, Answer, SummaryReply
from index.searching.search import Searcher

log = logging.getLogger("archivist.bot")

NOT_ENABLED = "Archivist isn't enabled in this channel. An admin can add it to `[slack] allowed_channels`."
MEMBERS_TTL = 60.0  # seconds a channel's member list is trusted for the Home tab


@dataclass
class Bot:
    cfg: Config
    searcher: Searcher
    state: State
    lock: threading.Lock
    signer: Signer  # archived-copy links in replies (none without [web] public_url)
    _members: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict)

    def allowed(self, channel: str, team: str | None, is_dm: bool) -> bool:
        s = self.cfg.slack
        if s.allowed_teams and team not in s.allowed_teams:
            return False
        if is_dm:
            return s.allow_dms
        return not s.allowed_channels or channel in s.allowed_channels

    def members(self, client: WebClient, channel: str, fresh: bool = False) -> frozenset[str]:
        """The channel's members (conversations.members, every page); cached briefly unless `fresh`.
        A channel the bot cannot see has none."""
        cached = self._members.get(channel)
        if cached and not fresh and time.monotonic() - cached[0] < MEMBERS_TTL:
            return cached[1]
        users: set[str] = set()
        try:
            for page in client.conversations_members(channel=channel, limit=1000):
                users.update(page.get("members", []))
        except SlackApiError as e:
            log.warning("cannot list the members of %s: %s", channel, e.response.get("error"))
        self._members[channel] = (time.monotonic(), frozenset(users))
        return frozenset(users)

    def answer(self, text: str, channel: str = "", thread_ts: str = "", ts: str = "", offset: int = 0,
               **options) -> Answer:
        """The answer, read with the thread's earlier questions (those before `ts`), if in a thread;
        `options` go to bot.answer.answer (k, within)."""
        thread = self.state.thread(channel, thread_ts, before_ts=ts) if thread_ts else None
        with self.lock:
            return answer(text, self.searcher, offset=offset, thread=thread, **options)

    def summary(self, query: str) -> SummaryReply:
        with self.lock:
            return summary(query, self.searcher, self.cfg.summary.sentences)

    def reply_to_question(self, client: WebClient, text: str, channel: str, thread_ts: str, ts: str,
                          offset: int = 0, user: str = "", header: dict | None = None) -> None:
        """Post the answer in the thread; any failure before posting turns into the error reply. A new
        question (not More results) becomes a turn of the thread and one of the asker's recent questions."""
        try:
            a = self.answer(text, channel, thread_ts, ts, offset)
            blocks, fallback = answer_blocks(a, offset, asked=ts, signer=self.signer)
            if header:
                blocks = [header, *blocks]
            if offset == 0 and a.status != ERROR:
                # before the reply: a follow-up typed the moment the reply shows must find this turn
                self.state.add_turn(channel, thread_ts, ts, a.query or a.question, [p.article_id for p in a.passages])
            if offset == 0 and user:
                self.state.log_question(channel, ts, user, a.query or a.question, a.status)
        except Exception:
            blocks, fallback = error_blocks("answering")
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, blocks=blocks, text=fallback,
                                unfurl_links=False, unfurl_media=False)


def error_blocks(doing: str) -> tuple[list[dict], str]:
    error_id = uuid.uuid4().hex[:8]
    log.exception("error %s while %s", error_id, doing)
    text = f"Sorry, something went wrong while {doing}. (error id `{error_id}`)"
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}], text


THINKING = "eyes"


def react(client: WebClient, how: str, channel: str, ts: str) -> None:
    """The 'on it' signal (👀); it is only a courtesy, so it never stops an answer."""
    try:
        getattr(client, f"reactions_{how}")(channel=channel, timestamp=ts, name=THINKING)
    except SlackApiError as e:
        log.debug("reaction %s failed: %s", how, e)
