"""Sentences and chunks: offsets index the article text exactly; sizes and overlap as configured."""
from pathlib import Path

from index.reading import sentences
from index.reading.chunk import chunk, embed_text
from index.config import ChunkSettings
from index.reading.textdump import clean

ROOT = Path(__file__).resolve().parents[1]
SEED = clean((ROOT / "examples/archive/text/ibm-facial-recognition.txt").read_text()).text


def test_sentence_offsets_are_exact_and_respect_abbreviations():
    text = "Mr. J. Smith went to the U.S. Senate on Monday. He said: “It works.” Then he left!\nA new line."
    spans = sentences.split(text)
    assert [text[s:e] for s, e in spans] == [
        "Mr. J. Smith went to the U.S. Senate on Monday.", "He said: “It works.”", "Then he left!", "A new line."]


def test_text_without_sentence_punctuation_is_one_sentence_per_line():
    text = "first line without a stop\nsecond line without one either"
    assert [text[s:e] for s, e in sentences.split(text)] == ["first line without a stop",
                                                             "second line without one either"]


def test_chunks_cover_the_article_along_sentence_boundaries():
    settings = ChunkSettings(target_words=120, max_words=150, overlap_sentences=1)
    chunks = chunk(SEED, settings)
    ends = {e for _, e in sentences.split(SEED)}
    starts = {s for s, _ in sentences.split(SEED)}
    assert len(chunks) == 5
    assert chunks[0].start == 0 and chunks[-1].end == len(SEED)
    for c in chunks:
        assert c.start in starts and c.end in ends
        assert 100 <= len(SEED[c.start:c.end].split()) <= 150
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end  # one sentence of overlap
        assert SEED[b.start:a.end] in [SEED[s:e] for s, e in sentences.split(SEED)]


def test_a_sentence_longer_than_max_words_is_cut_on_words():
    text = " ".join(f"word{i}" for i in range(400))
    chunks = chunk(text, ChunkSettings(target_words=120, max_words=150, overlap_sentences=1))
    assert [len(text[c.start:c.end].split()) for c in chunks] == [150, 150, 100]
    assert all(text[c.start].startswith("w") and text[c.end - 1].isdigit() for c in chunks)


def test_short_tail_joins_the_chunk_before_when_it_fits():
    ten = "This sentence has exactly ten words in it, you see. "
    text = (ten * 10 + "Tail.").strip()
    chunks = chunk(text, ChunkSettings(target_words=100, max_words=150, overlap_sentences=0))
    assert [(c.start, c.end) for c in chunks] == [(0, len(text))]
    text = (ten * 11).strip()  # a 10-word tail would push the joined chunk past max_words
    chunks = chunk(text, ChunkSettings(target_words=100, max_words=105, overlap_sentences=0))
    assert [len(text[c.start:c.end].split()) for c in chunks] == [100, 10]


def test_short_article_is_one_chunk_and_empty_is_none():
    assert [(c.start, c.end) for c in chunk("Just one line.", ChunkSettings())] == [(0, 14)]
    assert chunk("", ChunkSettings()) == []


def test_embedded_text_includes_the_title():
    [c] = chunk("Body text here.", ChunkSettings())
    assert embed_text("The Title", "Body text here.", c) == "The Title\nBody text here."
