"""Sentence-aware chunks with character offsets into the article text."""
from __future__ import annotations

from index.reading import sentences
from index.config import ChunkSettings
from index.records import Chunk


def _pieces(text: str, max_words: int) -> list[tuple[int, int, int]]:
    """Sentences as (start, end, words); a sentence longer than max_words is cut on word boundaries."""
    out = []
    for s, e in sentences.split(text):
        words = sentences.word_spans(text, s, e)
        for i in range(0, len(words), max_words):
            part = words[i:i + max_words]
            out.append((part[0][0], part[-1][1], len(part)))
    return out


def chunk(text: str, settings: ChunkSettings) -> list[Chunk]:
    """Chunks of about target_words (never over max_words), closing at sentence ends, with the
    last `overlap_sentences` sentences of one chunk opening the next."""
    pieces = _pieces(text, settings.max_words)
    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j, words = i, 0
        while j < len(pieces) and (words == 0 or words + pieces[j][2] <= settings.max_words):
            words += pieces[j][2]
            j += 1
            if words >= settings.target_words:
                break
        if j == len(pieces) and chunks and words < settings.target_words // 3:
            # a short tail reads better joined to the chunk before, when that still fits
            prev = chunks[-1]
            merged = len(text[prev.start:pieces[j - 1][1]].split())
            if merged <= settings.max_words:
                chunks[-1] = Chunk(prev.ordinal, prev.start, pieces[j - 1][1])
                break
        chunks.append(Chunk(len(chunks), pieces[i][0], pieces[j - 1][1]))
        if j == len(pieces):
            break
        overlap = min(settings.overlap_sentences, j - i - 1)
        back = j - overlap
        # an overlap sentence that is itself most of a chunk would only repeat it
        while back < j and sum(p[2] for p in pieces[back:j]) > settings.max_words // 2:
            back += 1
        i = back
    return chunks


def embed_text(title: str, text: str, c: Chunk) -> str:
    """What the encoder sees for a chunk: the article title, then the passage."""
    passage = text[c.start:c.end]
    return f"{title}\n{passage}" if title else passage
