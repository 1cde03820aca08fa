"""The Slack bot: the Bolt `App` (built only here), its tokens, and Socket Mode. The listeners live in
bot/slack/questions.py, bot/slack/feedback.py, bot/slack/commands.py and bot/slack/home.py; watched topics in bot/watch.py;
the HTTP side in bot/web/server.py.

Every request is acknowledged at once and worked on after the acknowledgement. Each question is
answered exactly once (the ledger in bot/state/state.py), and every question ends in a visible reply: the
answer, "nothing in the archive", or an apology with an error id that is also logged.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (ConnectionErrorRetryHandler, RateLimitErrorRetryHandler,
                                                   ServerErrorRetryHandler)

from bot.slack import commands, feedback, home, questions
from bot.service import Bot
from bot.state.state import open_state
from bot.watch import Watcher
from index.config import Config
from index.embedding.embed import Embedder
from index.searching.links import index_signer
from index.searching.search import Searcher

log = logging.getLogger("archivist.bot")

TOKEN_HELP = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) from your app's page at https://api.slack.com/apps, "
                       "under OAuth & Permissions",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…) with the connections:write scope, from Basic Information › "
                       "App-Level Tokens (needed for Socket Mode)",
    "SLACK_SIGNING_SECRET": "the Signing Secret from Basic Information › App Credentials (needed for HTTP mode)",
}


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


def create_app(cfg: Config, *, bot_token: str, signing_secret: str | None = None, embedder: Embedder | None = None,
               searcher: Searcher | None = None, watch: bool = True) -> App:
    """The Bolt app with every listener; with `watch`, the thread that posts watched topics' news too
    (`app.watcher`, stopped with `app.watcher.stop()`)."""
    client = web_client(bot_token, cfg.slack.api_base_url)
    # Bolt checks the token with auth.test as it is made: at start, Slack may not be reachable yet
    # Bolt's own lines go to the "slack_bolt" logger (by default it makes one _quiet cannot reach, which
    # repeated "As you gave `client` as well, `token` will be unused" at every retry: it reads SLACK_BOT_TOKEN)
    app = with_retries("check the bot token", lambda: App(
        client=client, logger=logging.getLogger("slack_bolt"), signing_secret=signing_secret or "unused-in-socket-mode",
        request_verification_enabled=signing_secret is not None, process_before_response=False))
    searcher = searcher or Searcher.open(cfg, embedder)
    signer = index_signer(cfg)
    bot = Bot(cfg, searcher, open_state(cfg), threading.Lock(), signer)
    app.bot = bot  # for the HTTP health check and for tests
    for listeners in (questions, feedback, commands, home):
        listeners.register(app, bot)

    @app.error
    def on_error(error, body):
        log.error("unhandled error in a listener: %r", error, exc_info=error)

    app.watcher = Watcher(bot, client)
    if watch:
        app.watcher.start()
    return app


def serve_socket(app: App, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log.warning("connecting to Slack in Socket Mode")
    handler = SocketModeHandler(app, app_token)
    with_retries("open a Socket Mode connection", handler.connect)
    threading.Event().wait()  # the connection's own threads answer; this one only keeps the process up
