"""URL normalisation, shared by article ids and URL look-ups."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|ref|ref_src|smid|guccounter)$", re.I)
_WAYBACK = re.compile(r"^https?://(?:web\.)?archive\.org/web/\d+[a-z_]*/(.+)$", re.I)


def normalize_url(url: str) -> str:
    """A canonical form: no archive wrapper, scheme, www., fragment, tracking parameters or trailing slash."""
    url = url.strip()
    m = _WAYBACK.match(url)
    if m:
        url = m.group(1)
        if not re.match(r"^[a-z]+:", url, re.I):
            url = "http://" + url
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)))
    path = parts.path.rstrip("/")
    return urlunsplit(("", host, path, query, "")).lstrip("/")


def site_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower() if url else ""
    return host[4:] if host.startswith("www.") else host
