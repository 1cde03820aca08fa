"""Shared pieces of the benchmarks: the data folder, cached indexes built with the real build, timing."""
from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHARED = ROOT.parent / "shared" / "bench"
CACHE = ROOT / "bench" / ".cache"  # indexes and derived files; never committed


def _missing_data(kind, error, tb, default=sys.excepthook):
    """A bench run without ../shared beside the project: one line saying so, not a traceback."""
    if isinstance(error, FileNotFoundError) and str(error.filename or "").startswith(str(ROOT.parent / "shared")):
        print(f"error: benchmark data not found: {error.filename} (the benches read ../shared/bench, beside the "
              "project folder)", file=sys.stderr)
        return
    default(kind, error, tb)


sys.excepthook = _missing_data

WIKINEWS = {"path": str(SHARED / "wikinews" / "articles.jsonl"), "format": "jsonl"}
SCIFACT = {"path": str(SHARED / "scifact" / "corpus.jsonl"), "format": "jsonl", "fields": {"id": "_id"}}
SUMMARIES = [{"path": str(SHARED / "summarization" / name), "format": "jsonl", "fields": {"text": "article", "id": "id"}}
             for name in ("cnndm_test_frank.jsonl", "xsum_test_frank.jsonl")]


def xquad_articles() -> dict:
    """The 24 XQuAD articles as a JSONL export (derived into the cache), as a source entry."""
    out = CACHE / "xquad-articles.jsonl"
    if not out.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        data = json.loads((SHARED / "xquad" / "xquad.en.json").read_text())["data"]
        with open(out, "w") as f:
            for art in data:
                f.write(json.dumps({"title": art["title"].replace("_", " "),
                                    "url": f"https://en.wikipedia.org/wiki/{art['title']}",
                                    "text": "\n\n".join(p["context"] for p in art["paragraphs"])}) + "\n")
    return {"path": str(out), "format": "jsonl"}


def xquad_questions(heldout: bool = False) -> list[tuple[str, str, list[str]]]:
    """(question, article url, gold answer strings) for the 612 XQuAD questions; `heldout`: only those
    of the third of the articles the bundled reader was not trained on (index/reader/train.py)."""
    from index.reader.train import xquad_heldout

    data = json.loads((SHARED / "xquad" / "xquad.en.json").read_text())["data"]
    return [(qa["question"], f"https://en.wikipedia.org/wiki/{art['title']}", [a["text"] for a in qa["answers"]])
            for n, art in enumerate(data) if xquad_heldout(n) or not heldout
            for p in art["paragraphs"] for qa in p["qas"]]


def wikinews_reprints() -> dict:
    """Every Wikinews article again under another URL with a note in front: the same story syndicated,
    for a larger archive with real near-duplicates (derived into the cache)."""
    out = CACHE / "wikinews-reprints.jsonl"
    if not out.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        with open(WIKINEWS["path"]) as f, open(out, "w") as o:
            for line in f:
                row = json.loads(line)
                o.write(json.dumps({"title": row["title"], "published": row.get("published", ""),
                                    "url": row["url"] + "?syndicated=1",
                                    "text": "(Syndicated from Wikinews.)\n\n" + row["text"]}) + "\n")
    return {"path": str(out), "format": "jsonl"}


def bench_config(name: str, sources: list[dict], **sections):
    from index.config import parse

    data = {"index": {"path": str(CACHE / name)}, "sources": sources}
    for key, values in sections.items():
        data.setdefault(key, {}).update(values)
    return parse(data, ROOT)


def ensure_index(cfg, embedder, start_from: str | None = None) -> None:
    """Build (or bring up to date) a cached bench index with the real incremental build. A new index
    can start as a copy of another, so that articles they share are not embedded twice."""
    import shutil

    from index.storing.build import build

    if start_from and not cfg.index_dir().exists() and (CACHE / start_from).exists():
        shutil.copytree(CACHE / start_from, cfg.index_dir())
    summary = build(cfg, progress=sys.stderr.isatty(), embedder=embedder, report=lambda line: None)
    print(f"  index {cfg.index_dir().name}: {summary.line()}", file=sys.stderr)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


NEWSQA = SHARED / "newsqa" / "dev.jsonl"
SEED = {"path": str(ROOT.parent / "shared" / "data" / "seed"), "format": "text"}
NEWSQA_DISTRACTORS = 1200


def newsqa_articles() -> dict:
    """The News QA archive as a JSONL export (derived into the cache): the 30 articles the questions
    are about and the first 1,200 other Wikinews articles, so that ranking matters."""
    wanted = {json.loads(line).get("url") for line in open(NEWSQA)} - {None}
    return wikinews_with(wanted, CACHE / "newsqa-articles.jsonl")


def wikinews_with(wanted: set[str], out: Path) -> dict:
    """A JSONL export (derived into the cache once) of the Wikinews articles with these links and the
    first NEWSQA_DISTRACTORS others, so that ranking matters."""
    if not out.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        others = 0
        with open(WIKINEWS["path"]) as f, open(out, "w") as o:
            for line in f:
                url = json.loads(line)["url"]
                if url in wanted or others < NEWSQA_DISTRACTORS:
                    others += url not in wanted
                    o.write(line)
    return {"path": str(out), "format": "jsonl"}


def newsqa_config():
    return bench_config("newsqa", [newsqa_articles(), SEED])


def example_sources() -> list[dict]:
    """config.example.toml's sources with absolute paths: the sample archive as the demo indexes it."""
    from index.config import load

    return [{"path": s.path if Path(s.path).is_absolute() else str(ROOT / s.path), "format": s.format,
             "fields": dict(s.fields), **({"site": s.site} if s.site else {})}
            for s in load(str(ROOT / "config.example.toml")).sources]


def newsqa_without_config():
    """The News QA archive without the 30 articles its questions are about: each of those questions is
    then one the archive cannot answer, though it may well hold related stories (a hard negative)."""
    out = CACHE / "newsqa-without-articles.jsonl"
    if not out.is_file():
        wanted = {json.loads(line).get("url") for line in open(NEWSQA)} - {None}
        with open(newsqa_articles()["path"]) as f, open(out, "w") as o:
            o.writelines(line for line in f if json.loads(line)["url"] not in wanted)
    return bench_config("newsqa-without", [{"path": str(out), "format": "jsonl"}, SEED])


SLACK_SECRET = "bench-secret"


class SlackHTTP:
    """The Slack app served over HTTP on a loopback port, reached as Slack reaches it: signed requests."""

    def __init__(self, app, threads: int):
        import threading

        from bot.web import server as web

        sys.path.insert(0, str(ROOT / "tests"))
        self.server = web.server(app, SLACK_SECRET, "127.0.0.1", 0, threads=threads)
        threading.Thread(target=self.server.run, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.effective_port}/slack/events"

    def post(self, body: str, content_type: str) -> int:
        """One signed request; its HTTP status (Slack's ack)."""
        import urllib.request

        from fakeslack import signed

        req = urllib.request.Request(self.url, data=body.encode(), method="POST",
                                     headers={"Content-Type": content_type, **signed(body, SLACK_SECRET)})
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
            return r.status

    def event(self, event: dict, event_id: str) -> int:
        """An Events API callback carrying this event."""
        import time

        from fakeslack import BOT_USER, TEAM

        return self.post(json.dumps({"type": "event_callback", "team_id": TEAM, "api_app_id": "A1", "event_id": event_id,
                                     "event_time": int(time.time()), "event": event, "authorizations": [
                                         {"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}),
                         "application/json")

    def close(self) -> None:
        self.server.close()
