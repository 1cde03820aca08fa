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
        assert len(text.splitlines()) == 1, (command, text)
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
