"""The console script as a user meets it: subset builds, --config anywhere, extract as build reads,
terminal-safe output, batches that survive a bad line, chat's small commands. Real subprocesses."""
import json
import shutil

import pytest

import hostile_files as hf
from conftest import EXAMPLES, run_cli


@pytest.fixture
def two_folders(tmp_path):
    for folder, things in (("a", ("harbour bridge", "night ferry")), ("b", ("tram depot", "canal locks"))):
        (tmp_path / folder).mkdir()
        for i, thing in enumerate(things):
            (tmp_path / folder / f"{i}.txt").write_text(f"Story about the {thing}\n\n{hf.body(thing)}\n")
    return tmp_path


def build_json(cwd, *args):
    out = run_cli("build", "--json", *args, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_building_a_subset_keeps_the_rest_unless_pruned(two_folders):
    assert build_json(two_folders, "a", "b")["added"] == 4
    (two_folders / "a" / "1.txt").unlink()
    only_a = build_json(two_folders, "a")
    # the article gone from a/ is removed; b/'s two stay
    assert (only_a["added"], only_a["unchanged"], only_a["removed"], only_a["sources"]) == (0, 1, 1, ["a"])
    stats = json.loads(run_cli("stats", "--json", cwd=two_folders).stdout)
    assert stats["articles"] == 3
    out = run_cli("build", "a", cwd=two_folders)
    assert out.stdout.startswith("0 added, 0 updated, 1 unchanged, 0 removed, 0 failed; ")
    assert "; read a -> " in out.stdout
    pruned = build_json(two_folders, "a", "--prune")
    assert pruned["removed"] == 2
    assert json.loads(run_cli("stats", "--json", cwd=two_folders).stdout)["articles"] == 1


def test_a_path_that_does_not_exist_leaves_no_index_behind(tmp_path):
    out = run_cli("build", "nowhere", cwd=tmp_path)
    assert (out.returncode, out.stderr) == (2, "error: no such file or folder: nowhere\n")
    assert not (tmp_path / "archive-index").exists()


def test_config_goes_before_or_after_the_sub_command(two_folders):
    (two_folders / "my.toml").write_text('[index]\npath = "elsewhere"\n')
    assert run_cli("build", "a", "--config", "my.toml", cwd=two_folders).returncode == 0
    after = json.loads(run_cli("stats", "--json", "--config", "my.toml", cwd=two_folders).stdout)
    before = json.loads(run_cli("--config", "my.toml", "stats", "--json", cwd=two_folders).stdout)
    assert after == before and after["index"] == str(two_folders / "elsewhere") and after["articles"] == 2


def test_the_readme_build_needs_no_config(tmp_path):
    """`archivist build examples/archive` with no config indexes all 51 sample articles: the exports'
    field names (headline, body, link, date) are ones the reader knows."""
    shutil.copytree(EXAMPLES, tmp_path / "examples" / "archive")
    summary = build_json(tmp_path, "examples/archive")
    assert (summary["added"], summary["failed"]) == (51, 0)


def test_extract_reads_a_file_as_the_configured_build_does(tmp_path):
    (tmp_path / "cms.jsonl").write_text(json.dumps({"guid": "X-1", "words": "The ferry runs again from Monday.",
                                                    "head": "Ferry back"}) + "\n")
    (tmp_path / "config.toml").write_text('[[sources]]\npath = "cms.jsonl"\nformat = "jsonl"\n'
                                          'fields = { text = "words", title = "head", id = "guid" }\n')
    out = run_cli("extract", "--json", "cms.jsonl", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert (doc["title"], doc["text"], doc["source"]) == ("Ferry back", "The ferry runs again from Monday.",
                                                          "cms.jsonl#X-1")


def test_terminal_output_carries_no_escape_sequences(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "esc.txt").write_text(
        "Harbour \x1b]0;pwned\x07story\n\n" + hf.body("harbour bridge") + " \x1b[2J\x1b[31mCleared\x1b[0m screen.\n")
    assert run_cli("build", "a", cwd=tmp_path).returncode == 0
    for command in (["extract", "a/esc.txt"], ["ask", "harbour bridge council"], ["summarize", "harbour bridge"]):
        out = run_cli(*command, cwd=tmp_path)
        assert out.returncode == 0, (command, out.stderr)
        assert "\x1b" not in out.stdout and "\x07" not in out.stdout, command
    assert "Cleared screen." in run_cli("extract", "a/esc.txt", cwd=tmp_path).stdout


def test_a_batch_goes_on_after_a_bad_line(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "s.txt").write_text("Story of the crash site\n\n" + hf.body("crash site") + "\n")
    assert run_cli("build", "a", cwd=tmp_path).returncode == 0
    out = run_cli("ask", "--json", "-", cwd=tmp_path,
                  input='crash site:[::1\n{"question": 5}\nhttp://a.com:99999/x\ncrash site council\n')
    assert out.returncode == 0 and "Traceback" not in out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [a["status"] for a in lines[:2]] == ["error", "error"]
    assert lines[0]["error"] == "That filter doesn't work: site: expects a host like ksl.com, not '[::1'."
    assert lines[3]["passages"][0]["title"] == "Story of the crash site"
    summ = run_cli("summarize", "--json", "-", cwd=tmp_path, input="http://a.com:99999/x\nhttp://[::1/x\ncrash\n")
    assert [json.loads(line)["error"] for line in summ.stdout.splitlines()] == [
        "No article in the archive has the link http://a.com:99999/x",
        "No article in the archive has the link http://[::1/x", ""]


def test_chat_small_commands(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "s.txt").write_text("Story of the crash site\n\n" + hf.body("crash site") + "\n")
    assert run_cli("build", "a", cwd=tmp_path).returncode == 0
    out = run_cli("chat", cwd=tmp_path, input="more\n/foo bar\ncrash site council\nmore\nmore\n")
    assert out.returncode == 0, out.stderr
    turns = out.stdout.split("you> ")[1:]
    assert turns[0] == "more\nAsk a question first; `more` shows the next passages for it.\n\n"
    assert turns[1] == "/foo bar\nUnknown command /foo: the commands are /summarize and /help.\n\n"
    assert "Story of the crash site" in turns[2]
    assert turns[3] == "more\nNo more passages for that question.\n\n"


def test_the_readme_path_keeps_the_example_configs_site(tmp_path):
    """config.example.toml names ksl.com for the URL-less KSL dump: the README's site:ksl.com finds it. The
    demo built with config.example.toml and the README's next line with the default config, so the IBM
    story lost its site and site:ksl.com found nothing. The demo now writes config.toml from the
    example, and the README's commands read it."""
    demo = (EXAMPLES.parents[1] / "scripts" / "demo.sh").read_text()
    assert "cp config.example.toml config.toml" in demo and 'A=".venv/bin/archivist"\n' in demo
    shutil.copytree(EXAMPLES, tmp_path / "examples" / "archive")
    shutil.copyfile(EXAMPLES.parents[1] / "config.example.toml", tmp_path / "config.toml")  # as the demo does
    assert build_json(tmp_path)["added"] == 51
    again = run_cli("build", "--json", "examples/archive", cwd=tmp_path)  # the README's next command
    assert (json.loads(again.stdout)["updated"], json.loads(again.stdout)["unchanged"]) == (0, 51)
    out = run_cli("ask", "--json", "facial recognition site:ksl.com", cwd=tmp_path)
    passages = json.loads(out.stdout)["passages"]
    assert [(p["title"], p["site"]) for p in passages] == [
        ("IBM Quits Facial Recognition, Joins Call For Police Reforms", "ksl.com")]


@pytest.mark.parametrize("args, says", [
    (("serve", "--http", "--port", "-1"), "-1 is not a port (1 to 65535)"),
    (("serve", "--http", "--port", "70000"), "70000 is not a port (1 to 65535)"),
    (("serve", "--web-port", "http"), "'http' is not a port number"),
    (("ask", "-k", "-5", "fire"), "-5: at least 1 passage"),
])
def test_bad_numbers_on_the_command_line_get_one_clear_line(tmp_path, args, says):
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert says in out.stderr.splitlines()[-1]


def test_help_says_what_each_argument_is(tmp_path):
    def help_of(command):  # argparse wraps lines at the terminal's width
        return " ".join(run_cli(command, "--help", cwd=tmp_path).stdout.split())

    ask = help_of("ask")
    assert "'-': one question per line from stdin" in ask and "since:2020-01" in ask and '"thread"' in ask
    chat = help_of("chat")
    assert "/summarize <link | article id | words>" in chat and "more the next passages" in chat
    assert "new (or an empty line)" in chat
    assert "a link, an article id or words" in help_of("summarize")
    assert "files to read as the build reads them" in help_of("extract")
    assert "default 127.0.0.1, this machine only" in help_of("serve")


def test_a_bench_without_the_shared_data_says_so_in_one_line(tmp_path):
    import subprocess
    import sys

    root = EXAMPLES.parents[1]
    for part in ("bench", "index", "bot"):
        shutil.copytree(root / part, tmp_path / "project" / part, ignore=shutil.ignore_patterns(".cache"))
    out = subprocess.run([sys.executable, "bench/fit_status.py"], cwd=tmp_path / "project", capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip() == (f"error: benchmark data not found: {tmp_path / 'shared' / 'bench' / 'newsqa' / 'dev.jsonl'} "
                                  "(the benches read ../shared/bench, beside the project folder)")
