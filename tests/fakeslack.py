"""A local stand-in for Slack's side of the wire, for tests and the load benchmark.

- `FakeSlack`: an HTTP server on loopback that answers Slack Web API methods (/api/METHOD) and
  response_url posts (/response/ID), records every call, and can be told to answer 429 with
  Retry-After, or 500, a number of times;
- `SocketModeServer`: a WebSocket server speaking Socket Mode's envelope protocol (hello, envelopes
  with envelope_id and retry_attempt, acks);
- `signed`: headers for a request signed exactly as Slack signs them.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOT_USER = "UARCHIVIST"
TEAM = "T0TEAM"


@dataclass
class Call:
    method: str  # Web API method, or "response_url"
    args: dict
    headers: dict
    at: float = field(default_factory=time.monotonic)


def signed(body: str, secret: str, timestamp: int | None = None) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


class FakeSlack:
    def __init__(self):
        self.calls: list[Call] = []
        self.failures: dict[str, list[tuple[int, dict]]] = {}
        self.ws_url = ""
        self.members: dict[str, list[str]] = {}  # channel -> its members (conversations.members)
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                ctype = self.headers.get("Content-Type", "")
                if "json" in ctype:
                    args = json.loads(body or "{}")
                else:
                    args = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
                    for k in ("blocks", "attachments"):
                        if isinstance(args.get(k), str):
                            args[k] = json.loads(args[k])
                path = self.path.split("?")[0]
                method = "response_url" if path.startswith("/response/") else path.rsplit("/", 1)[-1]
                status, extra_headers, payload = fake._respond(method, args)
                with fake._lock:
                    fake.calls.append(Call(method, {**args, "_path": path, "_status": status}, dict(self.headers)))
                    fake._lock.notify_all()
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in extra_headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = self.url + "/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail(self, method: str, status: int, times: int = 1, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.failures.setdefault(method, []).extend([(status, headers)] * times)

    def _respond(self, method: str, args: dict) -> tuple[int, dict, dict]:
        queue = self.failures.get(method)
        if queue:
            status, headers = queue.pop(0)
            return status, headers, {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
        if method == "auth.test":
            return 200, {}, {"ok": True, "user_id": BOT_USER, "bot_id": "BARCHIVIST", "team_id": TEAM,
                             "user": "archivist", "url": "https://example.slack.com/"}
        if method == "apps.connections.open":
            return 200, {}, {"ok": True, "url": self.ws_url}
        if method in ("chat.postMessage", "chat.update"):
            ts = f"{1700000000 + next(self._ts)}.000100"
            args["_ts"] = ts  # recorded with the call: conversations.history shows it
            return 200, {}, {"ok": True, "channel": args.get("channel"), "ts": ts,
                             "message": {"text": args.get("text", "")}}
        if method == "conversations.history":
            return 200, {}, {"ok": True, "has_more": False, "messages": self.history(args.get("channel"))}
        if method == "conversations.members":
            # pages of two, as Slack pages long lists: the client must follow next_cursor
            members = self.members.get(args.get("channel"), [])
            start = int(args.get("cursor") or 0)
            nxt = str(start + 2) if start + 2 < len(members) else ""
            return 200, {}, {"ok": True, "members": members[start:start + 2],
                             "response_metadata": {"next_cursor": nxt}}
        if method == "chat.postEphemeral":
            return 200, {}, {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}
        return 200, {}, {"ok": True}

    def history(self, channel: str) -> list[dict]:
        """The messages posted to a channel, newest first, with their metadata as Slack returns it."""
        with self._lock:
            posts = [c.args for c in self.calls if c.method == "chat.postMessage" and c.args.get("channel") == channel
                     and c.args["_status"] == 200]
        out = []
        for a in reversed(posts):
            meta = a.get("metadata")
            m = {"type": "message", "ts": a["_ts"], "text": a.get("text", "")}
            if meta:
                m["metadata"] = json.loads(meta) if isinstance(meta, str) else meta
            out.append(m)
        return out

    def of(self, method: str, ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (not ok_only or c.args["_status"] == 200)]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0, where=lambda c: True) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self.calls if c.method == method and c.args["_status"] == 200 and where(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"waited {timeout}s for {count} {method} call(s); got {len(found)}: "
                                         f"{[c.method for c in self.calls]}")
                self._lock.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SocketModeServer:
    """Speaks Socket Mode: sends hello, then the envelopes it is given; records the client's acks."""

    def __init__(self):
        import websockets

        self.acks: list[dict] = []
        self._clients: set = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._cond = threading.Condition()

        async def handler(ws):
            self._clients.add(ws)
            await ws.send(json.dumps({"type": "hello", "num_connections": 1,
                                      "connection_info": {"app_id": "AARCHIVIST"}}))
            try:
                async for message in ws:
                    doc = json.loads(message)
                    with self._cond:
                        self.acks.append(doc)
                        self._cond.notify_all()
            except websockets.ConnectionClosed:
                pass
            finally:
                self._clients.discard(ws)

        async def start():
            self._server = await websockets.serve(handler, "127.0.0.1", 0)
            self.url = f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/link"
            self._ready.set()

        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(start(), self._loop)
        self._ready.wait(10)

    def connected(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while not self._clients and time.monotonic() < deadline:
            time.sleep(0.05)
        return bool(self._clients)

    def send(self, envelope: dict) -> None:
        async def push():
            for ws in list(self._clients):
                await ws.send(json.dumps(envelope))
        asyncio.run_coroutine_threadsafe(push(), self._loop).result(10)

    def wait_ack(self, envelope_id: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for a in self.acks:
                    if a.get("envelope_id") == envelope_id:
                        return a
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no ack for {envelope_id}")
                self._cond.wait(left)

    def close(self) -> None:
        async def stop():
            self._server.close()
            await self._server.wait_closed()
        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
