"""Reading every archive format, and one clear error line per bad file or record."""
import gzip
import json
from pathlib import Path


from index.config import SourceSpec
from index.records import Article, SourceError
from index.reading.sources import discover, read_file

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples" / "archive"
MB = 2**20


def read(path, spec=None, max_bytes=10 * MB):
    spec = spec or SourceSpec(path=str(path))
    return list(read_file(Path(path), spec, Path(path).name, max_bytes))


def articles(items):
    return [i for i in items if isinstance(i, Article)]


def errors(items):
    return [str(i) for i in items if isinstance(i, SourceError)]


def test_html_page_gives_text_and_metadata():
    [a] = read(EX / "html" / "iranian-cargo-plane-crashes-into-karaj-houses.html")
    assert a.title == "Iranian cargo plane crashes into Karaj houses"
    assert a.url == "https://en.wikinews.org/wiki/Iranian_cargo_plane_crashes_into_Karaj_houses"
    assert a.published == "2019-01-15"
    assert a.author == "Wikinews contributors"
    assert a.site == "en.wikinews.org"  # the host, as from exports and WARC
    assert a.text.startswith("A Boeing 707 cargo plane, reported by local press")
    assert a.text.endswith("to maintain those already owned.")
    for chrome in ("Random article", "Related news", "Privacy policy", "Facebook", "Categories"):
        assert chrome not in a.text


def test_gzipped_html(tmp_path):
    src = EX / "html" / "iranian-cargo-plane-crashes-into-karaj-houses.html"
    gz = tmp_path / "page.html.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    [a] = read(gz)
    assert a.title == "Iranian cargo plane crashes into Karaj houses"


def test_warc_gives_one_article_per_html_response_with_its_record():
    items = read(EX / "warc" / "wikinews-crawl.warc.gz")
    assert errors(items) == []
    arts = articles(items)
    assert len(arts) == 15  # request records and the PNG response are not articles
    assert all(a.record.startswith("urn:uuid:") and a.url.startswith("https://en.wikinews.org/wiki/") for a in arts)
    assert arts[0].title == "US President Trump says Osama bin Laden's son killed"
    assert arts[0].location == f"wikinews-crawl.warc.gz#{arts[0].record}"


def test_jsonl_export_with_a_field_mapping():
    spec = SourceSpec(path="x", format="jsonl", fields=(("published", "date"), ("text", "body"),
                                                        ("title", "headline"), ("url", "link")))
    arts = articles(read(EX / "exports" / "wikinews.jsonl", spec))
    assert len(arts) == 10
    assert arts[0].published and arts[0].url.startswith("https://") and arts[0].title and arts[0].text


def test_csv_export_and_markdown_front_matter():
    arts = articles(read(EX / "exports" / "wikinews.csv"))
    assert [a.published for a in arts] == ["2020-07-12", "2020-08-13", "2020-09-02"]
    [md] = articles(read(next((EX / "notes").glob("second-us-biden*.md"))))
    assert md.title == "Second US Biden-Trump debate cancelled amid safety controversy"
    assert md.published == "2020-10-12"
    assert md.url.endswith("Second_US_Biden-Trump_debate_cancelled_amid_safety_controversy")


def test_ids_are_stable_and_come_from_the_url_when_known(tmp_path):
    page = EX / "html" / "iranian-cargo-plane-crashes-into-karaj-houses.html"
    copy = tmp_path / "elsewhere.html"
    copy.write_bytes(page.read_bytes())
    [a], [b] = read(page), read(copy)
    assert a.article_id == b.article_id and a.content_hash == b.content_hash
    t1, t2 = tmp_path / "a.txt", tmp_path / "b.txt"
    for t in (t1, t2):
        t.write_text("A plain note with enough words in it to count as a paragraph of prose.")
    [x], [y] = read(t1), read(t2)
    assert x.article_id != y.article_id  # no URL: the id comes from where the article sits


def test_content_hash_follows_the_text(tmp_path):
    t = tmp_path / "n.txt"
    t.write_text("First version of a short article with enough words to be prose.")
    [a] = read(t)
    t.write_text("Second version of a short article with enough words to be prose.")
    [b] = read(t)
    assert a.article_id == b.article_id and a.content_hash != b.content_hash


# --- bad input: one clear line each, nothing raised -------------------------------------------

def test_binary_junk_with_an_html_name(tmp_path):
    p = tmp_path / "junk.html"
    p.write_bytes(bytes(range(256)) * 40)
    assert errors(read(p)) == ["junk.html: not an HTML page (binary data)"]


def test_invalid_utf8_text(tmp_path):
    p = tmp_path / "latin.txt"
    p.write_bytes("Caf\u00e9 society returns to the old town square this summer.".encode("latin-1"))
    assert errors(read(p)) == ["latin.txt: not valid UTF-8 (bad byte at offset 3)"]


def test_empty_files(tmp_path):
    (tmp_path / "empty.html").write_text("<html><body><nav>Home</nav></body></html>")
    (tmp_path / "empty.txt").write_text("  \n\n ")
    assert errors(read(tmp_path / "empty.html")) == ["empty.html: no article text found in the page"]
    assert errors(read(tmp_path / "empty.txt")) == ["empty.txt: empty text file"]


def test_truncated_gzip(tmp_path):
    p = tmp_path / "cut.html.gz"
    p.write_bytes(gzip.compress((EX / "html" / "iranian-cargo-plane-crashes-into-karaj-houses.html").read_bytes())[:300])
    [e] = errors(read(p))
    assert e.startswith("cut.html.gz: damaged or truncated gzip data")


def test_truncated_warc_keeps_the_records_before_the_damage(tmp_path):
    data = (EX / "warc" / "wikinews-crawl.warc.gz").read_bytes()
    p = tmp_path / "cut.warc.gz"
    p.write_bytes(data[: len(data) // 2])
    items = read(p)
    arts, errs = articles(items), errors(items)
    assert len(arts) == 7  # the 8th HTML record is the one cut in half
    [rid] = [line.split("inside ")[1].split(";")[0] for line in errs]
    assert rid.startswith("urn:uuid:")
    assert errs == [f"cut.warc.gz: WARC damaged: cut short inside {rid}; 7 HTML records read"]


def test_not_a_warc(tmp_path):
    p = tmp_path / "fake.warc"
    p.write_text("this is not a web archive\n" * 10)
    [e] = errors(read(p))
    assert e == "fake.warc: not a WARC file"


def test_file_over_the_size_limit_is_not_read(tmp_path):
    p = tmp_path / "huge.txt"
    with open(p, "wb") as f:
        f.truncate(50 * MB)  # sparse: 50 MB on paper, nothing on disk
    assert errors(read(p)) == ["huge.txt: 50 MB is over the 10 MB limit for one article"]


def test_jsonl_bad_lines_are_named_and_the_rest_is_read(tmp_path):
    p = tmp_path / "export.jsonl"
    good = {"title": "Good", "text": "A perfectly fine article body with a handful of words in it."}
    p.write_bytes(b"\n".join([
        json.dumps(good).encode(), b"{not json", json.dumps([1, 2]).encode(),
        json.dumps({"title": "No text"}).encode(), b'{"text": "caf\xe9"}', json.dumps(good | {"title": "Also good"}).encode(),
    ]) + b"\n")
    items = read(p)
    assert [a.title for a in articles(items)] == ["Good", "Also good"]
    assert errors(items) == [
        "export.jsonl:2: not JSON (Expecting property name enclosed in double quotes at column 2)",
        "export.jsonl:3: not a JSON object",
        "export.jsonl:4: no text in field 'text' or 'body' or 'content' or 'article'",
        "export.jsonl:5: not valid UTF-8 (bad byte at offset 13)",
    ]


def test_csv_missing_the_text_column(tmp_path):
    p = tmp_path / "cms.csv"
    p.write_text("headline,link\nA,https://example.com/a\n")
    assert errors(read(p)) == ["cms.csv: no 'text' or 'body' or 'content' or 'article' column (columns: headline, link)"]


def test_exports_with_common_field_names_need_no_mapping(tmp_path):
    """A CMS export calling its fields headline/body/link/date reads as is; a configured name wins."""
    p = tmp_path / "cms.jsonl"
    p.write_text(json.dumps({"guid": "A-1", "headline": "Ferry back", "body": "The ferry runs again from Monday on.",
                             "link": "https://x.example/ferry", "date": "2020-03-04", "text": ""}) + "\n")
    (a,) = articles(read(p))
    assert (a.title, a.text, a.url, a.published, a.record) == (
        "Ferry back", "The ferry runs again from Monday on.", "https://x.example/ferry", "2020-03-04", "A-1")
    (b,) = articles(read(p, SourceSpec(path=str(p), fields=(("title", "link"),))))
    assert b.title == "https://x.example/ferry"


def test_unreadable_file_is_reported(tmp_path):
    # As root every permission check passes, so the realistic case is a file gone between listing and reading.
    assert errors(read(tmp_path / "vanished.html")) == ["vanished.html: cannot read: No such file or directory"]


def test_discover_folders_globs_and_specific_entries(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.html").write_text("<p>x</p>")
    (tmp_path / "a" / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "a" / ".hidden.txt").write_text("x")
    (tmp_path / "a" / "data.jsonl").write_text("{}\n")
    (tmp_path / "b.txt").write_text("x")
    specs = (SourceSpec(path="a"), SourceSpec(path="*.txt"), SourceSpec(path="a/data.jsonl", format="jsonl",
                                                                         fields=(("text", "body"),)),
             SourceSpec(path="missing"), SourceSpec(path="a/logo.png"))
    out = list(discover(specs, tmp_path))
    found = {p.name: s for p, s in (o for o in out if not isinstance(o, SourceError))}
    assert sorted(found) == ["b.txt", "data.jsonl", "one.html"]
    assert found["data.jsonl"].fields == (("text", "body"),)  # its own entry wins over the folder's
    assert sorted(str(e).replace(str(tmp_path) + "/", "") for e in out if isinstance(e, SourceError)) == [
        "a/logo.png: unknown file type; set format in its [[sources]] entry",
        "missing: no such file or folder",
    ]


def test_articles_without_a_url_get_their_site_from_the_source_or_front_matter(tmp_path):
    """A text dump names no site: the [[sources]] entry's `site` gives it one, so site: filters and the
    reply's site line work; a Markdown note may say its own; a URL's host always wins."""
    dump = tmp_path / "ibm.txt"
    dump.write_text((EX / "text" / "ibm-facial-recognition.txt").read_text())
    (a,) = articles(read(dump, SourceSpec(path=str(dump), site="ksl.com")))
    assert (a.url, a.site) == ("", "ksl.com")
    (plain,) = articles(read(dump))
    assert plain.site == "" and plain.content_hash != a.content_hash  # a new site is a change to store
    note = tmp_path / "note.md"
    note.write_text("---\ntitle: Note\nsite: Example.org\n---\n\nA note about the ferry timetable and the new harbour.\n")
    (n,) = articles(read(note, SourceSpec(path=str(note), site="ksl.com")))
    assert n.site == "example.org"


def test_a_number_of_thousands_of_digits_costs_its_line_only(tmp_path):
    """Python refuses to read an integer of more than 4,300 digits: that lost the rest of the file."""
    p = tmp_path / "export.jsonl"
    good = {"title": "Good", "text": "A perfectly fine article body with a handful of words in it."}
    p.write_text(json.dumps(good) + "\n" + '{"title": "Big", "n": ' + "9" * 5000 + "}\n"
                 + json.dumps(good | {"title": "After"}) + "\n")
    items = read(p)
    assert [a.title for a in articles(items)] == ["Good", "After"]
    assert errors(items) == ["export.jsonl:2: not JSON (Exceeds the limit (4300 digits) for integer string conversion: "
                             "value has 5000 digits)"]


def test_pages_in_scripts_without_spaces_are_read(tmp_path):
    """MIN_ARTICLE_WORDS counted spaces: a Japanese, Chinese or Thai article was "no article text found"."""
    for name, title, text in (
            ("ja.html", "地震", "東京で大きな地震が発生し、多くの建物が被害を受けました。政府は緊急会議を開きました。"),
            ("zh.html", "洪水", "南方多个城市遭遇暴雨，河水上涨，数千人被紧急转移。"),
            ("th.html", "น้ำท่วม", "นายกรัฐมนตรีประกาศมาตรการใหม่เพื่อช่วยเหลือเกษตรกรที่ได้รับผลกระทบจากน้ำท่วม")):
        (tmp_path / name).write_text(f"<html><head><title>{title}</title></head><body><article><p>{text}</p>"
                                     "</article></body></html>", encoding="utf-8")
        [a] = read(tmp_path / name)
        assert (a.title, a.text) == (title, text)
    (tmp_path / "menu.html").write_text("<html><body><p>首页 新闻</p></body></html>", encoding="utf-8")
    assert errors(read(tmp_path / "menu.html")) == ["menu.html: no article text found in the page"]


def test_a_utf16_page_with_its_bom_is_read_not_refused_as_binary(tmp_path):
    text = "The council voted on Tuesday to close the old bridge for repairs next year."
    for codec in ("utf-16", "utf-16-be", "utf-32"):
        bom = {"utf-16-be": "\ufeff"}.get(codec, "")  # utf-16 and utf-32 write their own
        (tmp_path / "p.html").write_bytes((bom + '<html><head><meta charset="utf-16"><title>Bridge</title></head><body>'
                                          f"<article><p>{text}</p></article></body></html>").encode(codec))
        [a] = read(tmp_path / "p.html")
        assert (a.title, a.text) == ("Bridge", text), codec


def test_urls_that_are_no_links_are_dropped():
    from index.reading.urls import web_url

    assert web_url("http://" + "a" * 100_000 + "/x") == ""
    assert web_url("http://" + "a" * 64 + ".example/x") == ""  # a DNS label is 63 characters at most
    assert web_url("http://x.example/%%%") == "" and web_url("http://x.example/100%") == ""
    assert web_url("https://en.wikinews.org/wiki/Caf%C3%A9") == "https://en.wikinews.org/wiki/Caf%C3%A9"
    assert web_url("http://localhost:8080/a") == "http://localhost:8080/a"
