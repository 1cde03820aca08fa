"""Configuration: the example documents every key with its default; bad values are clear errors."""
import re
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from index.config import Config, ConfigError, load, parse

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("index", "build", "chunking", "search", "summary", "slack", "web", "watch", "state")


def test_the_example_documents_every_key_with_its_default():
    example = load(str(ROOT / "config.example.toml"))
    text = (ROOT / "config.example.toml").read_text()
    for section in SECTIONS:
        assert asdict(getattr(example, section)) == asdict(getattr(Config(), section)), section
        for f in fields(getattr(Config(), section)):
            assert re.search(rf"^{f.name} = ", text, re.M), f"[{section}] {f.name} is not in config.example.toml"
    assert [s.path for s in example.sources] == ["examples/archive", "examples/archive/text",
                                                 "examples/archive/exports/wikinews.jsonl"]


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
    ({"sources": 5}, "sources must be [[sources]] tables, each with a path"),
    ({"search": {"dense_weight": float("nan")}}, "[search] dense_weight must be a number, not nan"),
    ({"search": {"top_k": 500}}, "[search] top_k must be at most 20, not 500"),
    ({"slack": {"allowed_channels": [1, 2]}}, "[slack] allowed_channels must be a list of strings, not [1, 2]"),
    ({"sources": [{"path": "x", "fields": {"title": 5}}]},
     "[[sources]] entry 1: fields maps our names (id, title, text, url, published, author, site) to the export's"),
    ({"sources": [{"path": "x", "follow_symlinks": "yes"}]}, "[[sources]] entry 1: follow_symlinks must be true or false"),
    ({"watch": {"interval": 0}}, "[watch] interval must be more than 0, not 0.0"),
    ({"index": {"path": "arch\0ive"}}, "[index] path holds a NUL character"),
    ({"sources": [{"path": "a\0b"}]}, "[[sources]] entry 1: path must be a non-empty string without NUL characters"),
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


def test_paths_that_cannot_work_are_refused_at_load(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError) as e:
        parse({"index": {"path": "afile/idx"}}, tmp_path)
    assert str(e.value) == f"[index] path: {tmp_path}/afile/idx cannot be a folder, {tmp_path}/afile is a file"
    with pytest.raises(ConfigError) as e:
        parse({"index": {"model": "models/nope"}}, tmp_path)
    assert str(e.value) == (f"[index] model: {tmp_path}/models/nope is not a sentence-transformers model folder "
                            '(no config.json or modules.json); use "bundled" or a local model folder')


def test_config_errors_are_one_line_from_every_command(tmp_path):
    from conftest import run_cli

    (tmp_path / "config.toml").write_text("sources = 5\n")
    for command in ("stats", "build", "ask x"):
        r = run_cli(*command.split(), cwd=tmp_path)
        assert (r.returncode, r.stderr) == (2, "error: config: sources must be [[sources]] tables, each with a path\n")
