"""URL normalisation, shared by article ids and URL look-ups. Nothing here raises on a bad URL."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|ref|ref_src|smid|guccounter)$", re.I)
_WAYBACK = re.compile(r"^https?://(?:web\.)?archive\.org/web/\d+[a-z_]*/(.+)$", re.I)
_UNSAFE = re.compile(r"[\x00-\x20\x7f<>|]")  # would break a Slack link <url|title> or a terminal line


def normalize_url(url: str) -> str:
    """A canonical form: no archive wrapper, scheme, www., fragment, tracking parameters or trailing slash.
    A URL too broken to split (a bad port, an unclosed IPv6 bracket) is kept as given, lower-cased."""
    url = url.strip()
    m = _WAYBACK.match(url)
    if m:
        url = m.group(1)
        if not re.match(r"^[a-z]+:", url, re.I):
            url = "http://" + url
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.lower()
    if host.startswith("www."):
        host = host[4:]
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)))
    path = parts.path.rstrip("/")
    return urlunsplit(("", host, path, query, "")).lstrip("/")


MAX_URL = 8192  # browsers and servers refuse longer; no article's link is
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")  # a % that starts no escape: not a URL a browser can follow


def web_url(url: str) -> str:
    """The URL if it is a link a reader can follow (http or https, a host, a valid port), else ''.
    Articles keep only such links: a `javascript:` URL from a hostile page must never become a link."""
    url = url.strip()
    if not url or len(url) > MAX_URL or _UNSAFE.search(url) or _BAD_ESCAPE.search(url):
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:
        return ""
    host = parts.hostname or ""
    if len(host) > 253 or any(not 0 < len(label) <= 63 for label in host.split(".")):  # DNS's own limits
        return ""
    return url if parts.scheme.lower() in ("http", "https") else ""


def site_of(url: str) -> str:
    """The host, without www.: the one name a site has whichever format its articles came in."""
    try:
        host = (urlsplit(url).hostname or "").lower() if url else ""
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host
