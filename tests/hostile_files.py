"""Hostile and unlucky archive files, made on the spot (never stored): what tests/test_hostile.py and
bench/hostile.py feed the build. Each maker writes its files into a folder and says what it wrote."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

# `archivist ARGS` in a child that prints its peak RSS in KB as the last line of stderr. VmHWM of the
# process's own memory: getrusage's ru_maxrss would include the parent's RSS from before the exec.
PEAK_RSS = ("import re, sys; from bot.cli import main; rc = main(sys.argv[1:]); "
            "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1), file=sys.stderr); "
            "sys.exit(rc)")

BODY = ("The harbour council met on {day} and voted on the {thing} after a long debate with residents. "
        "Council member {who} said the plan would be reviewed again next spring. ")


def body(thing: str, who: str = "Greg Hayes", day: str = "Monday", times: int = 3) -> str:
    return BODY.format(thing=thing, who=who, day=day) * times


def page(title: str, canonical: str = "") -> bytes:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (f"<html><head><title>{title}</title>{link}</head><body><article><h1>{title}</h1>"
            f"<p>{body(title.lower())}</p><p>{body('budget of ' + title.lower(), who='Ana Ruiz')}</p>"
            "</article></body></html>").encode()


def warc_record(uri: str | None, html: bytes, rid: str) -> bytes:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html
    head = [b"WARC/1.0", b"WARC-Type: response", f"WARC-Record-ID: <urn:uuid:{rid}>".encode()]
    if uri is not None:
        head.append(f"WARC-Target-URI: {uri}".encode())
    head += [b"Content-Type: application/http; msgtype=response", f"Content-Length: {len(http)}".encode()]
    return b"\r\n".join(head) + b"\r\n\r\n" + http + b"\r\n\r\n"


def bad_records(folder: Path) -> None:
    """Files whose single records hold what used to stop every build: a WARC response without its
    target URI, URLs with a port out of range or a broken IPv6 host, `javascript:` links."""
    (folder / "crawl.warc").write_bytes(
        warc_record("https://a.example/one", page("Record one"), "r1")
        + warc_record(None, page("Record two"), "r2")
        + warc_record("https://a.example:99999/three", page("Record three"), "r3")
        + warc_record("https://a.example/four", page("Record four"), "r4"))
    rows = [{"title": "Port row", "url": "http://b.example:99999/x", "text": body("ferry timetable")},
            {"title": "IPv6 row", "url": "http://[::1/x", "text": body("tram depot")},
            {"title": "Script row", "url": "javascript:alert(1)", "text": body("library hours")}]
    (folder / "export.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "note.md").write_text(f"---\ntitle: Script note\nurl: javascript:alert(1)\n---\n\n{body('market square')}\n")
    (folder / "canonical.html").write_bytes(page("Canonical page", canonical="http://c.example:70000/p"))


def odd_names(folder: Path) -> tuple[bytes, str]:
    """A file whose name is not UTF-8, and one whose name holds a newline that would forge a message."""
    bad = os.fsencode(folder) + b"/bad-\xff-name.txt"
    with open(bad, "wb") as f:
        f.write(body("river crossing").encode())
    forged = "forged\nerror: everything.txt: fake.txt"
    (folder / forged).write_bytes(b"\xff\xfe not text \x00")
    return bad, forged


def bomb_line(path: Path, mb: int) -> None:
    """A gzip file of a few hundred KB holding one line of `mb` MB, then a good line."""
    good = {"id": "after-bomb", "title": "After the bomb", "text": body("night buses")}
    with gzip.open(path, "wb", compresslevel=1) as f:
        if path.name.endswith(".csv.gz"):
            f.write(b"id,title,text\n")
            good_line = f'{good["id"]},{good["title"]},"{good["text"]}"\n'.encode()
        else:
            good_line = (json.dumps(good) + "\n").encode()
        f.write(b'{"id": "bomb", "text": "')
        block = b"a" * 2**20
        for _ in range(mb):
            f.write(block)
        f.write(b'"}\n' + good_line)


def bomb_warc(path: Path, mb: int) -> None:
    """A WARC.gz whose second record has a header line of `mb` MB."""
    with open(path, "wb") as raw:  # one gzip member per record, as WARC tools write them
        raw.write(gzip.compress(warc_record("https://d.example/first", page("First record"), "w1")))
    with gzip.open(path, "ab", compresslevel=1) as f:
        f.write(b"WARC/1.0\r\nWARC-Type: response\r\nX-Long: ")
        block = b"a" * 2**20
        for _ in range(mb):
            f.write(block)
        f.write(b"\r\n\r\n")


def unbalanced_csv(path: Path) -> None:
    """A CSV whose second row opens a quote it never closes: the rows after it are swallowed."""
    path.write_text('id,title,text\n'
                    f'c1,First row,"{body("parking fees")}"\n'
                    f'c2,Second row,"{body("school roof")} and then a quote that never closes\n'
                    f'c3,Third row,{body("swimming pool").replace(",", "")}\n'
                    f'c4,Fourth row,{body("bus lanes").replace(",", "")}\n')


def odd_dates(folder: Path) -> None:
    (folder / "year-one.txt").write_text(f"Year one story\n\nJanuary 1, 0001\n\n{body('old mill')}\n")
    (folder / "future.md").write_text(f"---\ntitle: Future story\ndate: 2999-05-01\n---\n\n{body('moon port')}\n")
    (folder / "fine.md").write_text(f"---\ntitle: Dated story\ndate: 1850-05-01\n---\n\n{body('canal')}\n")


def outside_link(folder: Path, target: Path) -> None:
    target.write_text(f"root:x:0:0:root:/root:/bin/bash\n{body('secret')}\n")
    (folder / "passwd.txt").symlink_to(target)


def long_article(path: Path, size: int) -> None:
    """A text dump of about `size` characters in paragraphs of a few sentences."""
    para = body("long report", times=2) + "\n\n"
    path.write_text("Long report\n\n" + para * (size // len(para) + 1))
