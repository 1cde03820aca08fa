"""The bot's HTTP side: Slack's requests at /slack/events, a health check at /healthz, served by
waitress with limits that keep slow or huge requests from starving everyone else.

Every POST's Slack signature is checked on the raw bytes before anything parses them: an unsigned
request, however malformed, gets a 401 and costs no more than reading its (bounded) body.
"""
from __future__ import annotations

import io
import json
import logging

from slack_bolt import App
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("archivist.bot")

MAX_BODY = 1 * 2**20  # Slack's requests are a few KB; anything bigger is refused before it is read
CHANNEL_TIMEOUT = 10  # seconds a connection may sit idle (a slow client trickling bytes) before it is closed
CONNECTION_LIMIT = 1000  # open connections; waitress's default of 100 is used up by 100 slow clients
CLEANUP_INTERVAL = 2  # how often waitress looks for idle connections


def wsgi(app: App, signing_secret: str | None):
    """The WSGI application. With no signing secret (Socket Mode) it only serves /healthz."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    handler = SlackRequestHandler(app, path="/slack/events")
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            bot = app.bot
            bot.searcher.refresh()
            return _json(start_response, "200 OK", {"ok": True, "generation": int(bot.searcher.meta.get("generation", "0")),
                                                    "articles": bot.searcher.store.count_articles()})
        if environ.get("PATH_INFO") != "/slack/events" or environ.get("REQUEST_METHOD") != "POST":
            return _json(start_response, "404 Not Found", {"error": "not found"})
        body = environ["wsgi.input"].read(MAX_BODY + 1)
        if verifier is None or len(body) > MAX_BODY or not _signed(verifier, body, environ):
            return _json(start_response, "401 Unauthorized", {"error": "invalid request"})
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        return handler(environ, start_response)

    return application


def _signed(verifier: SignatureVerifier, body: bytes, environ: dict) -> bool:
    try:
        return verifier.is_valid(body=body.decode("utf-8"), timestamp=environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                                 signature=environ.get("HTTP_X_SLACK_SIGNATURE", ""))
    except (ValueError, TypeError):  # a timestamp that is not a number, a body that is not UTF-8
        return False


def _json(start_response, status: str, doc: dict) -> list[bytes]:
    body = json.dumps(doc).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def server(app: App, signing_secret: str | None, host: str, port: int, threads: int = 16):
    """A waitress server for the app, not yet running (`.run()`); port 0 picks a free one."""
    from waitress import create_server

    return create_server(wsgi(app, signing_secret), host=host, port=port, threads=threads, ident="archivist",
                         channel_timeout=CHANNEL_TIMEOUT, connection_limit=CONNECTION_LIMIT,
                         cleanup_interval=CLEANUP_INTERVAL, max_request_body_size=MAX_BODY)


def serve_http(app: App, signing_secret: str, host: str, port: int) -> None:
    s = server(app, signing_secret, host, port)
    log.warning("serving Slack requests on http://%s:%d/slack/events (health: /healthz)", host, s.effective_port)
    s.run()
