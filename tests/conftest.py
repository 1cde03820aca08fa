import itertools
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "archive"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def embedder():
    """The real bundled model, loaded once for the whole run."""
    from index.embedding.embed import Embedder

    e = Embedder()
    e.encode(["warm up"])
    return e


@pytest.fixture
def cfg_for(tmp_path):
    """A Config with the given sources and an index folder in tmp_path."""
    from index.config import parse

    def make(*paths, **sections):
        data = {"index": {"path": str(tmp_path / "idx")}, "sources": [
            p if isinstance(p, dict) else {"path": str(p)} for p in paths]}
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        return parse(data, tmp_path)

    return make


def run_cli(*args, cwd=None, env=None, input=None, timeout=300):
    """The real console script in a subprocess."""
    import subprocess

    exe = Path(sys.executable).parent / "archivist"
    return subprocess.run([str(exe), *map(str, args)], cwd=cwd, env={**os.environ, **(env or {})},
                          input=input, capture_output=True, text=True, timeout=timeout)


JSONL_FIELDS = {"title": "headline", "text": "body", "url": "link", "published": "date"}


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, embedder):
    """The sample archive, plus the IBM story saved twice, a CMS export with its own ids and a local news
    story (tests/data/news), built once."""
    import json
    import shutil

    from index.storing.build import build
    from index.config import parse

    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(EXAMPLES, root / "archive")
    shutil.copyfile(root / "archive" / "text" / "ibm-facial-recognition.txt", root / "archive" / "text" / "ibm-copy.txt")
    with open(root / "cms.jsonl", "w") as f:
        f.write(json.dumps({"guid": "A-17", "headline": "Lighthouse keeper retires after forty years",
                            "link": "https://news.example.com/2021/lighthouse-keeper?ref=rss", "date": "2021-05-02",
                            "body": "The last lighthouse keeper on Puffin Rock switched off the lamp for the final time "
                                    "on Sunday. She had kept the light for forty years. The lighthouse will now run "
                                    "automatically, watched from the mainland."}) + "\n")
    cfg = parse({"index": {"path": str(root / "idx")}, "sources": [
        {"path": str(root / "archive")},
        {"path": str(root / "archive" / "exports" / "wikinews.jsonl"), "format": "jsonl", "fields": JSONL_FIELDS},
        {"path": str(root / "cms.jsonl"), "format": "jsonl", "fields": {**JSONL_FIELDS, "id": "guid"}},
        {"path": str(DATA / "news")}]}, root)
    summary = build(cfg, embedder=embedder)
    assert summary.added == 54 and summary.failed == 0
    return cfg


@pytest.fixture(scope="session")
def searcher(sample_index, embedder):
    from index.searching.search import Searcher

    s = Searcher(sample_index.index_dir(), embedder, sample_index.search)
    yield s
    s.close()


def folder_with(path: Path, files: dict[str, str]) -> Path:
    """A new folder holding these files (name -> text)."""
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def extended_index(root: Path, sample_index, embedder, folder: Path):
    """A private copy of the sample index with the articles of `folder` added (only those are embedded);
    returns the config of the union, with the sample's base so shown paths and ids stay the same."""
    import shutil

    from index.storing.build import build
    from index.config import parse

    shutil.copytree(sample_index.index_dir(), root / "idx")
    union = parse({"index": {"path": str(root / "idx")}, "sources": [
        *({"path": s.path, "format": s.format, "fields": dict(s.fields)} for s in sample_index.sources),
        {"path": str(folder)}]}, sample_index.base_dir)
    build(union, embedder=embedder)
    return union


def free_port() -> int:
    """A loopback port nobody listens on now, for a server whose address must be known before it starts."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (tests/pgserver.py), stopped even when tests fail."""
    from pgserver import PostgresServer

    server = PostgresServer(free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres):
    """A fresh database on the session's server, for one test."""
    import psycopg

    n = next(_databases)
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE t{n}")
    return postgres.url.rsplit("/", 1)[0] + f"/t{n}"


_databases = itertools.count(1)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB disk of its own (tmpfs), to fill."""
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)
