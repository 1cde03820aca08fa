"""The Slack bot: Bolt listeners, Socket Mode or HTTP. The only module that builds the Bolt `App`.

Every request is acknowledged at once and worked on after the acknowledgement. Each question is
answered exactly once (the ledger in the index's SQLite), and every question ends in a visible
reply: the answer, "nothing in the archive", or an apology with an error id that is also logged.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (ConnectionErrorRetryHandler, RateLimitErrorRetryHandler,
                                                   ServerErrorRetryHandler)

from bot.answer import answer
from bot.blocks import answer_blocks, escape, summary_blocks
from bot.summary import summary
from index.config import Config
from index.embed import Embedder
from index.links import Signer, load_secret
from index.search import Searcher
from index.store import Ledger

log = logging.getLogger("archivist.bot")

TOKEN_HELP = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) from your app's page at https://api.slack.com/apps, "
                       "under OAuth & Permissions",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…) with the connections:write scope, from Basic Information › "
                       "App-Level Tokens (needed for Socket Mode)",
    "SLACK_SIGNING_SECRET": "the Signing Secret from Basic Information › App Credentials (needed for HTTP mode)",
}
THINKING = "eyes"
NOT_ENABLED = "Archivist isn't enabled in this channel. An admin can add it to `[slack] allowed_channels`."


TOKEN_PREFIX = {"SLACK_BOT_TOKEN": "xoxb-", "SLACK_APP_TOKEN": "xapp-"}
CONNECT_ATTEMPTS = 6  # at start: 2 + 4 + 8 + 16 + 32 s of waiting, then give up with a clear message


class MissingToken(RuntimeError):
    pass


class CannotStart(RuntimeError):
    """Slack cannot be reached or refuses the token: one line says which and what to do."""


def require_env(*names: str) -> dict[str, str]:
    """The tokens, each present and of the right kind (a bot token where a bot token belongs)."""
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        raise MissingToken("\n".join(f"{n} is not set: it is {TOKEN_HELP[n]}." for n in missing))
    wrong = [n for n in names if n in TOKEN_PREFIX and not os.environ[n].startswith(TOKEN_PREFIX[n])]
    if wrong:
        raise MissingToken("\n".join(f"{n} does not start with {TOKEN_PREFIX[n]}: it should be {TOKEN_HELP[n]}."
                                      for n in wrong))
    return {n: os.environ[n] for n in names}


FIRST_WAIT = 2.0


def with_retries(what: str, call):
    """`call()`, retried with backoff while Slack cannot be reached (one log line per wait); a refused
    token or the last failed attempt raises CannotStart with one line."""
    wait, attempts = FIRST_WAIT, CONNECT_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            with _quiet("slack_sdk", "slack_bolt"):  # their own lines for each try would bury ours
                return call()
        except SlackApiError as e:
            raise CannotStart(f"Slack refused to {what}: {e.response.get('error', e)} (check the tokens)") from None
        except (OSError, SlackClientError) as e:  # URLError is an OSError; so are refused and reset connections
            reason = getattr(e, "reason", None) or e
            if attempt == attempts:
                raise CannotStart(f"cannot {what}: Slack cannot be reached ({reason}); gave up after {attempts} "
                                  "attempts") from None
            log.warning("cannot %s: Slack cannot be reached (%s); retrying in %.0f s", what, reason, wait)
            time.sleep(wait)
            wait = min(2 * wait, 60.0)


@contextlib.contextmanager
def _quiet(*loggers: str):
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in loggers]
    for logger, _ in saved:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


def web_client(token: str, base_url: str) -> WebClient:
    """Slack's Web API client, retrying rate limits (Retry-After), server errors and dropped connections."""
    client = WebClient(token=token, base_url=base_url or WebClient.BASE_URL, timeout=15)
    client.retry_handlers.extend([RateLimitErrorRetryHandler(max_retry_count=5), ServerErrorRetryHandler(max_retry_count=3),
                                  ConnectionErrorRetryHandler(max_retry_count=3)])
    return client


@dataclass
class Bot:
    """What the listeners share: the searcher (one answer at a time: the encoder uses every core),
    the ledger and the settings."""

    cfg: Config
    searcher: Searcher
    ledger: Ledger
    lock: threading.Lock
    signer: Signer  # archived-copy links in replies (none without [web] public_url)

    def allowed(self, channel: str, team: str | None, is_dm: bool) -> bool:
        s = self.cfg.slack
        if s.allowed_teams and team not in s.allowed_teams:
            return False
        if is_dm:
            return s.allow_dms
        return not s.allowed_channels or channel in s.allowed_channels

    def reply_to_question(self, client: WebClient, text: str, channel: str, thread_ts: str, ts: str,
                          offset: int = 0) -> None:
        """Post the answer in the thread, read with the thread's earlier questions; any failure before
        posting turns into the error reply. A new question (not More results) becomes a turn of the thread."""
        try:
            thread = self.ledger.thread(channel, thread_ts, before_ts=ts)
            with self.lock:
                a = answer(text, self.searcher, offset=offset, thread=thread)
            blocks, fallback = answer_blocks(a, offset, asked=ts, signer=self.signer)
            if offset == 0 and not a.error:
                # before the reply: a follow-up typed the moment the reply shows must find this turn
                self.ledger.add_turn(channel, thread_ts, ts, a.query or a.question, [p.article_id for p in a.passages])
        except Exception:
            blocks, fallback = error_blocks("answering")
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, blocks=blocks, text=fallback,
                                unfurl_links=False, unfurl_media=False)


def error_blocks(doing: str) -> tuple[list[dict], str]:
    error_id = uuid.uuid4().hex[:8]
    log.exception("error %s while %s", error_id, doing)
    text = f"Sorry, something went wrong while {doing}. (error id `{error_id}`)"
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}], text


def create_app(cfg: Config, *, bot_token: str, signing_secret: str | None = None, embedder: Embedder | None = None,
               searcher: Searcher | None = None) -> App:
    client = web_client(bot_token, cfg.slack.api_base_url)
    # Bolt checks the token with auth.test as it is made: at start, Slack may not be reachable yet
    app = with_retries("check the bot token", lambda: App(
        client=client, signing_secret=signing_secret or "unused-in-socket-mode",
        request_verification_enabled=signing_secret is not None, process_before_response=False))
    searcher = searcher or Searcher.open(cfg, embedder)
    signer = Signer(load_secret(cfg.index_dir()), cfg.web.public_url, cfg.web.link_days)
    bot = Bot(cfg, searcher, Ledger(cfg.index_dir()), threading.Lock(), signer)
    app.bot = bot  # for the HTTP health check and for tests

    def question(event: dict, client: WebClient, context, mentioned: bool) -> None:
        channel, ts = event["channel"], event["ts"]
        if event.get("bot_id") or event.get("user") in (None, context.bot_user_id):
            return  # never answer our own or another bot's messages
        key = f"msg:{channel}:{ts}"  # a mention arrives as app_mention and as message: one answer
        if not bot.ledger.claim(key):
            return
        delivered = False
        thread_ts = event.get("thread_ts") or ts
        try:
            if not bot.allowed(channel, context.team_id, event.get("channel_type") == "im"):
                client.chat_postEphemeral(channel=channel, user=event["user"], text=NOT_ENABLED)
                delivered = True
                return
            _react(client, "add", channel, ts)
            # before the reply: a follow-up typed the moment the reply shows must find the thread known
            bot.ledger.remember_thread(channel, thread_ts)
            bot.reply_to_question(client, event.get("text", ""), channel, thread_ts, ts)
            delivered = True
            _react(client, "remove", channel, ts)
        except Exception:
            log.exception("could not reply to %s; Slack's retry will be answered", key)
        finally:
            bot.ledger.finish(key, delivered)

    @app.event("app_mention")
    def on_mention(event, client, context):
        question(event, client, context, mentioned=True)

    @app.event("message")
    def on_message(event, client, context):
        if event.get("subtype"):
            return  # edits, deletions, joins, bot posts
        in_thread = event.get("thread_ts") and event["thread_ts"] != event["ts"]
        if event.get("channel_type") == "im" or (in_thread and bot.ledger.answered_thread(event["channel"],
                                                                                           event["thread_ts"])):
            question(event, client, context, mentioned=False)

    @app.command("/summarize")
    def on_summarize(ack, command, respond, context):
        ack()
        if not bot.allowed(command["channel_id"], context.team_id, command.get("channel_name") == "directmessage"):
            respond(text=NOT_ENABLED, response_type="ephemeral")
            return
        try:
            with bot.lock:
                reply = summary(command.get("text", ""), bot.searcher, cfg.summary.sentences)
            blocks, text = summary_blocks(reply, shareable=reply.summary is not None, signer=bot.signer)
        except Exception:
            blocks, text = error_blocks("summarising")
        respond(blocks=blocks, text=text, response_type="ephemeral")

    @app.action("share_summary")
    def on_share(ack, body, client, respond):
        ack()
        value = json.loads(body["actions"][0]["value"])
        try:
            with bot.lock:
                reply = summary(value["id"], bot.searcher, cfg.summary.sentences)
            blocks, text = summary_blocks(reply, signer=bot.signer)
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"Shared by <@{body['user']['id']}> · asked for: {escape(value['q'])}"}]})
        except Exception:
            blocks, text = error_blocks("sharing a summary")
        client.chat_postMessage(channel=body["channel"]["id"], blocks=blocks, text=text, unfurl_links=False,
                                unfurl_media=False)
        respond(delete_original=True)

    @app.action("more_results")
    def on_more(ack, body, client):
        ack()
        value = json.loads(body["actions"][0]["value"])
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts") or body["container"].get("message_ts")
        channel = body["channel"]["id"]
        # the same reading as the first page: the thread as it was when this question was asked
        bot.reply_to_question(client, value["q"], channel, thread_ts, value.get("ts", ""), offset=int(value["offset"]))

    def on_feedback(vote: str):
        def handler(ack, body, client):
            ack()
            value = json.loads(body["actions"][0]["value"])
            channel, user = body["channel"]["id"], body["user"]["id"]
            message = body.get("message") or {}
            reply_ts = message.get("ts") or body.get("container", {}).get("message_ts", "")
            if bot.ledger.feedback(user, channel, reply_ts, vote, value["q"], value["chunks"]):
                client.chat_postEphemeral(channel=channel, user=user, thread_ts=message.get("thread_ts"),
                                          text=f"Thanks, your {'👍' if vote == 'up' else '👎'} is recorded.")
        return handler

    app.action("feedback_up")(on_feedback("up"))
    app.action("feedback_down")(on_feedback("down"))

    @app.error
    def on_error(error, body):
        log.error("unhandled error in a listener: %r", error, exc_info=error)

    return app


def _react(client: WebClient, how: str, channel: str, ts: str) -> None:
    """The 'on it' signal; it is only a courtesy, so it never stops an answer."""
    try:
        getattr(client, f"reactions_{how}")(channel=channel, timestamp=ts, name=THINKING)
    except SlackApiError as e:
        log.debug("reaction %s failed: %s", how, e)


def serve_socket(app: App, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log.warning("connecting to Slack in Socket Mode")
    handler = SocketModeHandler(app, app_token)
    with_retries("open a Socket Mode connection", handler.connect)
    threading.Event().wait()  # the connection's own threads answer; this one only keeps the process up
