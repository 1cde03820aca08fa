#!/usr/bin/env python3
"""Write the sample archive in examples/archive/ from ../shared/data, so every reader is exercised.

- text/ibm-facial-recognition.txt: the scraped KSL page, as it is;
- Wikinews articles (CC BY 2.5, Wikinews contributors) split across formats:
  1-20 as saved HTML pages with site chrome, 21-35 in one WARC file (with request and non-HTML
  records, as crawlers write them), 36-45 as a JSONL export, 46-48 as a CSV export, 49-50 as Markdown.

Deterministic: running it again writes the same files.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "examples" / "archive"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - Wikinews, the free news source</title>
<link rel="canonical" href="{url}">
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Wikinews">
<meta property="article:published_time" content="{published}T12:00:00Z">
<meta name="author" content="Wikinews contributors">
</head>
<body>
<header><nav><a href="/wiki/Main_Page">Main page</a> | <a href="/wiki/Special:Random">Random article</a> |
<a href="/wiki/Wikinews:Write_an_article">Write an article</a> | <a href="/wiki/Special:Search">Search</a></nav></header>
<div id="sidebar"><h3>Categories</h3><ul><li><a href="/wiki/Category:Politics">Politics</a></li>
<li><a href="/wiki/Category:Disasters">Disasters</a></li><li><a href="/wiki/Category:Science">Science</a></li></ul>
<h3>Share this</h3><ul><li>Facebook</li><li>Twitter</li><li>Email</li></ul></div>
<main><article>
<h1>{title}</h1>
<p class="published"><time datetime="{published}">{published_human}</time></p>
{body}
</article>
<section class="related"><h2>Related news</h2><ul>
<li><a href="/wiki/Other_story_1">Other headlines from this week</a></li>
<li><a href="/wiki/Other_story_2">More news in this category</a></li></ul></section>
<section class="sources"><h2>Sources</h2><ul><li>Wikinews contributors. Licensed under CC BY 2.5.</li></ul></section>
</main>
<footer><p>This page was last edited recently. Text is available under the Creative Commons Attribution 2.5 License.</p>
<p><a href="/wiki/Privacy">Privacy policy</a> | <a href="/wiki/About">About Wikinews</a> | <a href="/wiki/Disclaimer">Disclaimers</a></p></footer>
</body>
</html>
"""

MONTHS = "January February March April May June July August September October November December".split()


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


def page(row: dict) -> str:
    y, m, d = row["published"].split("-")
    body = "\n".join(f"<p>{html.escape(p.strip())}</p>" for p in row["text"].split("\n\n") if p.strip())
    return PAGE.format(title=html.escape(row["title"]), url=html.escape(row["url"]), published=row["published"],
                       published_human=f"{MONTHS[int(m) - 1]} {int(d)}, {y}", body=body)


def write_warc(rows: list[dict], path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for row in rows:
            date = f"{row['published']}T12:00:00Z"
            rid = lambda kind: f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, kind + row['url'])}>"  # noqa: E731
            req = writer.create_warc_record(
                row["url"], "request", payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(f"GET {row['url']} HTTP/1.1", [("Host", "en.wikinews.org")],
                                              is_http_request=True),
                warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": rid("request:")})
            writer.write_record(req)
            body = page(row).encode("utf-8")
            resp = writer.create_warc_record(
                row["url"], "response", payload=io.BytesIO(body), length=len(body),
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=UTF-8"),
                                                         ("Content-Length", str(len(body)))], protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": rid("response:")})
            writer.write_record(resp)
        logo = b"\x89PNG\r\n\x1a\n" + bytes(64)
        img = writer.create_warc_record(
            "https://en.wikinews.org/static/logo.png", "response", payload=io.BytesIO(logo), length=len(logo),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": "2020-12-31T00:00:00Z",
                               "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'logo')}>"})
        writer.write_record(img)


def main() -> int:
    if not DATA.is_dir():
        print(f"error: {DATA} not found (the shared data folder sits beside the project)", file=sys.stderr)
        return 1
    rows = [json.loads(line) for line in (DATA / "wikinews" / "examples.jsonl").open(encoding="utf-8")]
    if OUT.exists():
        shutil.rmtree(OUT)
    for sub in ("text", "html", "warc", "exports", "notes"):
        (OUT / sub).mkdir(parents=True)
    shutil.copyfile(DATA / "seed" / "ibm-facial-recognition.txt", OUT / "text" / "ibm-facial-recognition.txt")
    for row in rows[:20]:
        (OUT / "html" / f"{slug(row['title'])}.html").write_text(page(row), encoding="utf-8")
    write_warc(rows[20:35], OUT / "warc" / "wikinews-crawl.warc.gz")
    with open(OUT / "exports" / "wikinews.jsonl", "w", encoding="utf-8") as f:
        for row in rows[35:45]:
            f.write(json.dumps({"headline": row["title"], "body": row["text"], "link": row["url"],
                                "date": row["published"]}, ensure_ascii=False) + "\n")
    with open(OUT / "exports" / "wikinews.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["title", "text", "url", "published"])
        for row in rows[45:48]:
            w.writerow([row["title"], row["text"], row["url"], row["published"]])
    for row in rows[48:50]:
        md = f"---\ntitle: {row['title']}\ndate: {row['published']}\nurl: {row['url']}\n---\n\n{row['text']}\n"
        (OUT / "notes" / f"{slug(row['title'])}.md").write_text(md, encoding="utf-8")
    print(f"wrote {sum(1 for p in OUT.rglob('*') if p.is_file())} files to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
