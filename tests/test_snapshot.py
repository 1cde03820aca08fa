"""Shipping a generation to replicas: `archivist snapshot` makes a consistent copy in a new folder, and
a running Searcher whose [index] path is a symlink moves to the folder the symlink is switched to."""
import os
import sqlite3
from pathlib import Path

import pytest

from conftest import extended_index, folder_with, run_cli
from index.storing.check import check
from index.searching.search import Searcher
from index.storing.snapshot import snapshot
from index.storing.store import StoreError

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


def test_a_snapshot_into_a_file_or_an_unmakeable_folder_is_one_clear_line(tmp_path, sample_index):
    (tmp_path / "afile").write_text("x")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[index]\npath = "{sample_index.index_dir()}"\n')
    for dest, says in ((tmp_path / "afile", f"error: {tmp_path / 'afile'} is a file: a snapshot goes into a new folder"),
                       (Path("/proc/x"), "error: cannot make the snapshot folder /proc/x: No such file or directory")):
        out = run_cli("--config", cfg, "snapshot", dest)
        assert out.returncode == 1 and out.stderr.strip() == says


def test_a_link_any_replica_made_opens_on_every_replica_after_a_switch(tmp_path, sample_index, monkeypatch):
    """As the README ships it: snapshots from one builder, copied to two hosts whose [index] path is a
    symlink, then a new snapshot switched in and the replica restarted."""
    import shutil
    import stat
    from urllib.parse import parse_qs, urlsplit

    from index.searching.links import SECRET_FILE, Signer, load_secret

    monkeypatch.delenv("ARCHIVIST_LINK_SECRET", raising=False)
    builder = tmp_path / "builder"
    shutil.copytree(sample_index.index_dir(), builder)
    (builder / SECRET_FILE).unlink(missing_ok=True)  # a builder that never served a link
    snapshot(builder, tmp_path / "release-1")
    snapshot(builder, tmp_path / "release-2")
    assert stat.S_IMODE((tmp_path / "release-1" / SECRET_FILE).stat().st_mode) == 0o600
    replicas = []
    for host in ("a", "b"):
        for release in ("release-1", "release-2"):
            shutil.copytree(tmp_path / release, tmp_path / host / release)
        (tmp_path / host / "current").symlink_to(tmp_path / host / "release-1")
        replicas.append(tmp_path / host / "current")

    def signer(index_dir):  # what a replica's bot makes as it starts
        return Signer(load_secret(index_dir), "https://archive.example.com")

    article = "a" * 12
    link = urlsplit(signer(replicas[0]).url(article, 10, 20))
    q = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert signer(replicas[1]).check(article, q["q"], q["exp"], q["sig"]) == ""  # made by A, opened on B
    for r in replicas:  # the switch (atomic, as the README does it), and a restart
        (r.parent / "next").symlink_to(r.parent / "release-2")
        os.replace(r.parent / "next", r)
    assert all(signer(r).check(article, q["q"], q["exp"], q["sig"]) == "" for r in replicas)


def test_a_snapshot_onto_a_full_disk_names_that_disk_leaves_nothing_and_runs_again(tmp_path, sample_index, small_disk):
    """Before: the error named the source's disk, and archive.sqlite.part and its journal stayed in the
    destination, so that running the snapshot again said 'is not empty'."""
    import subprocess

    cfg = _config(tmp_path, sample_index.index_dir())
    for dest in (small_disk / "release", small_disk):  # a new folder, and an empty one that stays
        out = run_cli("--config", cfg, "snapshot", dest)
        assert out.returncode == 1
        [line] = out.stderr.splitlines()
        assert line.startswith(f"error: the disk holding {dest} is full (") and line.endswith(
            "); nothing was left there: free some space and run the snapshot again"), line
        assert list(small_disk.iterdir()) == []
    subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
    again = run_cli("--config", cfg, "snapshot", small_disk / "release")
    assert again.returncode == 0, again.stderr
    assert all(f.ok for f in check(small_disk / "release"))
