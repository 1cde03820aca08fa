"""Shipping a generation to replicas: `archivist snapshot` makes a consistent copy in a new folder, and
a running Searcher whose [index] path is a symlink moves to the folder the symlink is switched to."""
import os
import sqlite3

import pytest

from conftest import extended_index, folder_with, run_cli
from index.check import check
from index.search import Searcher
from index.snapshot import snapshot
from index.store import StoreError

FERRY = ("Ferry Workers Strike Over Harbor Safety\n\nJune 3, 2021\n\n"
              "Ferry workers in Port Halden walked off the job on Thursday, halting crossings for about 9,000 "
              "commuters, until the port authority repairs the broken safety rails on three vessels.\n")


def test_a_snapshot_is_a_complete_index_and_a_switched_symlink_is_followed(tmp_path, sample_index, embedder):
    first = tmp_path / "releases" / "first"
    made = snapshot(sample_index.index_dir(), first)
    assert made["generation"] >= 1 and made["articles"] == 54
    assert all(f.ok for f in check(first)), check(first)
    db = sqlite3.connect(first / "archive.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert db.execute("SELECT count(*) FROM staged_chunks").fetchone() == (0,)
    db.close()
    with pytest.raises(StoreError, match="is not empty: a snapshot goes into a new folder"):
        snapshot(sample_index.index_dir(), first)
    # the builder adds an article and ships a second snapshot
    news = folder_with(tmp_path / "news", {"ferry.txt": FERRY})
    (tmp_path / "builder").mkdir()
    union = extended_index(tmp_path / "builder", sample_index, embedder, news)
    r = run_cli("--config", _config(tmp_path, union.index_dir()), "snapshot", tmp_path / "releases" / "second")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("snapshot of generation ") and "(55 articles, " in r.stdout
    current = tmp_path / "current"
    current.symlink_to(first)
    searcher = Searcher(current, embedder)
    assert "Ferry Workers Strike" not in {h.title for h in searcher.search("ferry strike Port Halden")}
    switch = tmp_path / "current.new"
    switch.symlink_to(tmp_path / "releases" / "second")
    os.replace(switch, current)  # atomic: a reader sees one folder or the other
    assert searcher.search("ferry strike Port Halden")[0].title == "Ferry Workers Strike Over Harbor Safety"
    assert searcher.articles == 55
    searcher.close()


def _config(tmp_path, index_dir):
    path = tmp_path / "builder.toml"
    path.write_text(f'[index]\npath = "{index_dir}"\n')
    return path
