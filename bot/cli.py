"""`archivist`: one console script, one sub-command per job."""
from __future__ import annotations

import argparse
import calendar
import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path

from index import config as configmod
from index.config import Config, ConfigError

log = logging.getLogger("archivist")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("archivist").setLevel(logging.INFO if verbose else logging.WARNING)
    for noisy in ("trafilatura", "htmldate", "sentence_transformers", "transformers", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def cmd_build(cfg: Config, args) -> int:
    from index.build import BuildError, build

    if args.sources:
        cfg = configmod.with_sources(cfg, args.sources)
    if not cfg.sources:
        print("error: no sources: give files or folders, or add [[sources]] to the config", file=sys.stderr)
        return 2
    progress = sys.stderr.isatty() and not args.json
    try:
        summary = build(cfg, progress=progress,
                        report=None if progress else lambda line: print(line, file=sys.stderr))
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({k: v for k, v in asdict(summary).items()} | {"index": str(cfg.index_dir())}))
    else:
        print(f"{summary.line()} -> {cfg.index_dir()}")
    nothing_read = summary.added + summary.updated + summary.unchanged == 0
    return 1 if nothing_read and summary.failed else 0


def cmd_extract(cfg: Config, args) -> int:
    from index import sources
    from index.build import shown_path
    from index.config import SourceSpec
    from index.records import SourceError

    count = failed = 0
    max_bytes = cfg.index.max_article_mb * 2**20
    for name in args.files:
        for item in sources.discover((SourceSpec(path=str(Path(name).resolve())),), Path.cwd()):
            if isinstance(item, SourceError):
                print(f"error: {item}", file=sys.stderr)
                failed += 1
                continue
            path, spec = item
            for got in sources.read_file(path, spec, shown_path(path, Path.cwd()), max_bytes):
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
    print(f"== {a.title or '(no title)'}")
    for label, value in (("id", a.article_id), ("source", a.location), ("url", a.url), ("published", a.published),
                         ("author", a.author), ("site", a.site)):
        if value:
            print(f"   {label}: {value}")
    print(f"   words: {len(a.text.split())}\n")
    print(a.text)
    print()


def cmd_stats(cfg: Config, args) -> int:
    from index.store import Store, StoreError

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
           "size_bytes": size}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"index:     {out['index']} ({size / 2**20:.1f} MB)")
        print(f"articles:  {out['articles']}")
        print(f"chunks:    {out['chunks']}")
        print(f"model:     {out['model']} ({out['dim']} dimensions)")
        print(f"built:     {built or 'never'}{f' ({age} ago)' if age else ''}")
        print(f"articles dated {first or '?'} to {last or '?'}")
    return 0


def _age(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{max(0, seconds):.0f} seconds"


def cmd_ask(cfg: Config, args) -> int:
    from index.embed import Embedder
    from index.search import Searcher
    from index.store import StoreError

    try:
        searcher = Searcher(cfg.index_dir(), Embedder(cfg.index.model, cfg.index.batch_size))
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    questions = (line.strip() for line in sys.stdin) if args.question == ["-"] else iter([" ".join(args.question)])
    k = args.k or cfg.search.top_k
    for q in questions:
        if not q:
            continue
        hits = searcher.dense(q, k)
        if args.json:
            print(json.dumps({"question": q, "abstained": False, "passages": [
                {"article_id": h.article_id, "title": h.title, "url": h.url, "published": h.published,
                 "quote": h.text, "start": h.start, "end": h.end, "chunk_id": h.chunk_id, "score": round(h.score, 4)}
                for h in hits]}, ensure_ascii=False), flush=True)
        else:
            print(f"Q: {q}\n")
            for h in hits:
                print(f"  {h.title} ({h.published or 'undated'}) {h.url}")
                print("  > " + " ".join(h.text.split())[:400] + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="archivist", description="Ask an archive of articles questions.")
    p.add_argument("--config", help="TOML config (default ./config.toml, else $ARCHIVIST_CONFIG, else defaults)")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="index the configured sources (or those given); incremental")
    b.add_argument("sources", nargs="*", help="files, folders or globs (replace the configured sources)")
    b.add_argument("--json", action="store_true", help="print the summary as JSON")
    b.set_defaults(func=cmd_build)

    e = sub.add_parser("extract", help="show what ingestion sees in each file")
    e.add_argument("files", nargs="+")
    e.add_argument("--json", action="store_true", help="one JSON object per article")
    e.set_defaults(func=cmd_extract)

    s = sub.add_parser("stats", help="articles, chunks, model, index age, date range")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_stats)

    a = sub.add_parser("ask", help="answer a question from the index; '-' reads one per line from stdin")
    a.add_argument("question", nargs="+")
    a.add_argument("-k", type=int, default=0, help="passages to show")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_ask)

    args = p.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        cfg = configmod.load(args.config)
    except ConfigError as e:
        print(f"error: config: {e}", file=sys.stderr)
        return 2
    try:
        return args.func(cfg, args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
