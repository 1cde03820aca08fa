"""`archivist`: one console script, one sub-command per job."""
from __future__ import annotations

import argparse
import calendar
import json
import logging
import os
import sqlite3
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from index import config as configmod
from index.reading import safe
from index.config import Config, ConfigError

log = logging.getLogger("archivist")


def show(text: str) -> None:
    """Print for a person: article text may hold escape sequences that would drive the terminal."""
    print(safe.for_terminal(text), flush=True)


class _OneLine(logging.Formatter):
    """Each message one printable line, whoever logs it: libraries (trafilatura, warcio) quote archive
    content as they found it, escape bytes and line breaks included."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return safe.line(super().formatMessage(record))


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine("%(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler])
    logging.getLogger("archivist").setLevel(logging.INFO if verbose else logging.WARNING)
    for noisy in ("trafilatura", "htmldate", "sentence_transformers", "transformers", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def cmd_build(cfg: Config, args) -> int:
    import glob

    from index.reading import sources
    from index.storing.build import BuildError, build, shown_path

    scope = None
    if args.sources:
        missing = [s for s in args.sources if not glob.has_magic(s) and not Path(s).exists()]
        if missing:
            print(f"error: no such file or folder: {safe.name(missing[0])}", file=sys.stderr)
            return 2
        # each read as the build of the config reads it: the configured format, fields and site of what holds it
        cfg = replace(cfg, sources=tuple(spec for s in args.sources
                                         for spec in sources.specs_for(Path(s), cfg.sources, cfg.base_dir)))
        if not args.prune:  # only what was named is answered for; the rest of the index stays
            scope = tuple(shown_path(sources.folder_of(Path(s.path)), cfg.base_dir) for s in cfg.sources)
    elif args.prune:
        print("error: --prune goes with the paths to build; a build of the configured sources always prunes",
              file=sys.stderr)
        return 2
    if not cfg.sources:
        print("error: no sources: give files or folders, or add [[sources]] to the config", file=sys.stderr)
        return 2
    if args.ray is not None or args.ray_workers:
        cfg = replace(cfg, build=replace(cfg.build, ray=args.ray or cfg.build.ray or "auto",
                                         ray_workers=args.ray_workers or cfg.build.ray_workers))
        try:
            configmod.check_build(cfg.build)
        except ConfigError as e:
            print(f"error: {str(e).replace('[build] ray', '--ray')}", file=sys.stderr)
            return 2
    progress = sys.stderr.isatty() and not args.json
    try:
        summary = build(cfg, progress=progress, scope=scope,
                        report=None if progress else lambda line: print(line, file=sys.stderr))
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(summary) | {"index": str(cfg.index_dir())}))
    else:
        print(f"{summary.line()} -> {cfg.index_dir()}")
    nothing_read = summary.added + summary.updated + summary.unchanged == 0
    return 1 if nothing_read and summary.failed else 0


def cmd_extract(cfg: Config, args) -> int:
    from index.reading import sources
    from index.reading.worker import FileReader
    from index.storing.build import shown_path
    from index.records import SourceError

    count = failed = 0
    with FileReader(cfg.index.max_file_seconds, cfg.index.max_article_mb * 2**20) as reader:
        for name in args.files:
            spec = sources.spec_for(Path(name), cfg.sources, cfg.base_dir)  # the configured fields, as build reads it
            for item in sources.discover((spec,), Path.cwd()):
                if isinstance(item, SourceError):
                    print(f"error: {item}", file=sys.stderr)
                    failed += 1
                    continue
                path, spec = item
                for got in reader.read(path, spec, shown_path(path, Path.cwd())):
                    if isinstance(got, SourceError):
                        print(f"error: {got}", file=sys.stderr)
                        failed += 1
                        continue
                    count += 1
                    if args.json:
                        print(json.dumps(_article_json(got), ensure_ascii=False))
                    else:
                        _print_article(got)
    return 1 if failed and not count else 0


def _article_json(a) -> dict:
    return {"article_id": a.article_id, "source": a.location, "title": a.title, "url": a.url,
            "published": a.published, "author": a.author, "site": a.site, "text": a.text}


def _print_article(a) -> None:
    lines = [f"== {a.title or '(no title)'}"]
    for label, value in (("id", a.article_id), ("source", a.location), ("url", a.url), ("published", a.published),
                         ("author", a.author), ("site", a.site)):
        if value:
            lines.append(f"   {label}: {value}")
    show("\n".join(lines) + f"\n   words: {len(a.text.split())}\n\n{a.text}\n")


def cmd_stats(cfg: Config, args) -> int:
    from index.embedding.embed import resolve_device
    from index.reader.model import describe
    from index.storing.check import models
    from index.storing.store import Store, StoreError

    index_dir = cfg.index_dir()
    try:
        store = Store.open(index_dir, readonly=True)
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        meta, counts = store.meta(), store.counts()
        first, last = store.date_range()
    finally:
        store.close()
    built = meta.get("built_at", "")
    age = ""
    if built:
        age = _age(time.time() - calendar.timegm(time.strptime(built, "%Y-%m-%dT%H:%M:%SZ")))
    size = sum(p.stat().st_size for p in index_dir.iterdir() if p.is_file())
    out = {"index": str(index_dir), "articles": counts["articles"], "chunks": counts["chunks"],
           "model": meta.get("model", ""), "dim": int(meta.get("dim", "0")), "built_at": built,
           "generation": int(meta.get("generation", "0")), "oldest_article": first, "newest_article": last,
           "size_bytes": size, "backend": cfg.index.backend,
           "device": resolve_device(cfg.index.backend, cfg.index.device), "reader": describe(cfg.search.reader)}
    damaged_models = [f.what for f in models(cfg.index.model, cfg.search.reader) if not f.ok]
    out["model_problems"] = damaged_models
    if args.json:
        print(json.dumps(out))
    else:
        print(f"index:     {out['index']} ({size / 2**20:.1f} MB)")
        print(f"articles:  {out['articles']}")
        print(f"chunks:    {out['chunks']}")
        print(f"model:     {out['model']} ({out['dim']} dimensions)")
        print(f"encoder:   {out['backend']} on {out['device']} ([index] device = {cfg.index.device})")
        print(f"reader:    {out['reader']}")
        print(f"built:     {built or 'never'}{f' ({age} ago)' if age else ''}")
        print(f"articles dated {first or '?'} to {last or '?'}")
    for problem in damaged_models:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if damaged_models else 0


def cmd_check(cfg: Config, args) -> int:
    from index.storing.check import check, models

    findings = check(cfg.index_dir()) + models(cfg.index.model, cfg.search.reader)
    if args.json:
        print(json.dumps({"index": str(cfg.index_dir()), "ok": all(f.ok for f in findings),
                          "findings": [asdict(f) for f in findings]}))
    else:
        for f in findings:
            print(f"{'ok' if f.ok else 'problem'}: {f.what}")
    return 0 if all(f.ok for f in findings) else 1


def cmd_feedback(cfg: Config, args) -> int:
    import datetime as dt

    from bot.state.evalset import case, describe
    from bot.state.state import open_state, state_url
    from index.storing.store import Store

    since = args.since or ""
    if since:
        try:
            since = dt.date.fromisoformat(since).isoformat()
        except ValueError:
            print(f"error: --since expects a date like 2026-11-01, not {since!r}", file=sys.stderr)
            return 2
    if not state_url(cfg):  # kept beside the index: a missing or damaged one gets its one clear line
        Store.open(cfg.index_dir(), readonly=True).close()
    state = open_state(cfg)
    try:
        votes = state.feedback_since(since)
    finally:
        state.close()
    down = sum(v.vote == "down" for v in votes)
    if args.export:
        with open(args.export, "w", encoding="utf-8") as f:
            for v in votes:
                f.write(json.dumps(case(v), ensure_ascii=False) + "\n")
        print(f"wrote {len(votes)} cases ({down} 👎, {len(votes) - down} 👍) to {args.export}")
    elif args.json:
        for v in votes:
            print(json.dumps(case(v), ensure_ascii=False))
    else:
        for v in votes:
            show(describe(v) + "\n")
        print(f"{len(votes)} votes: {len(votes) - down} 👍, {down} 👎" + (f" since {since}" if since else ""))
    return 0


def cmd_snapshot(cfg: Config, args) -> int:
    from index.storing.snapshot import snapshot

    made = snapshot(cfg.index_dir(), Path(args.dest))
    print(f"snapshot of generation {made['generation']} ({made['articles']} articles, {made['chunks']} chunks) "
          f"in {args.dest}")
    return 0


def _age(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{max(0, seconds):.0f} seconds"


def open_searcher(cfg: Config):
    """The searcher over the configured index, or None after printing why not."""
    from index.reader.model import ReaderError
    from index.searching.search import Searcher
    from index.storing.store import StoreError

    try:
        searcher = Searcher.open(cfg)
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return None
    try:
        searcher.reader  # a damaged or missing model is an installation fault: said once, at start
    except ReaderError as e:
        print(f"error: {e}", file=sys.stderr)
        searcher.close()
        return None
    return searcher


def _inputs(words: list[str]):
    """The one question given, or with '-' one per line from stdin."""
    if words == ["-"]:
        return (line.strip() for line in sys.stdin if line.strip())
    return iter([" ".join(words)])


def signer_for(cfg: Config):
    """Archived-copy links as the bot makes them: only with a [web] public_url."""
    from bot.slack.blocks import NO_LINKS
    from index.searching.links import index_signer

    if not cfg.web.public_url:
        return NO_LINKS
    return index_signer(cfg)


def answer_json(a, signer=None) -> dict:
    from bot.slack.blocks import NO_LINKS
    from index.searching.links import text_fragment

    signer = signer or NO_LINKS
    return {"question": a.question, "query": a.query, "filters": list(a.filters), "status": a.status,
            "abstained": a.abstained, "follow_up": a.follow_up, "evidence": a.evidence, "answerable": a.answerable,
            "reader": a.read,
            "error": a.error, "passages": [
                {"article_id": p.article_id, "title": p.title, "url": p.url, "published": p.published, "site": p.site,
                 "quote": p.quote, "start": p.start, "end": p.end, "chunk_id": p.chunk_id, "score": p.score,
                 "confidence": p.confidence, "reader": p.read, "copies": p.copies,
                 "quote_url": text_fragment(p.url, p.quote),
                 "archived_url": signer.url(p.article_id, p.start, p.end)} for p in a.passages],
            "closest": [{"article_id": c.article_id, "title": c.title, "url": c.url, "published": c.published,
                         "archived_url": signer.url(c.article_id)} for c in a.closest],
            "articles_searched": a.articles_searched, "index_date": a.index_date}


def _ask_line(line: str) -> tuple[str, list[str]]:
    """A line of `ask -`: a question, or {"question": ..., "thread": [earlier questions]}."""
    if line.startswith("{"):
        try:
            doc = json.loads(line)
        except ValueError as e:
            raise ValueError(f"not a JSON object: {e}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("question"), str):
            raise ValueError('a JSON line needs "question": "..." (and optionally "thread": [earlier questions])')
        thread = doc.get("thread", [])
        if not isinstance(thread, list) or not all(isinstance(q, str) for q in thread):
            raise ValueError('"thread" must be a list of the earlier questions, oldest first')
        return doc["question"], thread
    return line, []


def cmd_ask(cfg: Config, args) -> int:
    from dataclasses import replace as dc_replace

    from bot.answer import answer, replay
    from bot.slack.blocks import answer_blocks, to_text
    from index.records import ERROR, Answer

    searcher = open_searcher(cfg)
    if searcher is None:
        return 1
    settings = cfg.search if not args.mode else dc_replace(cfg.search, mode=args.mode)
    signer = signer_for(cfg)
    for line in _inputs(args.question):
        try:
            q, earlier = _ask_line(line) if args.question == ["-"] else (line, [])
        except ValueError as e:
            a = Answer(question=line[:200], status=ERROR, error=f"That line can't be read: {e}.")
        else:
            try:
                a = answer(q, searcher, settings, k=args.k or None, thread=replay(earlier, searcher, settings))
            except Exception as e:  # one line's failure is that line's answer; a batch goes on
                print(f"error: {safe.name(q[:200])}: {type(e).__name__}: {e}", file=sys.stderr)
                a = Answer(question=q[:200], status=ERROR, error="Something went wrong answering this; it has been logged.")
        if args.json:
            print(json.dumps(answer_json(a, signer), ensure_ascii=False), flush=True)
        else:
            shown = to_text(answer_blocks(a, signer=signer)[0], more=f"more passages: -k {(args.k or settings.top_k) * 2}")
            show(f"Q: {a.question}\n\n{shown}")
    return 0


def summary_json(r, signer=None) -> dict:
    out = {"query": r.query, "error": r.error, "article": None, "sentences": [],
           "did_you_mean": [{"article_id": c.article_id, "title": c.title, "url": c.url, "published": c.published}
                            for c in r.did_you_mean]}
    if r.summary:
        s = r.summary
        out["article"] = {"article_id": s.article_id, "title": s.title, "url": s.url, "published": s.published,
                          "site": s.site, "source": s.source, "record": s.record,
                          "archived_url": signer.url(s.article_id) if signer else ""}
        out["sentences"] = [{"text": x.text, "start": x.start, "end": x.end} for x in s.sentences]
    return out


def cmd_summarize(cfg: Config, args) -> int:
    from bot.slack.blocks import summary_blocks, to_text
    from bot.summary import summary
    from index.records import SummaryReply

    searcher = open_searcher(cfg)
    if searcher is None:
        return 1
    signer = signer_for(cfg)
    found_all = True
    for q in _inputs(args.query):
        try:
            r = summary(q, searcher, cfg.summary.sentences)
        except Exception as e:  # as in ask: one line's failure, not the batch's
            print(f"error: {safe.name(q[:200])}: {type(e).__name__}: {e}", file=sys.stderr)
            r = SummaryReply(query=q.strip(), error="Something went wrong summarising this; it has been logged.")
        found_all = found_all and not r.error
        if args.json:
            print(json.dumps(summary_json(r, signer), ensure_ascii=False), flush=True)
        else:
            show(to_text(summary_blocks(r, signer=signer)[0]))
    return 0 if found_all or args.query == ["-"] else 1


def cmd_serve(cfg: Config, args) -> int:
    from bot.slack import app as slack
    from bot.web import server as web

    try:
        if args.http:
            env = slack.require_env("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
        else:
            env = slack.require_env("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    except slack.MissingToken as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    searcher = open_searcher(cfg)  # the index and the models checked before Slack is called
    if searcher is None:
        return 1
    logging.getLogger("archivist").setLevel(logging.INFO)
    try:
        app = slack.create_app(cfg, bot_token=env["SLACK_BOT_TOKEN"], signing_secret=env.get("SLACK_SIGNING_SECRET"),
                               searcher=searcher)
        if args.http:
            web.serve_http(app, env["SLACK_SIGNING_SECRET"], args.host, args.port)
        else:
            if args.web_port:
                web.serve_pages(app, cfg.web.host, args.web_port)
            slack.serve_socket(app, env["SLACK_APP_TOKEN"])
    except slack.CannotStart as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # the port is taken, or not ours to listen on
        print(f"error: cannot serve on {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0


def cmd_web(cfg: Config, args) -> int:
    """The archive's pages alone (search, summaries, archived copies), with no Slack tokens or Slack."""
    import threading

    from bot.web import server as web
    from bot.service import Bot
    from bot.state.state import open_state
    from index.searching.links import index_signer

    searcher = open_searcher(cfg)
    if searcher is None:
        return 1
    cfg = replace(cfg, web=replace(cfg.web, search=True))  # what this command is for
    if not cfg.web.public_search and not os.environ.get("ARCHIVIST_WEB_TOKEN"):
        print("warning: ARCHIVIST_WEB_TOKEN is not set and [web] public_search is off: the search pages will "
              "refuse everyone (archived-copy links still open)", file=sys.stderr)
    # the index's own key checks archived-copy links, as the bot's server does (links on the pages are relative)
    bot = Bot(cfg, searcher, open_state(cfg), threading.Lock(), index_signer(cfg))
    logging.getLogger("archivist").setLevel(logging.INFO)
    try:
        server = web.server(None, None, args.host, args.port, bot=bot)
    except OSError as e:  # the port is taken, or not ours to listen on
        print(f"error: cannot serve on {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    log.warning("serving the archive's pages on http://%s:%s/ (health: /healthz)", args.host, server.effective_port)
    server.run()
    return 0


CHAT_HELP = """Ask a question about the archive; follow-up questions are read with the earlier ones. Or:
  /summarize <link | article id | words>   a short summary of one article
  more                                     the next passages for the last question
  new (or an empty line)                   start a new conversation
  quit                                     leave (or Ctrl-D)"""


def cmd_chat(cfg: Config, args) -> int:
    """The bot's replies in the terminal: same answers, same blocks, rendered as text. Like a Slack
    thread, each question is read with the conversation's earlier ones until `new` or an empty line."""
    from bot.answer import answer
    from bot.slack.blocks import answer_blocks, summary_blocks, to_text
    from bot.summary import summary
    from index.records import Thread

    searcher = open_searcher(cfg)
    if searcher is None:
        return 1
    signer = signer_for(cfg)
    interactive = sys.stdin.isatty()
    if interactive:
        print(f"Archivist: {searcher.store.count_articles():,} articles in {cfg.index_dir()}\n{CHAT_HELP}\n")
    thread, last, offset = Thread(), None, 0
    while True:
        try:
            line = input("you> " if interactive else "").strip()
        except EOFError:
            break
        if line in ("quit", "exit"):
            break
        if not line or line == "new":
            if thread.questions:
                print("(new conversation)\n", flush=True)
            thread, last, offset = Thread(), None, 0
            continue
        if not interactive:
            show(f"you> {line}")
        command = line.split(maxsplit=1)[0]
        if command == "/summarize":
            reply = summary(line[len("/summarize"):], searcher, cfg.summary.sentences)
            blocks = summary_blocks(reply, signer=signer)[0]
        elif line in ("help", "/help", "?"):
            print(CHAT_HELP + "\n")
            continue
        elif command.startswith("/"):
            show(f"Unknown command {command}: the commands are /summarize and /help.\n")
            continue
        elif line == "more" and not last:
            print("Ask a question first; `more` shows the next passages for it.\n")
            continue
        else:
            if line == "more":
                question, before = last
                a = answer(question, searcher, offset=offset, thread=before)
                if not a.passages and not a.error:
                    print("No more passages for that question.\n")
                    continue
            else:
                last, offset = (line, thread), 0
                a = answer(line, searcher, thread=thread)
                thread = thread.after(a)
            blocks = answer_blocks(a, offset, signer=signer)[0]
            offset += len(a.passages)
        show(to_text(blocks, more="type `more` for the next passages"))
    return 0


def _integer(low: int, high: float, not_a_number: str, out_of_range: str):
    """An argparse type for a whole number from low to high: a wrong one is a usage error in one line,
    not a traceback or a value that wraps (a port of 70000 listening on 4464)."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(not_a_number.format(repr(text))) from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(out_of_range.format(n))
        return n
    return parse


_port = _integer(1, 65535, "{} is not a port number", "{} is not a port (1 to 65535)")
_count = _integer(1, float("inf"), "{} is not a number", "{}: at least 1 passage")


def main(argv: list[str] | None = None) -> int:
    def common(config, verbose) -> argparse.ArgumentParser:
        """--config and -v, taken before or after the sub-command: the sub-command's copies default to
        SUPPRESS so that they never overwrite a value given before it (parents share Action objects,
        hence one parser per default)."""
        c = argparse.ArgumentParser(add_help=False)
        c.add_argument("--config", default=config,
                       help="TOML config (default ./config.toml, else $ARCHIVIST_CONFIG, else defaults)")
        c.add_argument("-v", "--verbose", action="store_true", default=verbose,
                       help="say more about what happens (progress details, debug logs)")
        return c

    p = argparse.ArgumentParser(prog="archivist", description="Ask an archive of articles questions.",
                                parents=[common(None, False)])
    sub = p.add_subparsers(dest="command", required=True)
    after = common(argparse.SUPPRESS, argparse.SUPPRESS)
    add = lambda name, **kw: sub.add_parser(name, parents=[after], **kw)  # noqa: E731

    b = add("build", help="index the configured sources (or those given); incremental")
    b.add_argument("sources", nargs="*", help="files, folders or globs to add or update instead of the configured "
                   "sources; articles from elsewhere stay unless --prune")
    b.add_argument("--json", action="store_true", help="print the summary as JSON")
    b.add_argument("--prune", action="store_true",
                   help="with paths: also remove articles that came from anywhere else (the paths become the archive)")
    b.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                   help='embed on a Ray cluster: the one `ray start` made here ("auto", the default), '
                        'ray://host:10001, or "local" to start one for this build ([build] ray)')
    b.add_argument("--ray-workers", type=int, default=0, metavar="N",
                   help="encoder actors on the cluster (default: one per CPU; [build] ray_workers)")
    b.set_defaults(func=cmd_build)

    e = add("extract", help="show what ingestion sees in each file")
    e.add_argument("files", nargs="+", help="files to read as the build reads them (html, warc, txt, md, jsonl, csv)")
    e.add_argument("--json", action="store_true", help="one JSON object per article")
    e.set_defaults(func=cmd_extract)

    s = add("stats", help="articles, chunks, model, index age, date range")
    s.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    s.set_defaults(func=cmd_stats)

    k = add("check", help="verify the index: SQLite integrity, FAISS against the chunks, counts, manifest")
    k.add_argument("--json", action="store_true", help="print the findings as one JSON object")
    k.set_defaults(func=cmd_check)

    n = add("snapshot", help="a consistent copy of the published index in a new folder, to ship to bot replicas")
    n.add_argument("dest", help="the new (or empty) folder")
    n.set_defaults(func=cmd_snapshot)

    a = add("ask", help="answer a question from the index; '-' reads one per line from stdin",
            description="Answer a question as the bot does. Filters go in the question: since:2020-01, "
                        "before:2021-06-30, site:ksl.com, author:\"Jane Doe\".")
    a.add_argument("question", nargs="+", help="the question's words; or '-': one question per line from stdin, "
                   'each plain text or {"question": "...", "thread": ["earlier question", ...]}')
    a.add_argument("-k", type=_count, default=0, help="passages to show (default: [search] top_k)")
    a.add_argument("--mode", choices=("hybrid", "dense", "keyword"), help="retrieval mode (default: [search] mode)")
    a.add_argument("--json", action="store_true", help="one JSON object per question")
    a.set_defaults(func=cmd_ask)

    m = add("summarize", help="summary of one article, by URL, id or words; '-' reads one per line")
    m.add_argument("query", nargs="+", help="a link, an article id or words; or '-': one per line from stdin")
    m.add_argument("--json", action="store_true", help="one JSON object per summary")
    m.set_defaults(func=cmd_summarize)

    v = add("serve", help="run the Slack bot (Socket Mode by default)")
    how = v.add_mutually_exclusive_group()
    how.add_argument("--socket", action="store_true", help="Socket Mode: SLACK_BOT_TOKEN + SLACK_APP_TOKEN (default)")
    how.add_argument("--http", action="store_true", help="HTTP: SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET")
    v.add_argument("--port", type=_port, default=3000, help="with --http: the port to listen on (default 3000)")
    v.add_argument("--host", default="127.0.0.1",
                   help="with --http: the address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for "
                        "every interface, behind your HTTPS proxy)")
    v.add_argument("--web-port", type=_port, default=0,
                   help="in Socket Mode: also serve the archive's pages (archived copies, search) on this port, "
                        "at [web] host; with --http they are on --port")
    v.set_defaults(func=cmd_serve)

    w = add("web", help="serve the archive's pages alone (search, summaries, archived copies): no Slack needed")
    w.add_argument("--port", type=_port, default=8080, help="the port to listen on (default 8080)")
    w.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for every interface)")
    w.set_defaults(func=cmd_web)

    f = add("feedback", help="the 👍/👎 votes from Slack, with verdicts; --export writes an evaluation set")
    f.add_argument("--json", action="store_true", help="one JSON object per vote")
    f.add_argument("--since", help="only votes on or after this date (YYYY-MM-DD)")
    f.add_argument("--export", metavar="FILE", help="write the votes as JSON lines that bench/answers.py --replay "
                   "asks again")
    f.set_defaults(func=cmd_feedback)

    c = add("chat", help="the bot's replies in the terminal, without Slack",
            description=CHAT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.set_defaults(func=cmd_chat)

    args = p.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        cfg = configmod.load(args.config)
    except ConfigError as e:
        print(f"error: config: {e}", file=sys.stderr)
        return 2
    from index.storing.store import DB_NAME, StoreError, damaged, disk_full

    try:
        return args.func(cfg, args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as e:  # damage SQLite meets only when it reads that far into the file
        if disk_full(e):  # not damage: nothing needs rebuilding once there is room
            print(f"error: the disk holding {cfg.index_dir()} is full ({e}); free some space and try again",
                  file=sys.stderr)
        else:
            print(f"error: {damaged(cfg.index_dir() / DB_NAME, e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
