"""The reader: the bundled cross-encoder as shipped, `[search] reader`, and its training script."""
import hashlib
import json
import shutil

import pytest

from conftest import run_cli
from bot.answer import answer
from index.config import ConfigError, parse
from index.reader import train
from index.reader.model import BUNDLED_DIR, MODEL_FILE, OnnxReader, ReaderError, TorchReader, load, passage
from index.searching.search import Searcher

IBM = "IBM Quits Facial Recognition, Joins Call For Police Reforms"
GARVIE = ("Many U.S. law enforcement agencies rely on facial recognition software built by companies less well "
          "known to the public, such as Tokyo-based NEC or the European companies Idemia and Cognitec, according "
          "to Clare Garvie, a researcher at Georgetown University’s Center on Privacy and Technology.")
LEAD = ("IBM is getting out of the facial recognition business, saying it’s concerned about how the technology can "
        "be used for mass surveillance and racial profiling.")


def test_the_bundled_reader_is_the_file_its_card_and_sha256_name():
    meta = json.loads((BUNDLED_DIR / "reader.json").read_text())
    digest = hashlib.sha256((BUNDLED_DIR / MODEL_FILE).read_bytes()).hexdigest()
    assert meta["sha256"] == digest
    assert digest in (BUNDLED_DIR / "MODEL_CARD.md").read_text()
    assert (BUNDLED_DIR / MODEL_FILE).stat().st_size < 30 * 2**20


def test_the_reader_prefers_the_sentence_that_answers_to_the_lead():
    reader = load("bundled")
    who, lead, other = reader.score("who is Clare Garvie?", [passage(IBM, GARVIE), passage(IBM, LEAD),
                                                            passage(IBM, "The company did not say more.")])
    assert who > max(lead, other) + 2  # logits: the answering sentence far likelier than the lead
    # one batched call scores as single calls do, but for int8 rounding: dynamic quantisation scales each
    # batch's activations by their range, which the padding of shorter pairs joins
    alone = reader.score("who is Clare Garvie?", [passage(IBM, LEAD)])
    assert abs(alone[0] - lead) < 0.25


def test_a_damaged_bundled_file_is_refused_by_its_sha256(tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(BUNDLED_DIR, folder)
    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[-100] ^= 0xFF
    (folder / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ReaderError, match="sha256"):
        OnnxReader(folder, check=True)


def test_reader_setting_none_bundled_or_a_folder(tmp_path, sample_index, embedder):
    assert parse({"search": {"reader": "none"}}, tmp_path).search.reader == "none"
    with pytest.raises(ConfigError, match=r"\[search\] reader: .*nowhere is not a folder"):
        parse({"search": {"reader": "nowhere"}}, tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReaderError, match="neither an ONNX reader nor a cross-encoder"):
        load(str(tmp_path / "empty"))
    # an ONNX export in a folder of one's own (here the bundled one, copied): the same answers
    shutil.copytree(BUNDLED_DIR, tmp_path / "mine")
    cfg = parse({"index": {"path": str(sample_index.index_dir())}, "search": {"reader": "mine"}}, tmp_path)
    assert cfg.search.reader == str(tmp_path / "mine")
    q = "who is Clare Garvie?"
    mine = Searcher(cfg.index_dir(), embedder, cfg.search)
    bundled = Searcher(cfg.index_dir(), embedder, sample_index.search)
    none = Searcher(cfg.index_dir(), embedder, parse({"search": {"reader": "none"}}, tmp_path).search)
    try:
        a, b, c = answer(q, mine), answer(q, bundled), answer(q, none)
        assert isinstance(mine.reader, OnnxReader) and none.reader is None
        assert [(p.quote, p.confidence) for p in a.passages] == [(p.quote, p.confidence) for p in b.passages]
        assert a.answerable == b.answerable
        assert a.passages[0].title == IBM and "Clare Garvie" in a.passages[0].quote
        assert c.passages and c.passages[0].title == IBM  # without a reader: found, though less sure
    finally:
        for s in (mine, bundled, none):
            s.close()
    out = run_cli("--config", _toml(tmp_path, sample_index, "mine"), "stats")
    assert out.returncode == 0 and f"reader:    {tmp_path / 'mine'}" in out.stdout
    out = run_cli("--config", _toml(tmp_path, sample_index, "bundled"), "stats")
    assert "reader:    bundled (archivist-reader-minilm-l6, int8 ONNX, sha256 " in out.stdout


def _toml(tmp_path, sample_index, reader: str):
    path = tmp_path / f"{reader}.toml"
    path.write_text(f'[index]\npath = "{sample_index.index_dir()}"\n[search]\nreader = "{reader}"\n')
    return path


def test_a_cross_encoder_folder_is_read_with_transformers(tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from index.embedding.embed import model_path

    base = model_path("bundled")
    AutoModelForSequenceClassification.from_pretrained(base, num_labels=1).save_pretrained(tmp_path / "ce")
    AutoTokenizer.from_pretrained(base).save_pretrained(tmp_path / "ce")
    reader = load(str(tmp_path / "ce"))
    assert isinstance(reader, TorchReader)
    scores = reader.score("who is Clare Garvie?", [passage(IBM, GARVIE), passage(IBM, LEAD)])
    assert scores.shape == (2,) and scores[0] != scores[1]
    assert reader.score("q", []).shape == (0,)


def test_the_training_script_trains_exports_and_writes_its_card(tmp_path, embedder):
    """A few steps on a handful of made-up pairs: the script's whole path, from data to a loadable file."""
    data = tmp_path / "bench"
    story = {"title": "Harbour bridge opens", "url": "https://news.example.org/bridge", "published": "2021-04-02",
             "text": "The harbour bridge opened on Friday. It cost 40 million dollars. The mayor cut the ribbon. "
                     "Traffic was light. Ferries will keep running."}
    other = {"title": "Library reopens", "url": "https://news.example.org/library", "published": "2021-05-02",
             "text": "The city library reopened after repairs. The roof had leaked for years. Visitors queued early."}
    (data / "wikinews").mkdir(parents=True)
    (data / "wikinews" / "articles.jsonl").write_text("".join(json.dumps(a) + "\n" for a in (story, other)))
    (data / "newsqa").mkdir()
    (data / "newsqa" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (
        {"q": "how much did the bridge cost", "url": story["url"], "any": ["40 million dollars"]},
        {"q": "why did the library close", "url": other["url"], "any": ["roof had leaked"]},
        {"q": "who designed the bridge", "url": story["url"], "in_article": False})))
    (data / "newsqa" / "dev.jsonl").write_text(json.dumps(
        {"q": "who cut the ribbon", "url": story["url"], "any": ["The mayor"]}) + "\n")
    (data / "xquad").mkdir()
    paragraph = {"context": "Oxygen is a chemical element. Its symbol is O. It was found in 1774.",
                 "qas": [{"question": "When was oxygen found?", "answers": [{"text": "1774", "answer_start": 63}]}]}
    (data / "xquad" / "xquad.en.json").write_text(json.dumps({"data": [
        {"title": f"Article_{i}", "paragraphs": [paragraph]} for i in range(3)]}))
    out = tmp_path / "reader"
    assert train.main(["--data", str(data), "--out", str(out), "--steps", "2", "--epochs", "1"]) == 0
    meta = json.loads((out / "reader.json").read_text())
    assert meta["sha256"] == hashlib.sha256((out / MODEL_FILE).read_bytes()).hexdigest()
    card = (out / "MODEL_CARD.md").read_text()
    assert meta["sha256"] in card and "News QA train" in card and "WikiQA" in card
    # 2 answerable News QA questions (lead, closest, one at random against the answer), 1 not answered;
    # XQuAD: articles 0 and 1 trained on, article 2 held out
    examples = train.newsqa_examples(data, embedder.encode, __import__("random").Random(1))
    assert sum(e.label for e in examples) == 2 and {e.question for e in examples if not e.label} >= {
        "who designed the bridge"}
    assert [e.group for e in train.xquad_examples(data, embedder.encode, __import__("random").Random(1))
            if e.label] == ["Article_0", "Article_1"]
    assert OnnxReader(out, check=True).score("when?", ["in 1774", "no"]).shape == (2,)
