"""Hostile and unlucky archive files, made on the spot (never stored): what tests/test_hostile.py and
bench/hostile.py feed the build. Each maker writes its files into a folder and says what it wrote."""
from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import socket
import threading
from pathlib import Path

# `archivist ARGS` in a child that prints its peak RSS in KB as the last line of stderr: the larger of
# its own (VmHWM: getrusage's self figure would include the parent's RSS from before the exec) and its
# children's, where files are read (index.reading.worker).
PEAK_RSS = ("import re, resource, sys; from bot.cli import main; rc = main(sys.argv[1:]); "
            "own = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); "
            "print(max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss), file=sys.stderr); "
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


def stall_files(folder: Path, size: int) -> list[str]:
    """Small files that made parsers take quadratic time or worse (hours at 1 MB): a text dump ending in
    a run of dots, Markdown of open brackets and of unclosed emphasis, and a page whose one paragraph
    holds thousands of bold words. Each holds an article after the hostile part, too."""
    prose = "Dot run\n\nThe harbour pilots kept a log of every ship. "
    (folder / "dots.txt").write_text(prose + "." * size + " a.\n")
    (folder / "brackets.md").write_text("# Bracket run\n\nThe lighthouse keeper wrote daily.\n\n" + "[" * size + "\n")
    (folder / "emphasis.md").write_text("# Emphasis run\n\nThe tram depot opened early.\n\n" + "_a " * (size // 3) + "\n")
    (folder / "bold.html").write_bytes(
        b"<html><head><title>Bold run</title></head><body><article><p>The ferry left at dawn with forty "
        b"passengers aboard.</p><p>" + b"<b>x</b> " * (size // 9) + b"</p></article></body></html>")
    return ["dots.txt", "brackets.md", "emphasis.md", "bold.html"]


def slow_html(paragraphs: int = 40_000) -> bytes:
    """A page that is legitimate but slow to extract (about 6 s for 40,000 paragraphs on 2 cores): the
    time budget's test subject."""
    return (b"<html><body><article>" + b"<p>The council met on Monday and voted.</p>" * paragraphs
            + b"</article></body></html>")


def slow_page(path: Path, paragraphs: int = 40_000) -> None:
    path.write_bytes(slow_html(paragraphs))


def damaged_warcs(folder: Path) -> dict[str, bytes]:
    """Five good records, and the same with one record damaged in each way the issue found."""
    recs = [warc_record(f"https://w.example/{i}", page(f"Record {i}"), f"r{i}") for i in range(5)]
    members = lambda rs: b"".join(gzip.compress(r) for r in rs)  # noqa: E731
    cases = {"one-member.warc.gz": gzip.compress(b"".join(recs))}
    for name, value in (("letters", b"abc"), ("negative", b"-5"), ("huge", b"1000000000000000"), ("short", b"10")):
        bad = re.sub(rb"Content-Length: \d+", b"Content-Length: " + value, recs[1], count=1)
        cases[f"length-{name}.warc"] = b"".join([recs[0], bad, *recs[2:]])
        cases[f"length-{name}.warc.gz"] = members([recs[0], bad, *recs[2:]])
    cut = gzip.compress(recs[1])
    cases["cut-member.warc.gz"] = gzip.compress(recs[0]) + cut[:len(cut) // 2] + members(recs[2:])
    cases["stray-bytes.warc"] = recs[0] + b"not a record\r\n" + b"".join(recs[1:])
    for name, data in cases.items():
        (folder / name).write_bytes(data)
    return cases


@contextlib.contextmanager
def trickling(host: str, port: int, count: int = 1_100):
    """`count` connections each sending a request's start and then a byte a second (slow-loris);
    yields the sockets still open after connecting (a guarded server pushes some out at once)."""
    slow = []
    for _ in range(count):
        try:
            sock = socket.create_connection((host, port), timeout=5)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(sock)
        except OSError:
            pass
    stop = threading.Event()

    def trickle():
        while not stop.wait(1):
            for sock in slow:
                try:
                    sock.send(b"a")
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        yield slow
    finally:
        stop.set()
        trickler.join()  # before the sockets close: a send to a closed number could reach whoever reuses it
        for sock in slow:
            sock.close()


def slow_warc(path: Path, paragraphs: int) -> None:
    """Good records around one that is slow to extract (slow_page's HTML): what comes after a stopped
    record must still be read."""
    path.write_bytes(warc_record("https://w.example/0", page("Record zero"), "r0")
                     + warc_record("https://w.example/slow", slow_html(paragraphs), "slow")
                     + warc_record("https://w.example/2", page("Record two"), "r2")
                     + warc_record("https://w.example/3", page("Record three"), "r3"))
