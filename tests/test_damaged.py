"""A damaged index: every command says which file and what to do, `build` repairs what the database
can rebuild, and `archivist check` finds what is wrong. Through the real console script."""
import json
import sqlite3

import pytest

import hostile_files as hf
from conftest import run_cli


@pytest.fixture
def small_index(tmp_path):
    (tmp_path / "a").mkdir()
    for name, thing in (("one", "harbour bridge"), ("two", "night ferry"), ("three", "tram depot")):
        (tmp_path / "a" / f"{name}.txt").write_text(f"Story about the {thing}\n\n{hf.body(thing)}\n")
    (tmp_path / "config.toml").write_text('[index]\npath = "idx"\n\n[[sources]]\npath = "a"\n')
    out = run_cli("build", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return tmp_path


def faiss_file(root):
    (name,) = [p.name for p in (root / "idx").glob("vectors-*.faiss")]
    return root / "idx" / name


def no_traceback(out):
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    return out


def flagged_then_repaired(root, why: str):
    """`check` names the damage and fails; `build` says it and rebuilds the vectors without embedding;
    `check` then passes (its output returned)."""
    check = no_traceback(run_cli("check", cwd=root))
    assert check.returncode == 1
    assert f"problem: {why}; run `archivist build` to rebuild it from the database" in check.stdout.splitlines()
    build = no_traceback(run_cli("build", "--json", cwd=root))
    assert build.stderr.strip() == f"warning: {why}; rebuilding it from the database (nothing is embedded again)"
    assert json.loads(build.stdout)["chunks_embedded"] == 0
    check = run_cli("check", cwd=root)
    assert check.returncode == 0
    return check


@pytest.mark.parametrize("damage", ["delete", "truncate", "overwrite"])
def test_a_damaged_vector_file_is_named_and_rebuilt_without_embedding(small_index, damage):
    path = faiss_file(small_index)
    if damage == "delete":
        path.unlink()
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    else:
        path.write_bytes(b"\x00garbage" * 100)
    why = {"delete": "is missing", "truncate": "is damaged (FAISS cannot read it)",
           "overwrite": "is damaged (FAISS cannot read it)"}[damage]
    ask = no_traceback(run_cli("ask", "harbour bridge", cwd=small_index))
    assert ask.returncode == 1
    assert ask.stderr.strip() == (f"error: the vector file {path.name} {why}; run `archivist build` to rebuild it "
                                  "from the database (nothing is embedded again)")
    check = no_traceback(run_cli("check", cwd=small_index))
    assert check.returncode == 1
    assert f"problem: the vector file {path.name} {why}; run `archivist build` to rebuild it from the database" \
        in check.stdout.splitlines()
    build = no_traceback(run_cli("build", "--json", cwd=small_index))
    assert build.returncode == 0, build.stderr
    assert build.stderr.strip() == (f"warning: the vector file {path.name} {why}; rebuilding it from the database "
                                    "(nothing is embedded again)")
    summary = json.loads(build.stdout)
    assert (summary["added"], summary["unchanged"], summary["chunks_embedded"]) == (0, 3, 0)
    assert run_cli("check", cwd=small_index).returncode == 0
    ask = run_cli("ask", "--json", "harbour bridge", cwd=small_index)
    assert json.loads(ask.stdout)["passages"][0]["title"] == "Story about the harbour bridge"


def test_a_damaged_database_gets_one_line_from_every_command(small_index):
    db = small_index / "idx" / "archive.sqlite"
    for extra in ("-wal", "-shm"):
        (small_index / "idx" / ("archive.sqlite" + extra)).unlink(missing_ok=True)
    data = bytearray(db.read_bytes())
    data[:16] = b"not a database!!"
    db.write_bytes(bytes(data))
    for command in (["stats"], ["ask", "harbour"], ["build"], ["check"], ["summarize", "harbour"]):
        out = no_traceback(run_cli(*command, cwd=small_index))
        assert out.returncode == 1, command
        text = (out.stderr + out.stdout).strip()
        # check goes on to the models (whole, here): "ok" lines
        assert len([line for line in text.splitlines() if not line.startswith("ok: ")]) == 1, (command, text)
        assert f"the database {db} is damaged (file is not a database)" in text, (command, text)
    serve = no_traceback(run_cli("serve", "--http", cwd=small_index,
                                 env={"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s"}))
    assert serve.returncode == 1 and "the database" in serve.stderr and len(serve.stderr.splitlines()) == 1


def test_an_empty_database_file_is_not_an_index(tmp_path):
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "archive.sqlite").write_bytes(b"")
    (tmp_path / "config.toml").write_text('[index]\npath = "idx"\n')
    out = no_traceback(run_cli("stats", cwd=tmp_path))
    assert out.returncode == 1
    assert out.stderr.strip() == (f"error: {tmp_path}/idx/archive.sqlite is empty or not an Archivist index "
                                  "(run `archivist build` to make one)")


def test_check_finds_tables_out_of_step_and_a_stale_manifest(small_index):
    db = sqlite3.connect(small_index / "idx" / "archive.sqlite")
    with db:
        db.execute("DELETE FROM chunks_fts WHERE rowid = (SELECT min(chunk_id) FROM chunks)")
    db.close()
    manifest = small_index / "idx" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"articles": 3', '"articles": 4'))
    out = run_cli("check", "--json", cwd=small_index)
    assert out.returncode == 1
    found = json.loads(out.stdout)["findings"]
    assert [f["what"] for f in found if not f["ok"]] == [
        "the keyword index has 2 rows for 3 chunks; move the index folder away and run `archivist build` to build "
        "it again",
        "manifest.json disagrees with the database on articles; run `archivist build` to write it"]


def test_a_vector_file_of_other_chunk_ids_is_flagged_by_check_and_repaired_by_build(small_index):
    """Same count, other ids (an older build's file put back): `check` flags it and `build` repairs it,
    where it used to say '0 added' and leave `check` failing."""
    import faiss
    import numpy as np

    path = faiss_file(small_index)
    index = faiss.read_index(str(path))
    vecs = np.vstack([index.index.reconstruct(i) for i in range(index.ntotal)])
    other = faiss.IndexIDMap(faiss.IndexFlatIP(index.d))
    other.add_with_ids(vecs, faiss.vector_to_array(index.id_map) + 1_000)
    faiss.write_index(other, str(path))
    flagged_then_repaired(small_index, f"the vector file {path.name} holds other chunk ids than the database")


def test_a_damaged_page_fails_the_build_even_when_no_file_changed(small_index):
    db = small_index / "idx" / "archive.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size, pages = conn.execute("PRAGMA page_size").fetchone()[0], conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with open(db, "r+b") as f:  # a page in the middle, its header and cells overwritten
        f.seek(page_size * (pages // 2))
        f.write(b"\xa5" * page_size)
    out = no_traceback(run_cli("build", cwd=small_index))
    assert out.returncode == 1
    [line] = out.stderr.splitlines()
    assert line.startswith(f"error: the database {db} is damaged (") and line.endswith(
        "); run `archivist check` for details, or move the index folder away and run `archivist build` to build it again")


def test_a_full_disk_is_said_plainly_and_the_published_index_kept(small_index, small_disk):
    """Not 'the database is damaged, rebuild it' (a full re-embed for nothing): the disk is full."""
    import subprocess

    (small_index / "config.toml").write_text(f'[index]\npath = "{small_disk}/idx"\n\n[[sources]]\npath = "a"\n')
    assert run_cli("build", cwd=small_index).returncode == 0
    hf.long_article(small_index / "a" / "report.txt", 400_000)  # its 646 chunks' vectors do not fit in 1 MB
    out = no_traceback(run_cli("build", cwd=small_index))
    assert out.returncode == 1
    [line] = out.stderr.splitlines()
    assert line.startswith(f"error: the disk holding {small_disk}/idx is full (") and line.endswith(
        "); the published index is unchanged and what was embedded is kept: free some space and build again")
    assert not list((small_disk / "idx").glob("*.tmp"))
    assert run_cli("check", cwd=small_index).returncode == 0
    ask = run_cli("ask", "--json", "harbour bridge", cwd=small_index)
    assert json.loads(ask.stdout)["passages"][0]["title"] == "Story about the harbour bridge"
    subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
    again = run_cli("build", "--json", cwd=small_index)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["added"] == 1


def test_vectors_overwritten_inside_the_file_are_found_by_check_and_repaired_by_build(small_index):
    """4 KB of 0xff inside the FAISS file: counts and ids still match, three vectors are NaN. `check`
    said all was well and `build` did nothing; the file's sha256, recorded when it was written, tells."""
    path = faiss_file(small_index)
    data = bytearray(path.read_bytes())
    data[200:200 + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))
    check = flagged_then_repaired(small_index, f"the vector file {path.name} is not the file the build wrote (its "
                                                "sha256 differs): damaged on disk")
    assert "vectors equal the database's" in check.stdout


def test_an_index_without_a_recorded_checksum_compares_its_vectors(small_index):
    """Indexes published before checksums were recorded: the vectors themselves are compared."""
    import numpy as np

    db = sqlite3.connect(small_index / "idx" / "archive.sqlite")
    db.execute("DELETE FROM meta WHERE key = 'faiss_sha256'")
    db.commit()
    db.close()
    path = faiss_file(small_index)
    data = bytearray(path.read_bytes())
    data[-400:-384] = np.full(4, np.nan, np.float32).tobytes()  # inside the last vector (the id map follows it)
    path.write_bytes(bytes(data))
    check = no_traceback(run_cli("check", cwd=small_index))
    assert check.returncode == 1
    assert (f"problem: the vector file {path.name} holds 1 vector that differs from the database's; run `archivist "
            "build` to rebuild it from the database") in check.stdout.splitlines()
    build = no_traceback(run_cli("build", "--json", cwd=small_index))
    assert "rebuilding it from the database" in build.stderr
    assert run_cli("check", cwd=small_index).returncode == 0


def test_a_folder_where_the_old_vector_file_was_does_not_fail_the_build(small_index):
    path = faiss_file(small_index)
    path.unlink()
    path.mkdir()
    build = no_traceback(run_cli("build", "--json", cwd=small_index))
    assert build.returncode == 0
    assert f"warning: the old vector file {path} cannot be removed (Is a directory); remove it by hand" in build.stderr
    assert run_cli("check", cwd=small_index).returncode == 0
