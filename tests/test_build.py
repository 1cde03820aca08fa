"""Building the index with the real model, SQLite and FAISS: incremental, safe against bad input and kills."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

from conftest import EXAMPLES, run_cli
from index.storing.build import build
from index.embedding.embed import Embedder, model_path
from index.searching.search import Searcher
from index.storing.store import DB_NAME

JSONL_FIELDS = {"title": "headline", "text": "body", "url": "link", "published": "date"}
SAMPLE_ARTICLES = 51


@pytest.fixture
def archive(tmp_path):
    dst = tmp_path / "archive"
    shutil.copytree(EXAMPLES, dst)
    return dst


@pytest.fixture
def sample_cfg(cfg_for, archive):
    return cfg_for(archive, {"path": str(archive / "exports" / "wikinews.jsonl"), "format": "jsonl",
                             "fields": JSONL_FIELDS})


def kill_when(cmd: list[str], ready, limit: float = 900, env: dict | None = None) -> None:
    """Start a process and SIGKILL it once `ready(seconds since its start)` holds, while it still runs.
    It waits for that moment however long a loaded machine takes to reach it (a process that ends first
    fails the test); `limit` only stops a hung one."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    t0 = time.monotonic()
    while not ready(time.monotonic() - t0):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < limit
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def assert_still_published(index_dir: Path, published: dict) -> None:
    """After a killed build: the index is consistent and still the one published before it."""
    state = check_consistent(index_dir, after_kill=True)
    assert (state["articles"], state["chunks"], state["generation"]) == (
        published["articles"], published["chunks"], published["generation"])


def check_consistent(index_dir: Path, after_kill: bool = False) -> dict:
    """The published index holds together: no orphans or duplicates, FTS and FAISS match the chunks.
    After a kill, staging may hold embedded work and a half-written FAISS file may lie about."""
    db = sqlite3.connect(index_dir / DB_NAME)
    meta = dict(db.execute("SELECT key, value FROM meta"))
    chunk_ids = [r[0] for r in db.execute("SELECT chunk_id FROM chunks ORDER BY chunk_id")]
    assert db.execute("SELECT count(*) FROM chunks WHERE article_id NOT IN (SELECT article_id FROM articles)"
                      ).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM articles WHERE article_id NOT IN (SELECT article_id FROM chunks)"
                      ).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM (SELECT article_id, ordinal FROM chunks GROUP BY 1, 2 HAVING count(*) > 1)"
                      ).fetchone() == (0,)
    assert [r[0] for r in db.execute("SELECT rowid FROM chunks_fts ORDER BY rowid")] == chunk_ids
    dim = int(meta["dim"])
    assert db.execute("SELECT count(*) FROM chunks WHERE length(vector) != ?", (dim * 4,)).fetchone() == (0,)
    index = faiss.read_index(str(index_dir / meta["faiss_file"]))
    assert sorted(faiss.vector_to_array(index.id_map).tolist()) == chunk_ids
    # the FAISS vectors are the stored vectors, not ones from an older model or chunking
    some = chunk_ids[:: max(1, len(chunk_ids) // 7)]
    for cid in some:
        (blob,) = db.execute("SELECT vector FROM chunks WHERE chunk_id = ?", (cid,)).fetchone()
        assert np.allclose(index.reconstruct(cid), np.frombuffer(blob, dtype=np.float32))
    manifest = json.loads((index_dir / "manifest.json").read_text())
    articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert (manifest["articles"], manifest["chunks"]) == (articles, len(chunk_ids))
    if not after_kill:
        assert db.execute("SELECT count(*) FROM staged_chunks").fetchone() == (0,)
        assert sorted(p.name for p in index_dir.glob("vectors-*")) == [meta["faiss_file"]]
    db.close()
    return {"articles": articles, "chunks": len(chunk_ids), "generation": int(meta["generation"]), "meta": meta}


def test_first_build_then_a_build_with_nothing_changed(sample_cfg, embedder):
    first = build(sample_cfg, embedder=embedder)
    assert (first.added, first.updated, first.unchanged, first.removed, first.failed) == (SAMPLE_ARTICLES, 0, 0, 0, 0)
    state = check_consistent(sample_cfg.index_dir())
    assert state["articles"] == SAMPLE_ARTICLES and first.chunks_embedded == state["chunks"]
    again = build(sample_cfg, embedder=embedder)
    assert (again.added, again.updated, again.unchanged, again.removed, again.chunks_embedded) == (
        0, 0, SAMPLE_ARTICLES, 0, 0)
    assert check_consistent(sample_cfg.index_dir())["generation"] == state["generation"]
    # the database holds the team's questions and feedback: its owner's only, as the link key is
    import stat

    for name in ("archive.sqlite", "archive.sqlite-wal"):
        path = sample_cfg.index_dir() / name
        assert not path.exists() or stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_changed_new_and_deleted_articles(sample_cfg, archive, embedder):
    build(sample_cfg, embedder=embedder)
    before = check_consistent(sample_cfg.index_dir())
    seed = archive / "text" / "ibm-facial-recognition.txt"
    seed.write_text(seed.read_text().replace("IBM is getting out of the facial recognition business",
                                             "IBM is leaving the facial recognition business for good"))
    (archive / "notes" / "lighthouse.md").write_text(
        "# Lighthouse keeper retires after forty years\n\nThe last lighthouse keeper on Puffin Rock switched off "
        "the lamp for the final time on Sunday, ending four decades of service on the remote island.\n")
    gone = next((archive / "html").glob("iranian-cargo-plane*.html"))
    gone.unlink()
    s = build(sample_cfg, embedder=embedder)
    assert (s.added, s.updated, s.unchanged, s.removed, s.failed) == (1, 1, SAMPLE_ARTICLES - 2, 1, 0)
    after = check_consistent(sample_cfg.index_dir())
    assert after["articles"] == SAMPLE_ARTICLES and after["generation"] == before["generation"] + 1
    searcher = Searcher(sample_cfg.index_dir(), embedder)
    [hit] = searcher.dense("who kept the lighthouse on Puffin Rock", 1)
    assert hit.title == "Lighthouse keeper retires after forty years"
    titles = {h.title for h in searcher.dense("Boeing 707 cargo plane crash in Karaj", 10)}
    assert "Iranian cargo plane crashes into Karaj houses" not in titles
    ibm = searcher.dense("IBM leaving facial recognition", 1)[0]
    assert ibm.title == "IBM Quits Facial Recognition, Joins Call For Police Reforms"
    assert "IBM is leaving the facial recognition business for good" in searcher.store.article(ibm.article_id).text
    searcher.close()


def test_a_file_that_turns_bad_keeps_its_articles(sample_cfg, archive, embedder):
    build(sample_cfg, embedder=embedder)
    page = next((archive / "html").glob("iranian-cargo-plane*.html"))
    good = page.read_bytes()
    page.write_bytes(b"\x00\x01binary junk" * 100)
    s = build(sample_cfg, embedder=embedder)
    assert (s.failed, s.removed, s.unchanged) == (1, 0, SAMPLE_ARTICLES - 1)
    assert s.errors == (f"archive/html/{page.name}: not an HTML page (binary data)",)
    assert check_consistent(sample_cfg.index_dir())["articles"] == SAMPLE_ARTICLES
    page.write_bytes(good)
    s = build(sample_cfg, embedder=embedder)
    assert (s.failed, s.added, s.updated, s.removed) == (0, 0, 0, 0)


def test_chunking_or_model_change_re_embeds_everything(sample_cfg, cfg_for, archive, embedder):
    build(sample_cfg, embedder=embedder)
    before = check_consistent(sample_cfg.index_dir())
    sources = ({"path": str(archive / "exports" / "wikinews.jsonl"), "format": "jsonl", "fields": JSONL_FIELDS},)
    rechunked = cfg_for(archive, *sources, chunking={"target_words": 60, "max_words": 80})
    s = build(rechunked, embedder=embedder)
    after = check_consistent(rechunked.index_dir())
    assert (s.updated, s.unchanged) == (SAMPLE_ARTICLES, 0)
    assert s.chunks_embedded == after["chunks"] > before["chunks"]
    assert after["meta"]["model_key"] != before["meta"]["model_key"]
    local = cfg_for(archive, *sources, chunking={"target_words": 60, "max_words": 80},
                    index={"model": model_path("bundled")})
    s = build(local, embedder=Embedder(model_path("bundled")))
    assert (s.updated, s.chunks_embedded) == (SAMPLE_ARTICLES, after["chunks"])
    assert check_consistent(local.index_dir())["meta"]["model"] == model_path("bundled")


def test_paraphrased_question_finds_its_article(sample_cfg, embedder):
    build(sample_cfg, embedder=embedder)
    searcher = Searcher(sample_cfg.index_dir(), embedder)
    hits = searcher.dense("why did the computer company stop selling face scanning software to police?", 3)
    assert hits[0].title == "IBM Quits Facial Recognition, Joins Call For Police Reforms"
    a = searcher.store.article(hits[0].article_id)
    assert all(a.text[h.start:h.end] == h.text for h in hits if h.article_id == a.article_id)
    searcher.close()


def _big_export(path: Path, n: int) -> None:
    rows = [json.loads(line) for line in (EXAMPLES / "exports" / "wikinews.jsonl").read_text().splitlines()]
    with open(path, "w") as f:
        for i in range(n):
            row = rows[i % len(rows)]
            f.write(json.dumps({"headline": f"{row['headline']} (dispatch {i})", "date": row["date"],
                                "body": f"Dispatch number {i}. " + row["body"]}) + "\n")


def test_a_build_killed_at_any_moment_leaves_the_last_index_and_the_next_build_finishes(
        sample_cfg, archive, tmp_path, embedder):
    build(sample_cfg, embedder=embedder)
    published = check_consistent(sample_cfg.index_dir())
    _big_export(archive / "exports" / "dispatches.jsonl", 240)
    config = tmp_path / "config.toml"
    config.write_text(f'[index]\npath = "{sample_cfg.index_dir()}"\n\n[[sources]]\npath = "{archive}"\n\n'
                      f'[[sources]]\npath = "{archive}/exports/wikinews.jsonl"\nformat = "jsonl"\n'
                      f'fields = {{ title = "headline", text = "body", url = "link", published = "date" }}\n'
                      f'[[sources]]\npath = "{archive}/exports/dispatches.jsonl"\nformat = "jsonl"\n'
                      f'fields = {{ title = "headline", text = "body", published = "date" }}\n')
    exe = Path(sys.executable).parent / "archivist"
    db = sqlite3.connect(f"file:{sample_cfg.index_dir() / DB_NAME}?mode=ro", uri=True)

    def staged() -> int:
        return db.execute("SELECT count(*) FROM staged_chunks").fetchone()[0]

    # first kill: early (reading, loading the model); second: after some embedded work was committed
    for ready in (lambda t: t > 1.0, lambda t: staged() > 0):
        kill_when([str(exe), "--config", str(config), "build"], ready)
        assert_still_published(sample_cfg.index_dir(), published)
        searcher = Searcher(sample_cfg.index_dir(), embedder)
        assert searcher.dense("IBM facial recognition", 1)[0].title.startswith("IBM Quits")
        searcher.close()
    staged_before = staged()
    assert staged_before > 0
    from index.config import load

    s = build(load(str(config)), embedder=embedder)
    assert (s.added, s.unchanged, s.failed) == (240, SAMPLE_ARTICLES, 0)
    final = check_consistent(sample_cfg.index_dir())
    assert final["articles"] == SAMPLE_ARTICLES + 240
    assert s.chunks_embedded == final["chunks"] - published["chunks"] - staged_before  # staged work was kept
    db.close()


# --- the command line ----------------------------------------------------------------------

def test_cli_build_stats_and_exit_codes(tmp_path, archive):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[index]\npath = "{tmp_path / "cli-index"}"\n')
    r = run_cli("--config", cfg, "build", "--json", archive / "text", archive / "notes")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert (summary["added"], summary["failed"]) == (3, 0)
    r = run_cli("--config", cfg, "stats", "--json")
    stats = json.loads(r.stdout)
    assert (stats["articles"], stats["model"], stats["dim"]) == (3, "bundled", 384)
    assert (stats["oldest_article"], stats["newest_article"]) == ("2020-06-09", "2020-11-22")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "junk.html").write_bytes(b"\x00" * 100)
    r = run_cli("--config", cfg, "build", bad, "--json", env={"ARCHIVIST_CONFIG": ""})
    assert r.returncode == 1  # nothing could be read
    assert "junk.html: not an HTML page (binary data)" in r.stderr
    r = run_cli("--config", tmp_path / "nope.toml", "stats")
    assert r.returncode == 2 and "no such config file" in r.stderr


def test_cli_extract_json(archive):
    r = run_cli("extract", "--json", archive / "text" / "ibm-facial-recognition.txt")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["title"] == "IBM Quits Facial Recognition, Joins Call For Police Reforms"
    assert doc["published"] == "2020-06-09"
    assert doc["source"].endswith("ibm-facial-recognition.txt")
    assert set(doc) == {"article_id", "source", "title", "url", "published", "author", "site", "text"}


def test_a_changed_site_re_reads_its_source_and_a_path_typed_otherwise_is_the_same_source(tmp_path, embedder):
    """A config change that alters records (site, fields, format) reads the files again though none
    changed on disk; the same files named relatively, absolutely, with ./ and /, through a link, one by
    one or from the command line are the same source: nothing re-read is re-embedded."""
    from index.config import parse

    (tmp_path / "arch").mkdir()
    for name, thing in (("one", "harbour bridge"), ("two", "night ferry")):
        (tmp_path / "arch" / f"{name}.txt").write_text(f"Story about the {thing}\n\nThe {thing} opened on Monday "
                                                       "after a long debate in the council.\n")

    def built(source: dict, **kw):
        return build(parse({"index": {"path": str(tmp_path / "idx")}, "sources": [source]}, tmp_path),
                     embedder=embedder, **kw)

    def sites():
        db = sqlite3.connect(tmp_path / "idx" / DB_NAME)
        return sorted(r[0] for r in db.execute("SELECT site FROM articles"))

    assert built({"path": "arch"}).added == 2
    s = built({"path": "arch", "site": "ksl.com"})
    assert (s.updated, s.unchanged) == (2, 0) and sites() == ["ksl.com", "ksl.com"]
    assert built({"path": "arch", "site": "ksl.com"}).unchanged == 2  # and then it is known again
    (tmp_path / "link").symlink_to(tmp_path / "arch")
    for typed in (str(tmp_path / "arch"), "./arch/", "arch//", str(tmp_path / "link")):
        s = built({"path": typed, "site": "ksl.com"})
        assert (s.added, s.updated, s.removed, s.unchanged, s.chunks_embedded) == (0, 0, 0, 2, 0), typed
    # the command line's paths are read with the configured entry that holds them
    (tmp_path / "config.toml").write_text('[index]\npath = "idx"\n\n[[sources]]\npath = "arch"\nsite = "ksl.com"\n')
    out = run_cli("build", "--json", str(tmp_path / "arch" / "one.txt"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert (doc["updated"], doc["unchanged"], doc["chunks_embedded"], doc["sources"]) == (0, 1, 0, ["arch/one.txt"])
    assert sites() == ["ksl.com", "ksl.com"]
