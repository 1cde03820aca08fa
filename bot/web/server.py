"""The bot's HTTP side, served by waitress: Slack's requests at /slack/events, /healthz, and the archive
on the web: signed archived copies at /a/<id>, and (when enabled) the search and summary pages.

Every POST's Slack signature is checked on the raw bytes before anything parses them: an unsigned
request, however malformed, gets a 401 and costs no more than reading its (bounded) body. Limits on
body size, idle connections, request deadlines (bot/web/guard.py) and a share of the threads the pages
cannot take keep slow, huge or many requests from starving Slack's events. Pages go out with a
Content-Security-Policy that allows no script and no outside asset, and with no Referer, so a signed
link never leaks to the sites an archived copy links to.
"""
from __future__ import annotations

import hmac
import io
import json
import logging
import os
import re
import threading
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode

from slack_bolt import App
from slack_sdk.signature import SignatureVerifier

from bot.web import pages
from index.searching.links import span_of

log = logging.getLogger("archivist.bot")

MAX_BODY = 1 * 2**20  # Slack's requests are a few KB; anything bigger is refused before it is read
CHANNEL_TIMEOUT = 10  # seconds a connection may sit idle before it is closed (slow senders: bot/web/guard.py)
THREADS = 16  # waitress's workers
SLACK_THREADS = 4  # of them, never taken by the pages: Slack's events and /healthz always find one free
MAX_QUERY = 500  # characters of a question from the search box
TOKEN_COOKIE = "archivist_token"
_ARTICLE = re.compile(r"^/a/([^/]*)$")
_HEADERS = [("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                        "base-uri 'none'; frame-ancestors 'none'"),
            ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "private, no-store")]


def wsgi(app: App | None, signing_secret: str | None, bot=None, page_slots: int = THREADS - SLACK_THREADS):
    """The WSGI application. With no signing secret (Socket Mode) or no Slack app at all (the pages
    alone, `archivist web`, given the `bot` whose searcher and signer they use) /slack/events answers 401.
    At most `page_slots` page requests are served at once; more get a 503 at once rather than a wait
    in the queue Slack's events share (Slack gives up on an event after 3 s)."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    handler = SlackRequestHandler(app, path="/slack/events") if app is not None else None
    verifier = SignatureVerifier(signing_secret) if signing_secret and handler else None
    bot = bot or app.bot
    pages_free = threading.BoundedSemaphore(max(1, page_slots))

    def application(environ, start_response):
        if environ.get("PATH_INFO") in ("/slack/events", "/healthz"):
            body = route(environ, start_response)
        elif pages_free.acquire(blocking=False):
            try:
                body = route(environ, start_response)
            finally:
                pages_free.release()
        else:
            busy = pages.message("Busy", "The archive is answering many searches at once. Try again in a moment.")
            body = _html(start_response, "503 Service Unavailable", busy, [("Retry-After", "2")])
        # HEAD: GET's headers without its body, which a proxy reusing the connection would read as the next response
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else body

    def route(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/slack/events" and method == "POST":
            body = environ["wsgi.input"].read(MAX_BODY + 1)
            if verifier is None or len(body) > MAX_BODY or not _signed(verifier, body, environ):
                return _json(start_response, "401 Unauthorized", {"error": "invalid request"})
            why = _malformed(body, environ.get("CONTENT_TYPE", ""))
            if why:  # signed, yet not what Slack sends: one line, not a traceback from deep inside Bolt
                log.warning("a signed request to /slack/events refused: %s", why)
                return _json(start_response, "400 Bad Request", {"error": why})
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            return handler(environ, start_response)
        if method not in ("GET", "HEAD"):
            return _json(start_response, "405 Method Not Allowed", {"error": "method not allowed"})
        if path == "/healthz":
            bot.searcher.refresh()
            return _json(start_response, "200 OK", {"ok": True, "generation": int(bot.searcher.meta.get("generation", "0")),
                                                    "articles": bot.searcher.store.count_articles()})
        try:
            query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=20).items()}
        except ValueError:  # more fields than any page of ours takes
            return _html(start_response, "400 Bad Request", pages.message("Bad request", "Too many parameters."))
        m = _ARTICLE.match(path)
        if m:
            return _archived_copy(bot, m.group(1), query, start_response)
        if path in ("/", "/search", "/summarize"):
            return _search_pages(bot, path, query, environ, start_response)
        return _html(start_response, "404 Not Found", pages.message("Not found", "There is no page here."))

    return application


def _archived_copy(bot, article_id: str, query: dict, start_response):
    why = bot.signer.check(article_id, query.get("q", ""), query.get("exp", ""), query.get("sig", ""))
    if why:
        log.info("archived copy %r refused: %s", article_id[:40], why)
        return _html(start_response, "403 Forbidden", pages.message(
            "Link not valid", "This link is not valid or has expired. Ask the bot again for a fresh link."))
    article = bot.searcher.store.article(article_id)
    if article is None:
        return _html(start_response, "404 Not Found", pages.message("Not found", "No such article in the archive."))
    copy = pages.archived_page(article, span_of(query.get("q", "")), search=bot.cfg.web.search)
    return _html(start_response, "200 OK", copy)


def _search_pages(bot, path: str, query: dict, environ, start_response):
    web = bot.cfg.web
    if not web.search:
        return _html(start_response, "404 Not Found", pages.message(
            "Not found", "The search pages are off ([web] search = false)."))
    token = os.environ.get("ARCHIVIST_WEB_TOKEN", "")
    if not web.public_search:
        given = query.get("token", "")
        if token and given and hmac.compare_digest(given.encode(), token.encode()):  # str: ASCII only
            # the token becomes a cookie, and the address loses it (no token in history or logs)
            rest = urlencode({k: v for k, v in query.items() if k != "token"})
            # Secure where the pages are public over https: the browser never sends the token in clear
            secure = "; Secure" if web.public_url.startswith("https://") else ""
            start_response("303 See Other", [("Location", path + (f"?{rest}" if rest else "")), *_HEADERS,
                                             ("Set-Cookie", f"{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Lax; "
                                                            f"Path=/{secure}"),
                                             ("Content-Length", "0")])
            return [b""]
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        held = cookie[TOKEN_COOKIE].value if TOKEN_COOKIE in cookie else ""
        if not token or not hmac.compare_digest(held.encode(), token.encode()):
            return _html(start_response, "403 Forbidden", pages.message(
                "Token needed", "The search pages need a token: open this address with ?token=… once."))
    q = " ".join(query.get("q", "").split())[:MAX_QUERY]
    copy = bot.signer.path
    if path == "/summarize" and q:
        return _html(start_response, "200 OK", pages.summary_page(q, bot.summary(q), copy))
    if not q:
        return _html(start_response, "200 OK", pages.answer_page("", None, copy))
    # one answer at a time, as in Slack (the bot's lock): the encoder uses every core
    return _html(start_response, "200 OK", pages.answer_page(q, bot.answer(q), copy))


def _malformed(body: bytes, content_type: str) -> str:
    """Why a signed body is not one Slack sends ('' when it parses): JSON for events, a form for
    commands, a form whose `payload` is JSON for interactions. Parsed here once, so that a broken or
    absurdly nested body is a 400."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            doc = json.loads(text)
            if not isinstance(doc, dict):
                return f"malformed body (JSON {type(doc).__name__}, not an object)"
            if "event" in doc and not isinstance(doc["event"], dict):
                return "malformed body (an event that is not an object)"
        else:
            form = parse_qs(text, max_num_fields=100, strict_parsing=bool(text))
            if "payload" in form and not isinstance(json.loads(form["payload"][0]), dict):
                return "malformed body (a payload that is not a JSON object)"
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return f"malformed body ({type(e).__name__})"
    return ""


def _signed(verifier: SignatureVerifier, body: bytes, environ: dict) -> bool:
    try:
        return verifier.is_valid(body=body.decode("utf-8"), timestamp=environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                                 signature=environ.get("HTTP_X_SLACK_SIGNATURE", ""))
    except (ValueError, TypeError, OverflowError):  # a timestamp that is not a number (or 400 nines), a body not UTF-8
        return False


def _json(start_response, status: str, doc: dict) -> list[bytes]:
    body = json.dumps(doc).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _html(start_response, status: str, text: str, headers=()) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                            *_HEADERS, *headers])
    return [body]


def server(app: App | None, signing_secret: str | None, host: str, port: int, threads: int = THREADS, bot=None):
    """A waitress server for the app (or, with no app, for the `bot`'s pages alone), not yet running
    (`.run()`); port 0 picks a free one. Slow senders cannot fill it (bot/web/guard.py), nor can the
    pages take the threads Slack's events need."""
    from bot.web import guard

    application = wsgi(app, signing_secret, bot, page_slots=threads - min(SLACK_THREADS, threads // 2))
    return guard.create(application, host, port, threads, ident="archivist", channel_timeout=CHANNEL_TIMEOUT,
                        max_request_body_size=MAX_BODY)


def serve_http(app: App, signing_secret: str, host: str, port: int) -> None:
    s = server(app, signing_secret, host, port)
    # waitress gives effective_port as it was asked for (a str when given one): %s, not %d
    log.warning("serving Slack requests on http://%s:%s/slack/events (health: /healthz; archive pages: /)",
                host, s.effective_port)
    s.run()


def serve_pages(app: App, host: str, port: int):
    """The archive's pages beside Socket Mode, in a thread of their own; returns the server."""
    import threading

    s = server(app, None, host, port)
    threading.Thread(target=s.run, daemon=True, name="archivist-web").start()
    log.warning("serving the archive's pages on http://%s:%s/", host, s.effective_port)
    return s
