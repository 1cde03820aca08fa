"""Summaries: finding the article by URL, normalised URL, id or words; verbatim sentences in order."""
import json

import pytest

from conftest import EXAMPLES, run_cli
from bot.summary import USAGE, summary
from index.reading import sentences
from index.reading.sources import url_id
from index.searching.summarize import MAX_CONSIDERED, summarize

KARAJ = "Iranian cargo plane crashes into Karaj houses"
KARAJ_URL = "https://en.wikinews.org/wiki/Iranian_cargo_plane_crashes_into_Karaj_houses"


def check_verbatim(searcher, reply, n=3):
    s = reply.summary
    text = searcher.store.article(s.article_id).text
    assert len(s.sentences) == n
    assert [x.start for x in s.sentences] == sorted(x.start for x in s.sentences)
    for x in s.sentences:
        assert text[x.start:x.end] == x.text


@pytest.mark.parametrize("query", [
    KARAJ_URL,
    f"<{KARAJ_URL}>",  # as Slack sends links
    "http://web.archive.org/web/20190116000000/https://www.en.wikinews.org/wiki/"
    "Iranian_cargo_plane_crashes_into_Karaj_houses/?utm_source=twitter&utm_medium=social",
    "en.wikinews.org/wiki/Iranian_cargo_plane_crashes_into_Karaj_houses",
    url_id(KARAJ_URL),
    "Iranian cargo plane Karaj",
])
def test_url_normalised_url_id_and_words_find_the_article(searcher, query):
    r = summary(query, searcher, 3)
    assert not r.error and r.summary.title == KARAJ and r.summary.url == KARAJ_URL
    check_verbatim(searcher, r)


def test_an_export_with_its_own_ids_is_found_by_normalised_url(searcher):
    r = summary("https://www.news.example.com/2021/lighthouse-keeper/?utm_campaign=x&ref=rss", searcher, 3)
    assert r.summary.title == "Lighthouse keeper retires after forty years"
    assert [x.text for x in r.summary.sentences] == [
        "The last lighthouse keeper on Puffin Rock switched off the lamp for the final time on Sunday.",
        "She had kept the light for forty years.",
        "The lighthouse will now run automatically, watched from the mainland."]


def test_ambiguous_words_offer_the_other_articles(searcher):
    r = summary("Robert dies aged", searcher, 3)
    titles = {r.summary.title} | {c.title for c in r.did_you_mean}
    assert {"Longtime leader of Zimbabwe Robert Mugabe dies aged 95",
            "Singer-songwriter Robert Hunter dies, aged 78"} <= titles


@pytest.mark.parametrize("query, error", [
    ("quantum chromodynamics on the lattice", "No article in the archive matches “quantum chromodynamics on the lattice”"),
    ("https://example.org/never-saved", "No article in the archive has the link https://example.org/never-saved"),
    ("   ", USAGE),
    ("?!", USAGE),
    ("http://a.com:99999/x", "No article in the archive has the link http://a.com:99999/x"),
    ("http://[::1/x", "No article in the archive has the link http://[::1/x"),
])
def test_nothing_found_says_what_was_looked_for(searcher, query, error):
    r = summary(query, searcher, 3)
    assert r.error == error and r.summary is None


def test_short_long_and_unpunctuated_articles(embedder):
    one = "Only one sentence here, and it is short enough."
    assert summarize(one, embedder, 3) == [(0, len(one))]
    bodies = [json.loads(line)["body"] for line in (EXAMPLES / "exports" / "wikinews.jsonl").open()]
    long = "\n\n".join(bodies)  # ten articles in one: well over MAX_CONSIDERED sentences
    assert len(sentences.split(long)) > 2 * MAX_CONSIDERED
    spans = summarize(long, embedder, 3)
    assert len(spans) == 3 and all(s < e for s, e in spans)
    assert spans[-1][1] <= sentences.split(long)[MAX_CONSIDERED][1]  # only the first sentences compete
    bare = " ".join(f"word{i}" for i in range(200))  # no punctuation at all
    spans = summarize(bare, embedder, 3)
    assert len(spans) == 3 and all(len(bare[s:e].split()) <= 40 for s, e in spans)
    assert [bare[s:e].split()[0] for s, e in spans] == sorted((bare[s:e].split()[0] for s, e in spans),
                                                              key=lambda w: int(w[4:]))


def test_summarize_cli_json_and_stdin(sample_index):
    cfg = sample_index.base_dir / "c.toml"
    cfg.write_text(f'[index]\npath = "{sample_index.index_dir()}"\n')
    r = run_cli("--config", cfg, "summarize", "--json", "-", input=f"{KARAJ_URL}\nquantum chromodynamics lattice\n")
    assert r.returncode == 0, r.stderr
    first, second = [json.loads(line) for line in r.stdout.splitlines()]
    assert first["article"]["title"] == KARAJ and len(first["sentences"]) == 3
    assert set(first["sentences"][0]) == {"text", "start", "end"}
    assert second["error"].startswith("No article in the archive matches") and second["article"] is None
    r = run_cli("--config", cfg, "summarize", "nothing like this exists anywhere zxqv")
    assert r.returncode == 1


def test_summarize_by_the_exports_own_id(sample_index):
    """The CMS's id (here `A-17` of tests' cms.jsonl) finds its article; --json says where it came from."""
    cfg = sample_index.base_dir / "c.toml"
    cfg.write_text(f'[index]\npath = "{sample_index.index_dir()}"\n')
    r = run_cli("summarize", "--json", "A-17", "--config", cfg)  # --config after the sub-command too
    assert r.returncode == 0, r.stderr
    article = json.loads(r.stdout)["article"]
    assert (article["title"], article["source"], article["record"]) == (
        "Lighthouse keeper retires after forty years", "cms.jsonl", "A-17")
