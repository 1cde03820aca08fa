"""A question in, an `Answer` record out, in one of three states:

- `answered`: passages whose quotes hold what was asked (who → a name, when → a date, ...);
- `related`: articles on the subject, none holding the asked-for fact (shown as such);
- `nothing`: the archive has nothing on it; the closest titles instead.

The pipeline: search (dense + keyword, fused) → chunks grouped by article, copies folded → the
sentences of the best articles become candidates, each described by a few features (index/searching/evidence.py)
and scored by a fitted logistic regression → one passage per article, quoting the sentence most likely
to answer → the state. A follow-up in a thread is read with the thread's earlier questions and the
articles they cited. No Slack types here: the Slack side and `archivist ask` render the same record.
"""
from __future__ import annotations

import html
import logging
import math
import re
from dataclasses import dataclass, replace

import numpy as np

from index.searching import evidence
from index.searching import filters as filtermod
from index.config import SearchSettings
from index.searching.filters import FilterError
from index.searching.quotes import choose, sentence_spans
from index.reader.model import passage
from index.records import ANSWERED, ERROR, NOTHING, RELATED, Answer, Closest, Hit, Passage, Thread
from index.searching.search import Searcher
from index.storing.store import filter_sql

log = logging.getLogger("archivist.answer")

MAX_QUERY_CHARS = 1000  # the encoder reads 256 tokens at most; more text only slows the keyword side
DUPLICATE_JACCARD = 0.5  # word 5-gram overlap above which two articles are one story saved twice
DUPLICATE_SCAN = 12  # articles checked for copies of each other
CANDIDATE_ARTICLES = 6  # articles whose sentences compete to answer
DEEP_ARTICLES = 3  # of those, the best are read beyond their matching chunks: the answer may be elsewhere
DEEP_CHUNKS = 8  # ...up to this many chunks each, nearest to the best match first
ENCODED_FIRST = 2  # sentences of the likeliest article the model reads at question time (cheap features choose)
ENCODED_OTHERS = 1  # ...and of each other article the page can show (their second passages rarely show)
# with a reader, for a question: sentences of the likeliest article that it and the model read (all it could
# quote, as a rule: its candidates are the sentences of at most DEEP_CHUNKS chunks), and of each other
# article the page can show; bench/fit_reader.py --fold prints how often the right sentence is chosen per N
READ_FIRST = 16
READ_OTHERS = 2
LIKELY_QUOTE = 0.2  # a sentence this likely to hold the answer is a sure pick; below it, a guess
CLOSE_TO_BEST = 0.7  # an article under min_evidence is still shown when this close to the best one
EVIDENCE_TERMS = 0.5  # topic evidence: cosine + this × the share of the question's rare words the article holds
NEARLY = 0.8  # an unsure first article's second guess joins its first when at least this much as likely
CLEARLY = 2.0  # an article's further passage comes before later articles when this many times as likely as each
SECOND_FLOOR = 0.05  # ...and at least this likely to hold the answer (chosen on XQuAD: bench/tune_second.py)
# the same two on the scale of the reader's probabilities (evidence.READ), chosen on the dev sets (tune_second.py)
READ_CLEARLY = 1.0
READ_SECOND_FLOOR = 0.02
PER_ARTICLE = 3  # passages of one article at most
QUOTE_REACH = 600  # characters: two sentences of one chunk this far apart start different quotes
THREAD_WEIGHT = 0.5  # a thread's earlier words count half as much as the follow-up's own
EMPTY_QUESTION = "Ask me something about the archive, for example: why did IBM quit facial recognition?"

_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SLACK_TOKEN = re.compile(r"<[@#!][^>]*>")
# words that point back into the conversation: "what did he say next?", "what about Sweden?"
_POINTS_BACK = re.compile(r"\b(he|she|it|they|him|her|them|his|hers|its|their|theirs|next|else|former|latter)\b|"
                          r"^(and|but|so|what about|how about)\b", re.I)


def clean_question(raw: str) -> str:
    """Plain text from a Slack message: mentions dropped, links to their labels, entities decoded."""
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), raw)
    text = _SLACK_TOKEN.sub(" ", text)
    return " ".join(html.unescape(text).split())


@dataclass(frozen=True)
class Turn:
    """How one question is read: what is searched, what a quote must answer, and the thread's part."""

    question: evidence.Question
    search: str  # the text searched: the question, with the thread's earlier questions for a follow-up
    follow_up: bool = False
    cited: tuple[str, ...] = ()  # articles the thread already quoted, latest first


@dataclass(frozen=True)
class Reading:
    """A candidate sentence, in the chunk it would be quoted from, and what its features are made of."""

    hit: Hit
    span: tuple[int, int]
    text: str
    stems: tuple[str, ...]  # its own, as the index stems them
    context: frozenset[str]  # its, its neighbours' and the title's
    article: frozenset[str]  # those of the whole article as read
    local: dict[str, float]  # each stem's rarity among the article's sentences (shared by them)

    def features(self, q: evidence.Question, cosine: float | None = None) -> list[float]:
        """Without the sentence's own cosine, its chunk's stands in (the cheap features)."""
        return evidence.features(q, self.text, list(self.stems), self.context, self.article,
                                 self.hit.similarity if cosine is None else cosine, self.span[0], self.hit.similarity,
                                 self.local)


@dataclass(frozen=True)
class Candidate:
    """A candidate sentence with its fitted chance of holding the answer."""

    reading: Reading
    probability: float
    read: float | None = None  # the reader's logit, for the sentences it read

    @property
    def hit(self) -> Hit:
        return self.reading.hit

    @property
    def span(self) -> tuple[int, int]:
        return self.reading.span


def answer(question: str, searcher: Searcher, settings: SearchSettings | None = None, k: int | None = None,
           offset: int = 0, thread: Thread | None = None, within: tuple[str, ...] = ()) -> Answer:
    """The answer to a question; `within` restricts it to those articles (a watch reads a build's new ones)."""
    settings = settings or searcher.settings
    k = k or settings.top_k
    text = clean_question(question)
    try:
        query, filters = filtermod.parse(text)
    except FilterError as e:
        return Answer(question=text, status=ERROR, error=f"That filter doesn't work: {e}.")
    if within:
        filters = replace(filters, articles=within)
    searcher.refresh()  # a newly published index answers this question, with its date and counts
    where = filter_sql(filters)
    base = Answer(question=text, query=query, filters=filters.describe(),
                  articles_searched=searcher.store.count_articles(where) if where else searcher.articles,
                  index_date=searcher.meta.get("built_at", "")[:10])
    if not re.search(r"\w", query):
        return replace(base, status=ERROR, error=EMPTY_QUESTION)
    if where and not base.articles_searched:
        return replace(base, status=NOTHING)  # the filters leave nothing to search (Answer.filtered_out)
    turn = read_turn(query[:MAX_QUERY_CHARS], thread, searcher)
    base = replace(base, follow_up=turn.follow_up)
    qvec = searcher.encode_query(turn.search)
    hits = searcher.search(turn.search, filters, qvec=qvec)
    groups = _group(hits)
    if turn.follow_up:
        groups = _cited_first(groups, turn.cited)
    articles = searcher.store.articles(list(groups)[:DUPLICATE_SCAN])
    copies = _fold_copies(groups, articles)
    order = list(groups)[:max(CANDIDATE_ARTICLES, offset + k + 1)]
    articles.update(searcher.store.articles([aid for aid in order if aid not in articles]))
    readings, topic = read(turn.question, {aid: groups[aid] for aid in order}, articles, searcher, qvec)
    base = replace(base, evidence=round(max((t for t, _ in topic.values()), default=0.0), 4))
    # an article with little to do with the question is not shown: under min_evidence and well under the
    # best article; nor is one far from it in meaning that lacks most of its rare words (a name asked
    # about may be all it shares). One that holds every rare word of the question ("who is Clare
    # Garvie?") is about it, however far its sentences are in meaning: never "nothing".
    named = _naming(turn.question, readings, searcher)
    best = max((t for t, _ in topic.values()), default=0.0)
    order = [aid for aid in order if aid in topic and (aid in named or best >= settings.min_evidence
             and (topic[aid][0] >= settings.min_evidence or topic[aid][0] >= CLOSE_TO_BEST * best)
             and (max(h.similarity for h in groups[aid]) >= settings.min_similarity or topic[aid][1] >= 0.5))]
    if not order:
        closest = tuple(Closest(h.article_id, h.title, h.url, h.published) for h in (g[0] for g in groups.values()))
        return replace(base, status=NOTHING, closest=closest[:3])
    # the model reads sentences only of the articles this page can show; the rest keep their cheap scores
    candidates = score(turn.question, readings, searcher, qvec, order[:offset + k])
    chosen = select(order, candidates, evidence.asks(query))
    page = chosen[offset:offset + k]
    passages = _distinct([p for p in (_passage(c, candidates, articles[c.hit.article_id], turn.question, settings,
                                               copies, topic[c.hit.article_id][0]) for c in page) if p])
    likely = answerable(turn.question, chosen[:k], articles, topic, groups, searcher)
    verdict = reader_verdict(chosen[:k])
    says = likely >= settings.min_answer and (verdict is None or verdict >= settings.min_read)
    return replace(base, passages=tuple(passages), status=ANSWERED if says else RELATED,
                   answerable=round(likely, 3), read=None if verdict is None else round(verdict, 4),
                   more=len(chosen) > offset + k)


def replay(questions: list[str], searcher: Searcher, settings: SearchSettings | None = None) -> Thread:
    """The thread that these earlier questions leave, each answered as it was when asked."""
    thread = Thread()
    for q in questions:
        thread = thread.after(answer(q, searcher, settings, thread=thread))
    return thread


# --- reading the question ------------------------------------------------------------------------

def read_turn(query: str, thread: Thread | None, searcher: Searcher) -> Turn:
    """The question with its terms weighted by rarity. A follow-up also carries the thread's last two
    questions (their words at half weight) and the articles the thread cited, so that "how much did it
    cost?" is about the thread's subject. A question stands alone when it names something rare that
    the thread has not mentioned, without pointing back to it ("he", "what about ...")."""
    tokens = searcher.store.analyze([query])[0]
    own = _weigh(tokens, searcher)
    kind = evidence.question_kind(query)
    words = frozenset(w.lower() for w in re.findall(r"\w+", query))
    focus = frozenset(tokens[i] for i in evidence.focus_positions(query) if i < len(tokens))
    if not thread or not thread.questions:
        return Turn(evidence.Question(query, kind, own, words, focus), query)
    earlier = " ".join(thread.questions[-2:])
    before = _weigh(searcher.store.analyze([earlier])[0], searcher)
    if _new_subject(query, tokens, own, {s for s, _ in before}, thread, searcher) and not _POINTS_BACK.search(query):
        return Turn(evidence.Question(query, kind, own, words, focus), query)
    weights = dict(own)
    for stem, w in before:
        weights.setdefault(stem, THREAD_WEIGHT * w)
    words |= frozenset(w.lower() for w in re.findall(r"\w+", earlier))
    return Turn(evidence.Question(query, kind, tuple(weights.items()), words, focus), f"{query} {earlier}",
                follow_up=True, cited=thread.article_ids)


def _new_subject(query: str, tokens: list[str], own: tuple[tuple[str, float], ...], said: set[str], thread: Thread,
                 searcher: Searcher) -> bool:
    """Whether a question names something the thread has not: a word in under 5 % of the chunks that
    neither the thread's questions nor the articles it cited hold. In a question typed with capitals
    (its first word), only a name or a number names something ("the 2020 Nevada caucuses"); a plain noun ("who brought
    the lawsuit?", "who was the victim?") points back to the thread's subject."""
    common = _rare(searcher)
    surface = re.findall(r"[^\W_]+", query)  # as the index tokenizes, in the asker's case
    words = dict(zip(tokens, (w.lower() for w in surface)))  # stem -> the word it came from
    if query[:1].isupper():  # one who capitalizes a question's first word capitalizes names too
        naming = {st for i, (st, w) in enumerate(zip(tokens, surface)) if i and (w[0].isupper() or w[0].isdigit())}
        own = tuple((st, w) for st, w in own if st in naming)
    cited = list(thread.article_ids)
    return any(w > common and s not in said and not searcher.store.mentions(cited, words.get(s, s))
               for s, w in own)


def _naming(q: evidence.Question, readings: list[Reading], searcher: Searcher) -> set[str]:
    """The articles that hold every rare word of the question (each in under 5 % of the chunks), when
    it has any: a name, a place, a product asked about by name."""
    rare = [s for s, w in q.weights if w > _rare(searcher)]
    return {r.hit.article_id for r in readings if rare and all(s in r.article for s in rare)}


def _rare(searcher: Searcher) -> float:
    """The rarity above which a word names something: that of a word in 5 % of the chunks."""
    return evidence.idf(max(1, searcher.chunk_count // 20), searcher.chunk_count)


def _weigh(stems: list[str], searcher: Searcher) -> tuple[tuple[str, float], ...]:
    """(stem, rarity) of the content words among a text's stems, in order, without repeats."""
    stop = searcher.stop_stems()
    stems = [s for s in dict.fromkeys(stems) if s not in stop and len(s) > 1]
    df = searcher.store.doc_freqs(stems)
    n = max(1, searcher.chunk_count)
    return tuple((s, evidence.idf(df.get(s, 0), n)) for s in stems)


def _cited_first(groups: dict[str, list[Hit]], cited: tuple[str, ...]) -> dict[str, list[Hit]]:
    """A follow-up is most likely about what the thread already quoted: those articles go first."""
    first = {aid: groups[aid] for aid in cited if aid in groups}
    return first | {aid: hs for aid, hs in groups.items() if aid not in first}


# --- candidates ----------------------------------------------------------------------------------

def read(q: evidence.Question, groups: dict[str, list[Hit]], articles: dict, searcher: Searcher,
         qvec: np.ndarray) -> tuple[list[Reading], dict[str, tuple[float, float]]]:
    """The sentences of the given articles' chunks as candidates, and each article's topic evidence:
    how much it has to do with the question at all (its closeness plus half the share of the question's
    rare words it holds), with that share."""
    store = searcher.store
    found = []  # (article id, its chunks, its sentences in article order as (span, chunk))
    for i, (aid, hs) in enumerate(groups.items()):
        if aid in articles:
            hits = _chunks(aid, hs, articles[aid], store, qvec, deep=i < DEEP_ARTICLES)
            spans: dict[tuple[int, int], Hit] = {}
            for h in hits:
                for span in sentence_spans(articles[aid].text, h.start, h.end):
                    spans.setdefault(span, h)
            found.append((aid, hits, sorted(spans.items())))
    texts = [t for aid, _, sents in found
             for t in (articles[aid].title, *(articles[aid].text[s:e] for (s, e), _ in sents))]
    stems = iter(store.analyze(texts))
    out: list[Reading] = []
    topic: dict[str, tuple[float, float]] = {}
    for aid, hits, sents in found:
        text, title = articles[aid].text, frozenset(next(stems))
        own = [tuple(next(stems)) for _ in sents]
        whole = title.union(*own)
        local = evidence.local_rarity([set(st) for st in own])
        share = q.coverage(whole)
        topic[aid] = (max(h.similarity for h in hits) + EVIDENCE_TERMS * share, share)
        for i, ((span, h), st) in enumerate(zip(sents, own)):
            out.append(Reading(h, span, text[span[0]:span[1]], st, title.union(*own[max(0, i - 1):i + 2]), whole,
                               local))
    return out, topic


def score(q: evidence.Question, readings: list[Reading], searcher: Searcher, qvec: np.ndarray,
          shown: list[str] | None = None, first: int | None = None, others: int | None = None
          ) -> list[Candidate]:
    """Each candidate's chance of holding the answer. Cheap features rank every sentence; the model
    reads the best few of each article that may be shown (`shown`, likeliest first; None: every
    article, `first` each), which are then scored with their own cosine. For a question (not a
    topic), the reader reads those too, question and sentence (with its title) together, and its
    verdict joins the sentence model's (evidence.READ)."""
    reader = searcher.reader if evidence.asks(q.text) else None
    first = first if first is not None else READ_FIRST if reader else ENCODED_FIRST
    others = others if others is not None else READ_OTHERS if reader else ENCODED_OTHERS
    by_article: dict[str, list[tuple[float, Reading]]] = {}
    for r in readings:
        by_article.setdefault(r.hit.article_id, []).append((evidence.CHEAP.probability(r.features(q)), r))
    out, top = [], []
    for aid, rows in by_article.items():
        rows.sort(key=lambda x: -x[0])
        n = first if shown is None or shown[:1] == [aid] else others if aid in shown else 0
        top += [r for _, r in rows[:n]]
        out += [Candidate(r, p) for p, r in rows[n:]]
    if not top:
        return out
    # one call for every article's best few: one batch through the encoder, one through the reader
    sims = searcher.embedder.encode([r.text for r in top]) @ qvec
    if reader is None:
        return [Candidate(r, evidence.SENTENCE.probability(r.features(q, float(sim)))) for r, sim in zip(top, sims)] + out
    logits = reader.score(q.text, [passage(r.hit.title, r.text) for r in top])
    return [Candidate(r, evidence.READ.probability(evidence.read_features(
                evidence.SENTENCE.probability(r.features(q, float(sim))), float(z))), float(z))
            for r, sim, z in zip(top, sims, logits)] + out


def _chunks(aid: str, hits: list[Hit], article, store, qvec: np.ndarray, deep: bool) -> list[Hit]:
    """The article's matching chunks; for the best articles, also its other chunks near the best match."""
    if not deep:
        return hits
    have = {h.chunk_id for h in hits}
    others = [(cid, s, e) for cid, s, e in store.chunks_of(aid) if cid not in have]
    if not others:
        return hits
    best = hits[0]
    others.sort(key=lambda c: abs(c[1] - best.start))
    others = others[:max(0, DEEP_CHUNKS - len(hits))]
    vecs = store.vectors_of([cid for cid, _, _ in others])
    extra = [Hit(cid, aid, article.title, article.url, article.published, article.site, s, e, article.text[s:e],
                 score=0.0, similarity=float(np.dot(vecs[cid], qvec)) if cid in vecs else 0.0)
             for cid, s, e in others]
    return hits + extra


# --- choosing passages ---------------------------------------------------------------------------

def select(order: list[str], candidates: list[Candidate], question: bool = True) -> list[Candidate]:
    """One passage per article, in the search's order, each quoting its most likely answer; more
    articles beat more of the same one, with two exceptions for an article's next-best sentences
    (each from another chunk, or far enough from the ones picked that the quotes do not meet):
    - for a question (not a topic, where more articles serve better), a further sentence is a
      plausible answer (at least SECOND_FLOOR likely) and a good bet against anything further down:
      at least CLEARLY times as likely as every later article's best (the answer is often a sentence
      after a lead that restates the question, while the other articles only share its words); up
      to PER_ARTICLE passages so. Sentences the reader read are on its scale: READ_SECOND_FLOOR and
      READ_CLEARLY (1: the reader's next choice in an article comes before a later article's first
      when at least as likely);
    - the first article's best is unsure (under LIKELY_QUOTE) and its second is nearly as likely: two
      guesses from the likeliest article beat one."""
    by_article: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_article.setdefault(c.hit.article_id, []).append(c)
    ranked = [sorted(by_article[aid], key=lambda c: -c.probability) for aid in order if by_article.get(aid)]
    read = any(c.read is not None for c in candidates)
    floor, clearly = (READ_SECOND_FLOOR, READ_CLEARLY) if read else (SECOND_FLOOR, CLEARLY)
    out = []
    for i, cs in enumerate(ranked):
        picked = [cs[0]]
        later = max((r[0].probability for r in ranked[i + 1:]), default=0.0)
        for c in cs[1:]:
            if len(picked) == PER_ARTICLE:
                break
            if not all(_apart(c, p) for p in picked):
                continue
            unsure_first = (i == 0 and len(picked) == 1 and cs[0].probability < LIKELY_QUOTE
                            and c.probability >= NEARLY * cs[0].probability)
            if not (unsure_first or question and c.probability >= max(floor, clearly * later)):
                break  # the next ones are less likely still
            picked.append(c)
        out += picked
    return out


def answerable(q: evidence.Question, chosen: list[Candidate], articles: dict, topic: dict[str, tuple[float, float]],
               groups: dict[str, list[Hit]], searcher: Searcher) -> float:
    """The fitted chance that the reply holds what was asked, judged on its likeliest quote and that
    quote's article (index/searching/evidence.py's reply model): `answered` when at least min_answer."""
    if not chosen:
        return 0.0
    best = max(chosen, key=lambda c: c.probability)
    aid = best.hit.article_id
    r, article = best.reading, articles[aid]
    x = evidence.reply_features(q, best.probability, r.text, r.context, r.article, article.text,
                                article.published or "", topic[aid][0], max(h.similarity for h in groups[aid]), _rare(searcher))
    # with a reader, the quote's probability carries its verdict: the same features, fitted on such replies
    return (evidence.REPLY if best.read is None else evidence.REPLY_READ).probability(x)


def reader_verdict(chosen: list[Candidate]) -> float | None:
    """The reader's verdict on the quotes a reply shows, as a probability (None without a reader): its
    best logit, through the logistic function. Trained with a "none of these" option at logit 0, it is
    above 0.5 when the reader reads an answer in one of them. `answered` needs it at least `[search]
    min_read` (0 by default: off), besides the reply model's min_answer."""
    read = [c.read for c in chosen if c.read is not None]
    return _sigmoid(max(read)) if read else None


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _distinct(passages: list[Passage]) -> list[Passage]:
    """Without a quote that overlaps an earlier one of the same article (widened quotes can meet)."""
    out: list[Passage] = []
    for p in passages:
        if not any(o.article_id == p.article_id and o.start < p.end and p.start < o.end for o in out):
            out.append(p)
    return out


def _apart(c: Candidate, first: Candidate) -> bool:
    """Far enough from the first pick that its quote (widened by neighbours) is another passage."""
    return c.hit.chunk_id != first.hit.chunk_id or abs(c.span[0] - first.span[0]) > QUOTE_REACH


def _passage(c: Candidate, candidates: list[Candidate], article, q: evidence.Question, settings: SearchSettings,
             copies: dict[str, int], about: float) -> Passage | None:
    """The quote around a chosen sentence, within its chunk, checked against the article text."""
    h = c.hit
    spans = sentence_spans(article.text, h.start, h.end)
    score = {cand.span: cand.probability for cand in candidates if cand.hit.chunk_id == h.chunk_id}
    scores = [score.get(s, 0.0) for s in spans]
    best = spans.index(c.span) if c.span in spans else int(np.argmax(scores))
    quote = choose(article.text, spans, scores, best, q, settings.max_quote_chars)
    text = article.text[quote.start:quote.end]
    if h.text != article.text[h.start:h.end] or not (h.start <= quote.start < quote.end <= h.end) or not text.strip():
        log.error("quote is not an exact substring of article %s (chunk %d, %d-%d); dropped",
                  h.article_id, h.chunk_id, quote.start, quote.end)
        return None
    return Passage(
        article_id=h.article_id, title=article.title, url=article.url, published=article.published,
        site=article.site, quote=text, start=quote.start, end=quote.end, chunk_id=h.chunk_id,
        score=round(h.score, 4), cut_before=quote.cut_before, cut_after=quote.cut_after,
        copies=copies.get(h.article_id, 1), confidence=round(c.probability, 3), evidence=round(about, 4),
        read=None if c.read is None else round(_sigmoid(c.read), 3))


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
