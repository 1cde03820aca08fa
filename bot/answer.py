"""A question in, an `Answer` record out: the passages of the archive that answer it, each with a
verified verbatim quote, or an honest "nothing in the archive" with the closest titles.

No Slack types here: the Slack side and `archivist ask` both render the same record.
"""
from __future__ import annotations

import html
import logging
import re
from dataclasses import replace

import numpy as np

from index import filters as filtermod
from index.config import SearchSettings
from index.filters import FilterError
from index.quotes import choose, lexical, sentence_spans, stems
from index.records import Answer, Closest, Hit, Passage
from index.search import Searcher, query_terms
from index.store import filter_sql

log = logging.getLogger("archivist.answer")

MAX_QUERY_CHARS = 1000  # the encoder reads 256 tokens at most; more text only slows the keyword side
CLEARLY_BETTER = 1.25  # a second passage of one article beats the next article's best by this factor
MAX_PER_ARTICLE = 2
DUPLICATE_JACCARD = 0.5  # word 5-gram overlap above which two articles are one story saved twice
DUPLICATE_SCAN = 12  # articles checked for copies of each other
ABSTAIN_SCAN = 10  # hits whose evidence decides whether the archive answers at all
LEXICAL_EVIDENCE = 0.5
EMPTY_QUESTION = "Ask me something about the archive, for example: why did IBM quit facial recognition?"

_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SLACK_TOKEN = re.compile(r"<[@#!][^>]*>")


def clean_question(raw: str) -> str:
    """Plain text from a Slack message: mentions dropped, links to their labels, entities decoded."""
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), raw)
    text = _SLACK_TOKEN.sub(" ", text)
    return " ".join(html.unescape(text).split())


def answer(question: str, searcher: Searcher, settings: SearchSettings | None = None, k: int | None = None,
           offset: int = 0) -> Answer:
    settings = settings or searcher.settings
    k = k or settings.top_k
    text = clean_question(question)
    try:
        query, filters = filtermod.parse(text)
    except FilterError as e:
        return Answer(question=text, error=f"That filter doesn't work: {e}.")
    searcher.refresh()  # a newly published index answers this question, with its date and counts
    where = filter_sql(filters)
    base = Answer(question=text, query=query, filters=filters.describe(),
                  articles_searched=searcher.store.count_articles(where) if where else searcher.articles,
                  index_date=searcher.meta.get("built_at", "")[:10])
    if not re.search(r"\w", query):
        return replace(base, error=EMPTY_QUESTION)
    query = query[:MAX_QUERY_CHARS]
    qvec = searcher.encode_query(query)
    hits = searcher.search(query, filters, qvec=qvec)
    groups = _group(hits)
    articles = searcher.store.articles([aid for aid in list(groups)[:DUPLICATE_SCAN]])
    copies = _fold_copies(groups, articles)
    query_stems = stems(query_terms(query))
    if best_evidence(hits, query_stems) < settings.min_evidence:
        closest = tuple(Closest(h.article_id, h.title, h.url, h.published) for h in (g[0] for g in groups.values()))
        return replace(base, abstained=True, closest=closest[:3])
    # an article far from the question is no answer, however it ranked on words alone
    relevant = {aid: hs for aid, hs in groups.items() if max(h.similarity for h in hs) >= settings.min_similarity}
    chosen = _select(relevant, offset + k + 1)
    page = chosen[offset:offset + k]
    articles.update(searcher.store.articles([h.article_id for h in page if h.article_id not in articles]))
    passages = _quotes(page, articles, qvec, query_stems, searcher, settings.max_quote_chars, copies)
    return replace(base, passages=tuple(passages), more=len(chosen) > offset + k)


def best_evidence(hits: list[Hit], query_stems: set[str]) -> float:
    """How well the archive answers: the best passage's cosine with the question plus half the share
    of the question's terms it holds (title included). Meaning alone lets a news archive "answer"
    scientific claims at cosine 0.4; asking for the words too separates them (bench/retrieval.py)."""
    return max((h.similarity + LEXICAL_EVIDENCE * lexical(f"{h.title} {h.text}", query_stems)
                for h in hits[:ABSTAIN_SCAN]), default=0.0)


def _group(hits: list[Hit]) -> dict[str, list[Hit]]:
    """Hits by article, articles in the order of their best hit."""
    groups: dict[str, list[Hit]] = {}
    for h in hits:
        groups.setdefault(h.article_id, []).append(h)
    return groups


def _shingles(text: str) -> set[int]:
    words = re.findall(r"\w+", text.lower())[:3000]
    return {hash(tuple(words[i:i + 5])) for i in range(max(1, len(words) - 4))}


def _fold_copies(groups: dict[str, list[Hit]], articles: dict) -> dict[str, int]:
    """Fold near-identical articles into the first (best-ranked) of them; returns copies per kept article."""
    kept: list[tuple[str, set[int]]] = []
    copies: dict[str, int] = {}
    for aid in list(groups)[:DUPLICATE_SCAN]:
        if aid not in articles:
            continue
        sh = _shingles(articles[aid].text)
        twin = next((k for k, ks in kept if len(sh & ks) / max(1, len(sh | ks)) >= DUPLICATE_JACCARD), None)
        if twin is None:
            kept.append((aid, sh))
            copies[aid] = 1
        else:
            copies[twin] += 1
            del groups[aid]
    return copies


def _select(groups: dict[str, list[Hit]], n: int) -> list[Hit]:
    """One passage per article, unless an article's second passage clearly beats the next article."""
    order = list(groups.values())
    out: list[Hit] = []
    for i, hs in enumerate(order):
        out.append(hs[0])
        nxt = order[i + 1][0].score if i + 1 < len(order) else 0.0
        out.extend(h for h in hs[1:MAX_PER_ARTICLE] if h.score > CLEARLY_BETTER * nxt)
        if len(out) >= n:
            break
    return out[:n]


def _quotes(page: list[Hit], articles: dict, qvec: np.ndarray, query_stems: set[str], searcher: Searcher,
            max_chars: int, copies: dict[str, int]) -> list[Passage]:
    spans = [sentence_spans(articles[h.article_id].text, h.start, h.end) for h in page]
    texts = [articles[h.article_id].text[s:e] for h, sp in zip(page, spans) for s, e in sp]
    sims = searcher.embedder.encode(texts) @ qvec if texts else np.zeros(0)
    out, i = [], 0
    for h, sp in zip(page, spans):
        article = articles[h.article_id]
        if not sp:
            continue
        q = choose(article.text, sp, sims[i:i + len(sp)], query_stems, max_chars)
        i += len(sp)
        quote = article.text[q.start:q.end]
        if h.text != article.text[h.start:h.end] or not (h.start <= q.start < q.end <= h.end) or not quote.strip():
            log.error("quote is not an exact substring of article %s (chunk %d, %d-%d); dropped",
                      h.article_id, h.chunk_id, q.start, q.end)
            continue
        out.append(Passage(
            article_id=h.article_id, title=article.title, url=article.url, published=article.published,
            site=article.site, quote=quote, start=q.start, end=q.end, chunk_id=h.chunk_id, score=round(h.score, 4),
            cut_before=q.cut_before, cut_after=q.cut_after, copies=copies.get(h.article_id, 1)))
    return out
