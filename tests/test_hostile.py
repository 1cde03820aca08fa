"""Hostile input: no file stops a build, blows up memory, forges a message or leaks outside the archive.
The files are made by tests/hostile_files.py in a temp folder; the build is the real one."""
import os
import sqlite3
import subprocess
import sys
import time

import pytest

import hostile_files as hf
from conftest import run_cli
from index.storing.build import build
from index.storing.store import DB_NAME


def articles(cfg) -> dict[str, tuple]:
    db = sqlite3.connect(cfg.index_dir() / DB_NAME)
    return {r[0]: r[1:] for r in db.execute("SELECT title, url, published, site, source, record FROM articles")}


def test_a_bad_record_costs_that_record_only(tmp_path, cfg_for, embedder):
    (tmp_path / "a").mkdir()
    hf.bad_records(tmp_path / "a")
    cfg = cfg_for(tmp_path / "a")
    summary = build(cfg, embedder=embedder)
    assert summary.errors == ("a/crawl.warc#urn:uuid:r2: response record without WARC-Target-URI; skipped",)
    got = articles(cfg)
    assert sorted(got) == ["Canonical page", "IPv6 row", "Port row", "Record four", "Record one", "Record three",
                           "Script note", "Script row"]
    # a link that is not a web link is dropped; the article stays, its site unknown
    for title in ("Canonical page", "IPv6 row", "Port row", "Record three", "Script note", "Script row"):
        assert got[title][0] == "", title
    assert got["Record four"][:1] == ("https://a.example/four",) and got["Record four"][2] == "a.example"
    assert summary.added == 8 and summary.failed == 1
    # and the next build is not stopped either: nothing changed, nothing to do
    again = build(cfg, embedder=embedder)
    assert (again.added, again.unchanged, again.failed) == (0, 8, 1)


def test_odd_file_names_are_indexed_and_shown_escaped(tmp_path, cfg_for, embedder):
    (tmp_path / "a").mkdir()
    _, forged = hf.odd_names(tmp_path / "a")
    cfg = cfg_for(tmp_path / "a")
    said = []
    summary = build(cfg, embedder=embedder, report=said.append)
    # the forged name is one escaped line, not a second "error:" line
    assert said == ["error: " + repr("a/" + forged) + ": not valid UTF-8 (bad byte at offset 0)"]
    assert [src for *_, src, _ in articles(cfg).values()] == ["a/bad-\\xff-name.txt"]
    assert summary.added == 1 and summary.failed == 1


def test_links_out_of_the_archive_are_not_followed(tmp_path, cfg_for, embedder):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "story.txt").write_text("Canal story\n\n" + hf.body("canal"))
    hf.outside_link(tmp_path / "a", tmp_path / "passwd")
    (tmp_path / "a" / "inside.txt").symlink_to(tmp_path / "a" / "story.txt")  # inside the folder: fine
    cfg = cfg_for(tmp_path / "a")
    said = []
    summary = build(cfg, embedder=embedder, report=said.append)
    assert said == ["error: a/passwd.txt: a link to a file outside the source folder; not followed "
                    "(set follow_symlinks = true in its [[sources]] entry to follow it)"]
    db = sqlite3.connect(cfg.index_dir() / DB_NAME)
    assert [r[0] for r in db.execute("SELECT source FROM articles ORDER BY 1")] == ["a/inside.txt", "a/story.txt"]
    assert db.execute("SELECT count(*) FROM articles WHERE text LIKE '%root:x%'").fetchone() == (0,)
    assert summary.failed == 1
    followed = build(cfg_for({"path": str(tmp_path / "a"), "follow_symlinks": True}), embedder=embedder)
    assert followed.failed == 0 and followed.added == 1


def test_a_source_named_as_a_file_that_links_out_is_not_followed(tmp_path, cfg_for, embedder):
    (tmp_path / "a").mkdir()
    hf.outside_link(tmp_path / "a", tmp_path / "passwd")
    said = []
    summary = build(cfg_for(tmp_path / "a" / "passwd.txt"), embedder=embedder, report=said.append)
    assert said == ["error: a/passwd.txt: a link to a file outside the source folder; not followed "
                    "(set follow_symlinks = true in its [[sources]] entry to follow it)"]
    assert (summary.added, summary.failed) == (0, 1)
    out = run_cli("extract", tmp_path / "a" / "passwd.txt", cwd=tmp_path)
    assert out.returncode == 1 and "root:x" not in out.stdout
    assert out.stderr.strip().endswith("a link to a file outside the source folder; not followed "
                                       "(set follow_symlinks = true in its [[sources]] entry to follow it)")


def test_an_open_quote_in_a_csv_is_reported_and_the_rows_it_took_are_read(tmp_path, cfg_for, embedder):
    hf.unbalanced_csv(tmp_path / "x.csv")
    cfg = cfg_for(tmp_path / "x.csv")
    summary = build(cfg, embedder=embedder)
    assert summary.errors == ("x.csv:3: unbalanced quote: a field runs on to line 5, taking in 2 rows; this row is "
                              "skipped, the rows it took in are read on their own",)
    assert sorted(articles(cfg)) == ["First row", "Fourth row", "Third row"]
    assert sorted(r[-1] for r in articles(cfg).values()) == ["c1", "c3", "c4"]  # the export's own ids


def test_implausible_dates_are_dropped_with_a_warning(tmp_path, cfg_for, embedder, caplog):
    (tmp_path / "a").mkdir()
    hf.odd_dates(tmp_path / "a")
    cfg = cfg_for(tmp_path / "a")
    with caplog.at_level("WARNING", logger="archivist.sources"):
        build(cfg, embedder=embedder)
    got = {t: pub for t, (_, pub, *_) in articles(cfg).items()}
    assert got == {"Year one story": "", "Future story": "", "Dated story": "1850-05-01"}
    assert sorted(r.getMessage() for r in caplog.records) == [
        "warning: a/future.md: 2999-05-01 is not a plausible date of publication; the article is kept without it",
        "warning: a/year-one.txt: 0001-01-01 is not a plausible date of publication; the article is kept without it"]


def test_chunking_and_summaries_take_linear_time(tmp_path, embedder):
    from index.reading import extract
    from index.reading.chunk import chunk
    from index.config import ChunkSettings
    from index.searching.summarize import summarize

    seconds = {}
    for size in (200_000, 1_600_000):
        hf.long_article(tmp_path / "long.txt", size)
        text = extract.text_dump((tmp_path / "long.txt").read_text()).text
        t0 = time.perf_counter()
        chunk(text, ChunkSettings())
        seconds[size] = time.perf_counter() - t0
        t0 = time.perf_counter()
        summarize(text, embedder, 3)
        assert time.perf_counter() - t0 < 5  # bounded: the summary reads the article's start only
    # 8 times the text: about 8 times the time (quadratic was 64 times); generous for a noisy machine
    assert seconds[1_600_000] < 20 * seconds[200_000] + 0.05


@pytest.mark.skipif(sys.platform != "linux", reason="peak RSS from /proc")
def test_gzip_bombs_are_read_in_bounded_pieces(tmp_path):
    """A few hundred KB of gzip that expand to a 300 MB line: each is an error line, the line after it
    is read, and the build's peak memory stays far below what holding the line would take."""
    (tmp_path / "a").mkdir()
    hf.bomb_line(tmp_path / "a" / "bomb.jsonl.gz", 300)
    hf.bomb_line(tmp_path / "a" / "bomb.csv.gz", 300)
    hf.bomb_warc(tmp_path / "a" / "bomb.warc.gz", 300)
    code = hf.PEAK_RSS
    out = subprocess.run([sys.executable, "-c", code, "build", "a", "--json"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    lines = out.stderr.strip().splitlines()
    peak_mb = int(lines[-1]) / 1024
    assert sorted(lines[:-1]) == [
        "error: a/bomb.csv.gz:2: line over the 10 MB limit; skipped",
        "error: a/bomb.jsonl.gz:1: line over the 10 MB limit; skipped",
        "error: a/bomb.warc.gz: WARC damaged or truncated after 1 HTML records (a header line is over 10 MB)"]
    assert out.returncode == 0
    assert '"added": 3' in out.stdout  # the line after each bomb, and the WARC record before it
    assert peak_mb < 800, peak_mb  # the model and libraries take about 550 MB; a line held whole would add 600+


def test_warc_without_target_uri_through_the_cli(tmp_path):
    (tmp_path / "a").mkdir()
    hf.bad_records(tmp_path / "a")
    out = run_cli("build", "a", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout.startswith("8 added, 0 updated, 0 unchanged, 0 removed, 1 failed")
