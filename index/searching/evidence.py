"""How well a sentence answers a question: plain functions over text and numbers.

The store supplies stems and document frequencies (the keyword index's own tokenizer and vocabulary),
the model supplies cosines; everything in between is here:

- the question's kind (who → a person or organisation, when → a time, where → a place, how much →
  an amount, why → a reason, ...), read from its wording;
- its terms weighted by rarity (IDF over the index's chunks): a name, a place or a product counts
  far more than "think" or "decision";
- per candidate sentence, a few features (model cosine, the share of the question's rare words it
  and its surroundings hold, whether it holds something of the kind asked for that the question does
  not already say, ...), combined by a logistic regression fitted on the dev sets
  (`bench/fit_answers.py`, cross-validated; the weights below are its output, as plain numbers).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

# --- the question ------------------------------------------------------------------------------

KINDS = ("person", "time", "place", "amount", "reason", "manner", "yesno", "thing")

_KIND_RULES: tuple[tuple[str, re.Pattern], ...] = tuple((kind, re.compile(pattern)) for kind, pattern in (
    ("amount", r"\bhow (much|many|long|old|far|big|large|high|tall|fast|often|heavy|deep|wide)\b|"
               r"\bwhat (was|is|were|are) the (death toll|cost|price|number|amount|total|size|score|margin|"
               r"population|budget|value|figure|rate|percentage|time|speed|distance|magnitude)\b|"
               r"\b(what|which) (percentage|proportion|share|number|magnitude|amount|sum|price|fee)\b|"
               r"\bwhat did .* (cost|pay|raise|fetch|charge)\b|\bhow much\b|\bcosting\b"),
    ("time", r"^(when|since when|until when)\b|\b(when|what year|which year|what date|what day|what month|"
             r"what time|which day|which month|what decade|how soon)\b|\bover what period\b"),
    ("reason", r"^why\b|\bwhy\b|\bwhat (caused|causes|provoked|prompted|led to|triggered|drove|motivated)\b|"
               r"\b(on what grounds|for what reason|what reason|what was the reason|what is the reason)\b"),
    ("place", r"^where\b|\bwhere\b|\b(which|what) (city|town|country|port|place|state|province|region|island|"
              r"airport|stadium|venue|street|village|county|district|location|continent|river|site)\b|"
              r"\bin what (city|country|town|state|place)\b"),
    ("person", r"^(who|whom|whose)\b|\b(who|whom|whose)\b|\b(which|what) (judge|minister|senator|president|"
               r"official|person|people|player|players|company|firm|team|country|group|organisation|"
               r"organization|party|leader|man|woman|scientist|professor|lawyer|spokesman|spokeswoman|"
               r"designer|founder|owner|minister|cricketers|researchers|universities|university|agency|"
               r"court|bank|airline|manufacturer|maker|newspaper|coach|driver|pilot|author|actor|singer)\b"),
    ("manner", r"^how\b|\bhow (did|do|does|was|were|is|are|will|would|can|could)\b|\bin what way\b"),
    ("yesno", r"^(did|does|do|is|are|was|were|has|have|had|can|could|will|would|should)\b"),
))


_ASKS = re.compile(r"^(what|which|who|whom|whose|when|where|why|how|did|does|do|is|was|were|are|can|could|will|"
                   r"would|should|has|have|had)\b|\?\s*$", re.I)


def asks(text: str) -> bool:
    """Whether the text is a question (asks for a fact), not a topic ("plane crash", "Serbia protests")."""
    return bool(_ASKS.search(text.strip()))


def question_kind(question: str) -> str:
    """The kind of answer a question asks for, from its wording; "thing" when it names none."""
    q = " ".join(question.lower().split())
    for kind, rule in _KIND_RULES:
        if rule.search(q):
            return kind
    return "thing"


# the word a question asks for by name ("which *prizes*", "how many *pacemakers*") or, after who,
# the relation it asks about ("who *lent* him the money", "who *designed* it")
_FOCUS = re.compile(r"\b(?:what|which|how many|how much|whose)\s+(?:(?:kind|sort|type)s? of\s+)?([a-z][\w-]*)|"
                    r"^(?:who|whom)\s+(?:\w+ly\s+)?([a-z][\w-]*)")
_NOT_FOCUS = frozenset("""is was are were did do does has have had will would can could should the a an of in on at to
for by with his her its their this that these those it he she they""".split())


def focus_positions(question: str) -> list[int]:
    r"""Token positions (words as `[^\W_]+` runs, as the index tokenizes) of the word a question asks
    for by name, if any: "Which *prizes* did he win", "How many *pacemakers* ran"."""
    low = " ".join(question.lower().split())
    m = _FOCUS.search(low)
    group = m and (1 if m.group(1) else 2)
    if not m or m.group(group) in _NOT_FOCUS:
        return []
    return [len(_TOKENS.findall(low[:m.start(group)]))]


_TOKENS = re.compile(r"[^\W_]+")


def surface_tokens(text: str) -> list[str]:
    """A text's words as the index tokenizes them (runs of letters and digits), lowercased, in order."""
    return _TOKENS.findall(text.lower())


def idf(df: int, n: int) -> float:
    """BM25's rarity weight: a word in few chunks weighs much more than one in many; never negative."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class Question:
    """A question ready for matching: its kind, its terms with their weights, its own words."""

    text: str
    kind: str
    weights: tuple[tuple[str, float], ...]  # (stem, rarity) of its content words, question order
    words: frozenset[str]  # its words, lowercased: what a sentence repeats is no answer
    focus: frozenset[str] = frozenset()  # stems of what it asks for by name: "which *prizes*", "how many *pacemakers*"

    @cached_property
    def stems(self) -> dict[str, float]:  # read once per candidate sentence: made once per question
        return dict(self.weights)

    def coverage(self, stems: set[str] | frozenset[str]) -> float:
        """The share of the question's weight (rarity) that these stems hold."""
        total = sum(w for _, w in self.weights)
        return sum(w for s, w in self.weights if s in stems) / total if total else 0.0

    def specific(self, stems: set[str] | frozenset[str], local: dict[str, float]) -> float:
        """Coverage with each term also weighted by its rarity within the article (`local`): what the
        article says everywhere (its subject) tells one of its sentences from another less than what
        only a few of them say."""
        total = sum(w * local.get(s, 1.0) for s, w in self.weights)
        return sum(w * local.get(s, 1.0) for s, w in self.weights if s in stems) / total if total else 0.0

    def missing(self, stems: set[str] | frozenset[str]) -> float:
        """The rarest question term these stems lack, as a share of the rarest term overall: a
        passage without the question's one rare name is about something else."""
        top = max((w for _, w in self.weights), default=0.0)
        return max((w for s, w in self.weights if s not in stems), default=0.0) / top if top else 0.0


# --- what a sentence holds -------------------------------------------------------------------------

_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fifteen|twenty|thirty|"
                 "forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|"
                 "billion|billions|trillion|dozen|dozens|half|quarter|third|double|triple")
_AMOUNT = re.compile(rf"\d|[$€£¥]|%|\bper ?cent\b|\b({_NUMBER_WORDS})\b", re.I)
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_TIME = re.compile(rf"\b(1[5-9]\d\d|20\d\d)s?\b|\b({_MONTHS})\.?\s+\d|\b\d{{1,2}}\s+({_MONTHS})\b|"
                   r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow|"
                   r"tonight|ago|decades?|centur(y|ies)|last (week|month|year)|next (week|month|year)|"
                   r"earlier this|later this|since|until|morning|evening|afternoon)\b", re.I)
_REASON = re.compile(r"\b(because|due to|owing to|as a result|result of|in order to|so that|to avoid|to prevent|"
                     r"to stop|to protect|citing|cited|blamed|blames|caused|causing|prompted|led to|resulted|"
                     r"reasons?|motivated|supposed to|arguing|argued|on the grounds|grounds that|since|after|"
                     r"amid|following|concerns? (that|about|over)|fears? (that|of)|would be)\b", re.I)
_MANNER = re.compile(r"\b(by|via|using|through|after|helped|allowed|managed|flown|drove|walked|escaped)\b", re.I)
_PLACE_CUE = re.compile(r"\b(in|at|from|near|to|off|outside|inside|into|across|on)\s+(the\s+)?([A-Z][\w'’.-]*)")
_CAPITAL = re.compile(r"\b[A-Z][\w'’-]*")
_FULL_NAME = re.compile(r"\b[A-Z][a-z][\w'’-]*(?:\s+(?:[A-Z]\.\s+)?[A-Z][a-z][\w'’-]*)+")
_TOKEN = re.compile(r"\w+")
_PRONOUN_START = re.compile(r"^[\"'“‘(]*(he|she|it|they|this|that|these|those|his|her|its|their|there)\b", re.I)


def _new(words: list[str], q: Question) -> list[str]:
    return [w for w in words if w.lower() not in q.words]


def _names(text: str, q: Question) -> list[str]:
    """Capitalised words that the question does not say, leaving out the sentence's first word."""
    found = _CAPITAL.findall(text)
    first = _CAPITAL.match(text.lstrip("\"'“‘( "))
    if first and found and found[0] == first.group(0):
        found = found[1:]
    return _new(found, q)


def kind_match(q: Question, text: str) -> float:
    """1 when the sentence holds something of the kind asked for that the question does not say."""
    kind = q.kind
    if kind == "amount":
        return float(any(m.group(0).lower() not in q.words for m in _AMOUNT.finditer(text)))
    if kind == "time":
        return float(any(m.group(0).lower() not in q.words for m in _TIME.finditer(text)))
    if kind == "reason":
        return float(bool(_REASON.search(text)))
    if kind == "manner":
        return float(bool(_MANNER.search(text)))
    if kind == "place":
        return float(any(m.group(3).lower() not in q.words for m in _PLACE_CUE.finditer(text)))
    if kind == "person":  # a name the question does not say: two title-case words in a row
        return float(any(not (set(m.group(0).lower().split()) <= q.words) for m in _FULL_NAME.finditer(text)))
    return float(bool(_names(text, q)) or bool(_AMOUNT.search(text)))  # thing, yesno: some new fact


def local_rarity(sentences: list[set[str]] | list[frozenset[str]]) -> dict[str, float]:
    """Each stem's rarity among an article's sentences (as IDF is among the index's chunks)."""
    n = len(sentences)
    counts: dict[str, int] = {}
    for st in sentences:
        for s in st:
            counts[s] = counts.get(s, 0) + 1
    return {s: math.log(1.0 + (n + 1) / (c + 0.5)) for s, c in counts.items()}


def kind_word(kind: str, word: str) -> bool:
    """Whether one word is of the kind asked for: a number, a date word, a name, a reason word."""
    if kind == "amount":
        return bool(_AMOUNT.search(word))
    if kind == "time":
        return bool(_TIME.search(word)) or word.isdigit()
    if kind == "reason":
        return bool(_REASON.fullmatch(word.lower()))
    if kind == "manner":
        return bool(_MANNER.fullmatch(word.lower()))
    return word[:1].isupper() or word[:1].isdigit()


def new_information(q: Question, stems: list[str]) -> float:
    """The share of a sentence's terms the question does not hold: an answer adds to the question,
    a sentence that only repeats it does not."""
    if not stems:
        return 0.0
    qs = q.stems
    return sum(1 for s in stems if s not in qs) / len(stems)


FEATURES = ("cosine", "coverage", "context_coverage", "article_coverage", "specific", "specific_context",
            "missing", "focus",
            *(f"kind_{k}" for k in KINDS), "new_info", "names", "numbers", "lead", "chunk_similarity",
            "pronoun_start", "length")


def features(q: Question, text: str, stems: list[str], context: frozenset[str] | set[str],
             article: frozenset[str] | set[str], cosine: float,
             position: int, chunk_similarity: float, local: dict[str, float]) -> list[float]:
    """The features of one candidate sentence, in FEATURES order.

    `stems` are the sentence's own, `context` the stems of the sentence, its neighbours and the
    title, `article` those of the whole article (as read), `local` each stem's rarity among the
    article's sentences; `position` is where the sentence starts in the article, in characters: a news
    story's lead often holds the answer. Whether the sentence holds
    the kind of thing asked for is one feature per kind, so that the fit can trust a date for "when"
    more than a cue word for "why".
    """
    own = set(stems)
    n_words = len(_TOKEN.findall(text))
    match = kind_match(q, text)
    return [
        cosine,
        q.coverage(own),
        q.coverage(context),
        q.coverage(article),
        q.specific(own, local),
        q.specific(context, local),
        q.missing(context),
        float(bool(q.focus & own)),
        *(match if q.kind == k else 0.0 for k in KINDS),
        new_information(q, stems),
        min(len(_names(text, q)), 4) / 4,
        float(any(m.group(0).lower() not in q.words for m in _AMOUNT.finditer(text))),
        1.0 / (1.0 + position / 200),
        chunk_similarity,
        float(bool(_PRONOUN_START.match(text))),
        min(n_words, 60) / 60,
    ]


# --- the fitted combination -------------------------------------------------------------------------

@dataclass(frozen=True)
class Model:
    """A logistic regression: P = 1 / (1 + exp(-(bias + Σ weight · feature)))."""

    bias: float
    weights: tuple[float, ...]

    def probability(self, x: list[float]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


# The hand weights before fitting: the model's similarity, the rare words, the kind asked for.
HAND = Model(bias=-4.0, weights=(2.0, 1.5, 0.5, 0.5, 1.0, 0.5, -1.0, 0.5, *(1.0,) * len(KINDS), 0.0, 0.0, 0.0, 0.5, 1.0, 0.0, 0.0))
# Fitted by bench/fit_answers.py on XQuAD and News QA dev (see its output for cross-validated figures).
SENTENCE = Model(bias=-6.427, weights=(4.976, -2.859, -1.148, 2.088, 4.373, 2.403, -0.353, 0.609, 0.588, 1.037, 0.612,
                                       0.835, 1.575, 0.626, -0.123, 0.501, -2.517, 0.164, 0.015, -0.097, 0.220, -0.015,
                                       0.940))
# the same features with the chunk's cosine in place of the sentence's: ranks sentences before encoding
CHEAP = Model(bias=-4.399, weights=(1.569, -1.544, -1.632, 2.083, 4.674, 2.574, -0.296, 0.613, 0.709, 1.108, 0.694,
                                    1.010, 1.632, 0.680, -0.038, 0.574, -4.399, -0.000, 0.031, -0.119, 1.569, -0.030,
                                    1.085))


# --- the reader's verdict, joined to the sentence model's -------------------------------------------

READ_FEATURES = ("sentence_logit", "reader_logit")


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def read_features(probability: float, reader: float) -> list[float]:
    """A read sentence: the sentence model's probability (as a logit) and the reader's logit."""
    return [_logit(probability), max(-12.0, min(12.0, reader))]


# Fitted by bench/fit_reader.py (News QA dev and XQuAD's held-out third, 5-fold CV grouped by article).
READ = Model(bias=-0.160, weights=(0.829, 0.179))


# --- the reply as a whole: answered or only related --------------------------------------------------

_YEAR = re.compile(r"\b(1[6-9]\d\d|20\d\d)\b")

REPLY_FEATURES = ("confidence", "topic", "share", "missing", "absent_rare", "absent_share", "year_absent",
                  "similarity", "context_share", "kind_match")


def reply_features(q: Question, confidence: float, quote: str, context: frozenset[str] | set[str],
                   article: frozenset[str] | set[str], text: str, published: str, topic: float,
                   similarity: float, rare: float) -> list[float]:
    """What tells a reply that holds the asked-for fact from one that only shares its subject, about
    the likeliest quote (`confidence`, its sentence model's probability; `context`, the stems of it,
    its neighbours and the title) and its article (`article` stems, `text`, `published` date, `topic`
    evidence, best chunk `similarity`). A fact the archive lacks usually shows as a question word
    the article never uses ("jailed", "Economics", "caught again") or a year it neither says nor was
    published in ("the 2020 explosion" against a 2005 story); `rare` is the rarity above which a
    word counts (one in under 5 % of the chunks)."""
    rare_terms = [s for s, w in q.weights if w > rare]
    absent = sum(1 for s in rare_terms if s not in article)
    years = set(_YEAR.findall(q.text))
    return [
        _logit(confidence),
        topic,
        q.coverage(article),
        q.missing(article),
        min(absent, 3) / 3,
        absent / len(rare_terms) if rare_terms else 0.0,
        float(any(y not in text and not published.startswith(y) for y in years)),
        similarity,
        q.coverage(context),
        kind_match(q, quote),
    ]

# Fitted by bench/fit_status.py (answerable News QA and XQuAD questions against off-archive ones and the
# News QA questions over the archive without their articles; see its output for cross-validated figures).
REPLY = Model(bias=-0.877, weights=(0.839, 1.384, 0.530, -0.255, -0.648, -0.423, -0.936, 1.117, 0.820, -0.145))


# The same features when the reader read the likeliest quote (its probability is then evidence.READ's):
# fitted by bench/fit_status.py on replies made with the bundled reader.
REPLY_READ = Model(bias=-0.970, weights=(0.761, 1.585, 0.433, -0.036, -0.382, 0.006, -1.112, 1.371, 0.789, -0.676))
