"""Configuration: the example documents every key with its default; bad values are clear errors."""
import re
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from index.config import Config, ConfigError, load, parse

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("index", "chunking", "search", "summary", "slack")


def test_the_example_documents_every_key_with_its_default():
    example = load(str(ROOT / "config.example.toml"))
    text = (ROOT / "config.example.toml").read_text()
    for section in SECTIONS:
        assert asdict(getattr(example, section)) == asdict(getattr(Config(), section)), section
        for f in fields(getattr(Config(), section)):
            assert re.search(rf"^{f.name} = ", text, re.M), f"[{section}] {f.name} is not in config.example.toml"
    assert [s.path for s in example.sources] == ["examples/archive", "examples/archive/exports/wikinews.jsonl"]


def test_no_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVIST_CONFIG", raising=False)
    assert load(None) == Config(base_dir=tmp_path)


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    (tmp_path / "c.toml").write_text('[index]\npath = "idx"\n')
    assert load(str(tmp_path / "c.toml")).index_dir() == tmp_path / "idx"


@pytest.mark.parametrize("data, message", [
    ({"index": {"modle": "x"}}, "[index] has unknown key(s): modle"),
    ({"index": {"batch_size": "64"}}, "[index] batch_size must be int, not '64'"),
    ({"index": {"batch_size": 0}}, "[index] batch_size must be positive, not 0"),
    ({"index": {"faiss": "hnsw"}}, "[index] faiss must be one of auto, flat, ivf, not 'hnsw'"),
    ({"search": {"mode": "magic"}}, "[search] mode must be one of hybrid, dense, keyword, not 'magic'"),
    ({"chunking": {"target_words": 200}}, "[chunking] target_words must not exceed max_words"),
    ({"sources": [{"format": "html"}]}, "[[sources]] entry 1 needs a path"),
    ({"sources": [{"path": "x", "format": "pdf"}]},
     "[[sources]] entry 1: format must be one of auto, html, warc, text, markdown, jsonl, csv, not 'pdf'"),
    ({"extra": {}}, "unknown section(s): extra"),
])
def test_bad_values_are_clear_errors(data, message):
    with pytest.raises(ConfigError) as e:
        parse(data, Path("."))
    assert str(e.value) == message


def test_unreadable_toml_names_the_file(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("[index\n")
    with pytest.raises(ConfigError, match=r"c\.toml: "):
        load(str(p))
