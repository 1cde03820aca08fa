"""A waitress server that slow clients cannot fill: each request must arrive within REQUEST_SECONDS
of its first byte, and a new connection pushes out the oldest one still sending its request when
its address holds too many such, or when the server is at CONNECTION_LIMIT.

waitress closes connections that are idle, but one trickling a byte a second is never idle: 1,100 of
them held every connection slot for as long as they liked, and /healthz and Slack's events timed
out. Connections busy with a request (being answered, or writing the answer) are never pushed out.
"""
from __future__ import annotations

import time

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

REQUEST_SECONDS = 10  # a request's headers and body arrive within this of its first byte (Slack's take ms)
CONNECTION_LIMIT = 1000  # open connections; waitress's default of 100 is used up by 100 slow clients
PER_ADDRESS_WAITING = 50  # connections of one address still sending a request, or idle, at most
CLEANUP_INTERVAL = 2  # how often deadlines are checked


class _Channel(HTTPChannel):
    """A connection that knows since when it has been sending the request it has not finished."""

    def __init__(self, *args, **kw):
        self.opened = time.monotonic()
        self.began: float | None = None  # when the request still being received began
        super().__init__(*args, **kw)

    def received(self, data) -> bool:
        ok = super().received(data)
        if self.request is None:
            self.began = None
        elif self.began is None:
            self.began = time.monotonic()
        return ok

    def waiting(self) -> bool:
        """Not being answered: idle, or still sending its request."""
        return not self.requests and not self.total_outbufs_len and not self.will_close

    def since(self) -> float:
        return self.began if self.began is not None else self.opened


class GuardedServer(TcpWSGIServer):
    channel_class = _Channel

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle for channel_timeout: closed
        late = time.monotonic() - REQUEST_SECONDS
        for channel in list(self.active_channels.values()):
            if channel.began is not None and channel.began < late and not channel.requests:
                channel.will_close = True

    def handle_accept(self) -> None:
        before = set(self.active_channels)
        super().handle_accept()
        new = [ch for fd, ch in self.active_channels.items() if fd not in before]
        if not new:
            return
        channel = new[0]
        waiting = [ch for ch in self.active_channels.values() if ch is not channel and ch.waiting()]
        same = [ch for ch in waiting if ch.addr[:1] == channel.addr[:1]]
        # closed here, in the loop's own thread, between polls: no task is using a waiting connection
        if len(same) >= PER_ADDRESS_WAITING:
            min(same, key=_Channel.since).handle_close()
        elif len(self.active_channels) > CONNECTION_LIMIT:
            if waiting:
                min(waiting, key=_Channel.since).handle_close()
            else:  # every connection is being answered: the new one is turned away
                channel.handle_close()


def create(application, host: str, port: int, threads: int, **settings) -> GuardedServer:
    """waitress's create_server for one TCP address, with the guarded server and connections."""
    # waitress's own limit stays above ours as a backstop; ours makes room instead of refusing
    # poll, not select: select() fails outright once a descriptor passes 1023
    adj = Adjustments(host=host, port=port, threads=threads, connection_limit=CONNECTION_LIMIT + 100,
                      cleanup_interval=CLEANUP_INTERVAL, asyncore_use_poll=True, **settings)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    return GuardedServer(application, {}, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])
