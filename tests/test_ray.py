"""Embedding on Ray: a local Ray instance (2 CPUs, bounded memory, shut down even when a test fails)
gives the same index as the local build, and a build whose encoder actor is killed mid-build still
publishes a complete index."""
import logging
import shutil
import threading
import time

import numpy as np
import pytest

from conftest import DATA, EXAMPLES, JSONL_FIELDS, run_cli
from index.storing.build import build
from index.storing.check import check
from index.config import parse
from index.storing.store import Store

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    import faulthandler

    # bounded: 2 CPUs, a 100 MB object store, and a hung cluster ends the run (with every thread's
    # stack) instead of holding CI until its limit
    faulthandler.dump_traceback_later(600, exit=True)
    ray.init(num_cpus=2, object_store_memory=100 * 2**20, include_dashboard=False, log_to_driver=False,
             namespace="archivist", configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()
        faulthandler.cancel_dump_traceback_later()


def _cfg(tmp_path, name, **build_settings):
    return parse({"index": {"path": str(tmp_path / name)}, "build": build_settings, "sources": [
        {"path": str(EXAMPLES / "exports" / "wikinews.jsonl"), "format": "jsonl", "fields": JSONL_FIELDS},
        {"path": str(DATA / "news")}]}, tmp_path)


def _contents(index_dir):
    store = Store.open(index_dir, readonly=True)
    try:
        rows = store.conn.execute('SELECT chunk_id, article_id, start, "end", vector FROM chunks ORDER BY chunk_id')
        out = [(cid, aid, s, e, np.frombuffer(v, dtype=np.float32)) for cid, aid, s, e, v in rows]
        return out, store.meta()["generation"]
    finally:
        store.close()


def test_a_ray_build_makes_the_same_index_as_a_local_one(cluster, tmp_path, embedder):
    local = build(_cfg(tmp_path, "local"), embedder=embedder)
    on_ray = build(_cfg(tmp_path, "ray", ray="auto", ray_workers=2), embedder=embedder)
    assert (on_ray.added, on_ray.chunks_embedded, on_ray.failed) == (local.added, local.chunks_embedded, 0)
    assert on_ray.encoder == "onnx on Ray, 2 workers" and local.encoder == "onnx on cpu"
    assert "chunks embedded (onnx on Ray, 2 workers) in" in on_ray.line()
    a, _ = _contents(tmp_path / "local")
    b, _ = _contents(tmp_path / "ray")
    assert [r[:4] for r in a] == [r[:4] for r in b] and len(a) == local.chunks_embedded
    assert max(float(np.abs(x[4] - y[4]).max()) for x, y in zip(a, b)) < 1e-5
    assert all(f.ok for f in check(tmp_path / "ray"))
    # nothing new: the cluster is not even asked
    again = build(_cfg(tmp_path, "ray", ray="auto", ray_workers=2), embedder=embedder)
    assert again.chunks_embedded == 0 and again.encoder == ""


def test_an_encoder_actor_killed_mid_build_costs_only_its_slice(cluster, tmp_path, embedder, caplog):
    import os

    first = f"archivist-encoder-{os.getpid()}-"
    killed = []

    def kill_first_actor():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for info in ray.util.list_named_actors(all_namespaces=True):
                name = info["name"] if isinstance(info, dict) else info
                if name.startswith(first):
                    ray.kill(ray.get_actor(name, namespace="archivist"), no_restart=True)
                    killed.append(name)
                    return
            time.sleep(0.01)

    # a fresh build's actors are numbered after the earlier test's: whichever comes first is killed
    killer = threading.Thread(target=kill_first_actor)
    killer.start()
    with caplog.at_level(logging.WARNING, logger="archivist.ray"):
        summary = build(_cfg(tmp_path, "killed", ray="auto", ray_workers=2), embedder=embedder)
    killer.join()
    assert killed, "no encoder actor was seen to kill"
    assert any("a Ray encoder actor died" in r.getMessage() for r in caplog.records), caplog.text
    assert summary.failed == 0 and summary.chunks_embedded > 0
    local = build(_cfg(tmp_path, "local"), embedder=embedder)
    a, _ = _contents(tmp_path / "local")
    b, _ = _contents(tmp_path / "killed")
    assert [r[:4] for r in a] == [r[:4] for r in b] and len(b) == local.chunks_embedded
    assert max(float(np.abs(x[4] - y[4]).max()) for x, y in zip(a, b)) < 1e-5
    assert all(f.ok for f in check(tmp_path / "killed"))
    shutil.rmtree(tmp_path / "killed")


def test_a_killed_ray_build_leaves_the_last_index_and_the_next_build_keeps_its_staged_work(
        cluster, tmp_path, embedder):
    """`archivist build --ray` as a process of its own on the test's cluster, killed once it has staged
    some embeddings: the published index is untouched, and a later build embeds only the rest."""
    import os
    import sqlite3
    import sys
    from pathlib import Path

    from test_build import _big_export, assert_still_published, check_consistent, kill_when

    cfg = _cfg(tmp_path, "idx")
    build(cfg, embedder=embedder)
    published = check_consistent(cfg.index_dir())
    # over 512 chunks (EMBED_GROUP_CHUNKS): a first group is staged while the next is embedded, a window
    # the kill can hit; with one group, staging and publishing follow each other within milliseconds
    _big_export(tmp_path / "dispatches.jsonl", 240)
    config = tmp_path / "c.toml"
    fields = "{ title = \"headline\", text = \"body\", published = \"date\" }"
    config.write_text(f'[index]\npath = "{cfg.index_dir()}"\n\n'
                      f'[[sources]]\npath = "{EXAMPLES / "exports" / "wikinews.jsonl"}"\nformat = "jsonl"\n'
                      f'fields = {{ title = "headline", text = "body", url = "link", published = "date" }}\n\n'
                      f'[[sources]]\npath = "{DATA / "news"}"\n\n'
                      f'[[sources]]\npath = "{tmp_path / "dispatches.jsonl"}"\nformat = "jsonl"\nfields = {fields}\n')
    db = sqlite3.connect(f"file:{cfg.index_dir() / 'archive.sqlite'}?mode=ro", uri=True)
    exe = Path(sys.executable).parent / "archivist"
    def staged() -> int:
        return db.execute("SELECT count(*) FROM staged_chunks").fetchone()[0]

    kill_when([str(exe), "--config", str(config), "build", "--ray", "auto", "--ray-workers", "2"],
              lambda t: staged() > 0,
              env={**os.environ, "RAY_ADDRESS": ray.get_runtime_context().gcs_address})
    assert_still_published(cfg.index_dir(), published)
    staged_before = staged()
    db.close()
    from index.config import load

    again = build(load(str(config)), embedder=embedder)
    assert (again.added, again.failed) == (240, 0)
    final = check_consistent(cfg.index_dir())
    assert again.chunks_embedded == final["chunks"] - published["chunks"] - staged_before  # the Ray build's work was kept


def test_bad_ray_settings_are_one_line(tmp_path):
    r = run_cli("build", "--ray", "not an address", str(DATA / "news"), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == ("error: --ray must be \"auto\", \"local\" or an address like ray://host:10001, "
                        "not 'not an address'\n")
    (tmp_path / "c.toml").write_text('[build]\nray_workers = -1\n')
    r = run_cli("--config", tmp_path / "c.toml", "stats", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr == "error: config: [build] ray_workers must be positive, not -1\n"
