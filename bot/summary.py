"""`/summarize <url | id | words>`: find the article, then summarise it. No Slack types here."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.answer import clean_question
from index.records import Closest, Sentence, Summary, SummaryReply
from index.searching.search import Searcher
from index.reading.sources import url_id
from index.searching.summarize import summarize
from index.reading.urls import normalize_url

CLOSE = 0.75  # other articles with at least this share of the best fused score are offered as "did you mean"
USAGE = "Give me a link, an article id or a few words, e.g. /summarize IBM facial recognition"
_ID = re.compile(r"^[0-9a-f]{12}$")
_URLISH = re.compile(r"^(https?://|www\.)\S+$|^[\w-]+(\.[\w-]+)+/\S*$", re.I)
_SLACK_URL = re.compile(r"^<((?:https?://)[^|>]+)(?:\|[^>]*)?>$")


def find(query: str, searcher: Searcher) -> tuple[str | None, tuple[Closest, ...], str]:
    """(article id, did-you-mean alternatives, error) for a URL, an article id or words."""
    raw = query.strip()
    m = _SLACK_URL.match(raw)
    if m:
        raw = m.group(1)
    store = searcher.store
    if _ID.match(raw) and store.article(raw):
        return raw, (), ""
    by_record = store.articles_with_record(raw) if raw and " " not in raw else []
    if len(by_record) == 1:  # an export's own id (a CMS id): unique, so it names one article
        return by_record[0], (), ""
    if _URLISH.match(raw):
        found = _by_url(raw, searcher)
        return (found, (), "") if found else (None, (), f"No article in the archive has the link {raw}")
    words = clean_question(raw)
    if not re.search(r"\w", words):
        return None, (), USAGE
    hits = searcher.search(words)
    best: dict[str, float] = {}
    first: dict[str, object] = {}
    for h in hits:
        if h.similarity >= searcher.settings.min_similarity and h.article_id not in best:
            best[h.article_id], first[h.article_id] = h.score, h
    if not best:
        return None, (), f"No article in the archive matches “{words}”"
    ranked = sorted(best, key=lambda a: -best[a])
    top = ranked[0]
    close = tuple(Closest(a, first[a].title, first[a].url, first[a].published)
                  for a in ranked[1:4] if best[a] >= CLOSE * best[top])
    return top, close, ""


def _by_url(url: str, searcher: Searcher) -> str | None:
    """Exactly, then normalised: scheme, www., trailing slash, tracking parameters, web-archive wrappers."""
    store = searcher.store
    exact = store.articles_with_url(url)
    if exact:
        return exact[0]
    key = normalize_url(url)
    by_id = url_id(url)  # an article with a URL and no export id has its id from the URL
    if store.article(by_id):
        return by_id
    try:
        tail = [p for p in urlsplit("http://" + key).path.split("/") if p]
    except ValueError:  # too broken to split (an unclosed IPv6 bracket): only the exact forms above could match
        return None
    fragment = tail[-1] if tail else key
    for article_id, candidate in store.urls_containing(fragment):
        if normalize_url(candidate) == key:
            return article_id
    return None


def summary(query: str, searcher: Searcher, n: int) -> SummaryReply:
    searcher.refresh()
    article_id, close, error = find(query, searcher)
    if error:
        return SummaryReply(query=query.strip(), error=error)
    a = searcher.store.article(article_id)
    spans = summarize(a.text, searcher.embedder, n)
    return SummaryReply(
        query=query.strip(), did_you_mean=close,
        summary=Summary(article_id=a.article_id, title=a.title, url=a.url, published=a.published, site=a.site,
                        sentences=tuple(Sentence(a.text[s:e], s, e) for s, e in spans), source=a.source, record=a.record))
