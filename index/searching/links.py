"""Links to a quote: on the original page (a text fragment the browser scrolls to and highlights) and
to Archivist's own archived copy (signed, with an expiry, so it opens for whoever received it and
cannot be forged or turned to another article). Pure functions; the secret comes from the caller.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from index.storing.store import StoreError

FRAGMENT_WORDS = 4  # words at each end of a long quote that the text directive names
_ID = re.compile(r"[0-9a-f]{12}")


def _directive_part(text: str) -> str:
    # URL Fragment Text Directives: percent-encode everything but unreserved characters, and "-", ","
    # and "&" too, which the directive's own syntax uses
    return quote(text, safe="").replace("-", "%2D")


def text_fragment(url: str, quoted: str) -> str:
    """`url#:~:text=start,end`: a long quote is named by its first and last words (textStart,textEnd),
    a short one whole. An existing fragment is kept in front of the directive, as the spec allows."""
    words = quoted.split()
    if not url or not words:
        return url
    if len(words) <= 2 * FRAGMENT_WORDS:
        directive = _directive_part(" ".join(words))
    else:
        directive = (_directive_part(" ".join(words[:FRAGMENT_WORDS])) + ","
                     + _directive_part(" ".join(words[-FRAGMENT_WORDS:])))
    base, _, fragment = url.partition("#")
    return f"{base}#{fragment.split(':~:', 1)[0]}:~:text={directive}"


def source_targets(url: str, archived: str, quoted: str = "") -> tuple[str, str]:
    """(what the title links, the archived-copy link shown beside it or ''): the original, scrolled to
    the quote, else the archived copy; beside an original, the copy that cannot rot."""
    original = text_fragment(url, quoted) if url and quoted else url
    return original or archived, archived if archived and original else ""


@dataclass(frozen=True)
class Signer:
    """Signs and checks archived-copy links: HMAC-SHA256 over the article id, the quoted range and the
    expiry time. `public_url` empty means no archived-copy links are made."""

    secret: bytes
    public_url: str = ""
    days: int = 30

    def _mac(self, article_id: str, span: str, expires: int) -> str:
        msg = f"{article_id}\n{span}\n{expires}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()[:32]

    def path(self, article_id: str, start: int | None = None, end: int | None = None, now: float | None = None) -> str:
        """`/a/<id>?q=start-end&exp=..&sig=..#quote`: relative, for pages of this server."""
        span = f"{start}-{end}" if start is not None and end is not None else ""
        expires = int((time.time() if now is None else now) + self.days * 86400)
        query = {"q": span} if span else {}
        query |= {"exp": str(expires), "sig": self._mac(article_id, span, expires)}
        return f"/a/{article_id}?{urlencode(query)}" + ("#quote" if span else "")

    def url(self, article_id: str, start: int | None = None, end: int | None = None, now: float | None = None) -> str:
        """The full archived-copy link, or '' when no public address is configured."""
        if not self.public_url:
            return ""
        return self.public_url.rstrip("/") + self.path(article_id, start, end, now)

    def check(self, article_id: str, span: str, expires: str, sig: str, now: float | None = None) -> str:
        """'' when the link is good, else why not (for the log; the page only says 403)."""
        # ASCII digits only: "²".isdigit() holds, and int() of 5,000 digits raises
        if (not _ID.fullmatch(article_id) or not re.fullmatch(r"(\d{1,9}-\d{1,9})?", span, re.ASCII)
                or not re.fullmatch(r"\d{1,12}", expires, re.ASCII)):
            return "malformed"
        if not hmac.compare_digest(self._mac(article_id, span, int(expires)).encode(), sig.encode()):
            return "bad signature"
        if int(expires) < (time.time() if now is None else now):
            return "expired"
        return ""


def span_of(span: str) -> tuple[int, int] | None:
    """(start, end) of a checked `q` value, or None."""
    if not span:
        return None
    start, end = (int(x) for x in span.split("-"))
    return (start, end) if start < end else None


SECRET_FILE = "link-secret"


def index_signer(cfg) -> Signer:
    """The signer of a config's index: its key (load_secret), [web] public_url and link_days."""
    return Signer(load_secret(cfg.index_dir()), cfg.web.public_url, cfg.web.link_days)


MIN_SECRET_BYTES = 16  # an HMAC key shorter than this can be guessed; an empty one lets anyone sign


class LinkKeyError(StoreError):
    """The index's link key (or $ARCHIVIST_LINK_SECRET) is there but no key: one line says what to do."""


def _key(path: Path) -> bytes:
    """The key a link-secret file holds, refused when it is not one: every link would then be
    forgeable (an empty key) or the file was damaged. A new key is not made in its place: links that
    replicas and old messages hold would silently stop working."""
    try:
        key = bytes.fromhex(path.read_text(errors="replace").strip())
    except ValueError:
        why = "it is not hexadecimal"
    else:
        if len(key) >= MIN_SECRET_BYTES:
            return key
        why = f"it holds {len(key)} bytes, under {MIN_SECRET_BYTES}" if key else "it is empty"
    raise LinkKeyError(f"{path} is not a link key ({why}): restore it from a replica's copy, or delete it to make a "
                       "new one (archived-copy links already shared then stop working)")


def load_secret(index_dir: Path) -> bytes:
    """The signing secret: $ARCHIVIST_LINK_SECRET, else a random one made once and kept beside the
    index, readable by its owner only (so links keep working across restarts and replicas)."""
    env = os.environ.get("ARCHIVIST_LINK_SECRET", "")
    if env:
        if len(env.encode()) < MIN_SECRET_BYTES:
            raise LinkKeyError(f"ARCHIVIST_LINK_SECRET is {len(env.encode())} bytes long; a link key needs "
                               f"{MIN_SECRET_BYTES} at least (unset it to use the index's own key)")
        return env.encode()
    path = index_dir / SECRET_FILE
    try:
        return _key(path)
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(32)
    tmp = path.with_name(f"{SECRET_FILE}.{os.getpid()}.tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(secret.hex())
    try:
        os.link(tmp, path)  # the first writer wins; a concurrent one reads the winner's secret
    except FileExistsError:
        secret = _key(path)
    finally:
        os.unlink(tmp)
    return secret
