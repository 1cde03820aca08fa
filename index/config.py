"""Configuration: TOML file -> frozen dataclasses. Every key has a default that works with no file."""
from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

FORMATS = ("auto", "html", "warc", "text", "markdown", "jsonl", "csv")
FIELD_NAMES = ("id", "title", "text", "url", "published", "author", "site")
# what exports call our fields when a source does not say (first found wins)
COMMON_NAMES = {
    "id": ("id", "guid", "_id", "uuid"),
    "title": ("title", "headline", "name"),
    "text": ("text", "body", "content", "article"),
    "url": ("url", "link", "permalink", "canonical_url"),
    "published": ("published", "date", "published_at", "pubdate", "publish_date", "created_at"),
    "author": ("author", "byline", "authors", "creator"),
    "site": ("site", "source", "publication", "site_name"),
}


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or has a bad value."""


@dataclass(frozen=True)
class SourceSpec:
    path: str  # a file, a folder (recursive) or a glob
    format: str = "auto"  # by file type when "auto"
    # export field -> our field; for jsonl/csv. Missing keys use our own names.
    fields: tuple[tuple[str, str], ...] = ()
    follow_symlinks: bool = False  # links to files outside the source's folder are refused unless true
    site: str = ""  # the site of articles that name none themselves (a text dump has no URL)

    def field_names(self) -> dict[str, tuple[str, ...]]:
        """For each of our fields, the export's names to look for, in order: the configured one, else
        our own name and the names CMS exports commonly use for it."""
        return {ours: (dict(self.fields)[ours],) if ours in dict(self.fields) else COMMON_NAMES[ours]
                for ours in FIELD_NAMES}


@dataclass(frozen=True)
class IndexSettings:
    path: str = "archive-index"
    model: str = "bundled"  # the bundled all-MiniLM-L6-v2, or a local sentence-transformers folder
    batch_size: int = 8  # texts per forward pass of the encoder (small batches pad less: fastest on 2 cores)
    backend: str = "onnx"  # "onnx" (exported once, same vectors as "torch", faster), "onnx-int8" (faster still,
    # its own vectors) or "torch" (sentence-transformers)
    faiss: str = "auto"  # "flat" (exact), "ivf" (approximate, 8-bit), or "auto": by the number of chunks
    approximate_above: int = 200_000  # with faiss = "auto", chunks beyond which the index is approximate
    nprobe: int = 48  # inverted lists an approximate search looks in
    max_article_mb: int = 10  # a page, text file or record larger than this is reported and skipped
    max_file_seconds: float = 30.0  # a file that reads this long without yielding its next article is stopped
    device: str = "auto"  # where the encoder runs: "auto" (CUDA when the backend sees a GPU, else CPU), "cpu", "cuda"


@dataclass(frozen=True)
class BuildSettings:
    ray: str = ""  # embed on a Ray cluster: "auto" (the one `ray start` made here, or RAY_ADDRESS),
    # "ray://host:10001", "local" (start one on this machine); empty: in this process
    ray_workers: int = 0  # encoder actors; 0: one per CPU of the cluster


@dataclass(frozen=True)
class ChunkSettings:
    target_words: int = 120  # a chunk closes at the first sentence end past this
    max_words: int = 150  # ...and never grows past this (long sentences are split on words)
    overlap_sentences: int = 1  # sentences repeated at the start of the next chunk


MODES = ("hybrid", "dense", "keyword")
FUSIONS = ("convex", "rrf")
BACKENDS = ("onnx", "onnx-int8", "torch")
DEVICES = ("auto", "cpu", "cuda")
FAISS_KINDS = ("auto", "flat", "ivf")


@dataclass(frozen=True)
class SearchSettings:
    top_k: int = 3  # passages in an answer
    mode: str = "hybrid"  # hybrid, dense (FAISS only) or keyword (FTS5 BM25 only)
    candidates: int = 100  # chunks taken from each of dense and keyword search before fusing
    fusion: str = "convex"  # "convex": weighted sum of scores scaled by each list's best; or "rrf"
    dense_weight: float = 0.55
    keyword_weight: float = 0.45
    rrf_k: int = 60  # with fusion = "rrf": score = sum of weight / (rrf_k + rank)
    title_weight: float = 1.0  # BM25 weight of a title match against a text match (1.0)
    min_evidence: float = 0.6  # abstain when no passage has this much evidence (cosine + 0.5 x terms shared)
    min_similarity: float = 0.3  # a passage less close to the question than this (cosine) is not shown
    min_answer: float = 0.5  # a reply this likely to hold what was asked is "answered" (evidence.REPLY)
    min_read: float = 0.0  # ...and the reader this sure that one of its quotes answers (Answer.read); 0: off
    max_quote_chars: int = 300
    reader: str = "bundled"  # the cross-encoder that reads question and sentence together: "bundled", "none", or a folder


@dataclass(frozen=True)
class SummarySettings:
    sentences: int = 3  # sentences in a summary (articles with fewer give all of theirs)


@dataclass(frozen=True)
class SlackSettings:
    allowed_channels: tuple[str, ...] = ()  # channel ids; empty: every channel the bot is in
    allowed_teams: tuple[str, ...] = ()  # workspace ids; empty: any
    allow_dms: bool = True
    api_base_url: str = ""  # empty: Slack itself
    admins: tuple[str, ...] = ()  # user ids who see the feedback figures on their Home tab


@dataclass(frozen=True)
class WatchSettings:
    interval: float = 30.0  # seconds between the bot's looks for a newly published index with news for watches
    min_evidence: float = 0.9  # a new article that does not answer a watch still matches when this much about it
    digest: int = 5  # articles shown in full in one watch post; more are listed as "and N more"
    per_channel: int = 20  # watches a channel may have
    scan: int = 25  # matches at most per watch and build (the rest of a huge build's news is not posted)


@dataclass(frozen=True)
class WebSettings:
    public_url: str = ""  # the address links are built from, e.g. https://archive.example.com; empty: no archived-copy links
    link_days: int = 30  # how long a signed archived-copy link keeps working
    search: bool = False  # the search and summary pages at / (they need ARCHIVIST_WEB_TOKEN unless public_search)
    public_search: bool = False  # the search pages open to anyone who can reach the server, without a token
    host: str = "127.0.0.1"  # where `serve --web-port` listens beside Socket Mode (HTTP mode uses --host)


@dataclass(frozen=True)
class StateSettings:
    # where the bot keeps its state: empty, the index's SQLite; "postgresql://user@host/db" for replicas on
    # several hosts (the password from PGPASSWORD or ~/.pgpass, never in the file)
    url: str = ""


@dataclass(frozen=True)
class Config:
    index: IndexSettings = IndexSettings()
    build: BuildSettings = BuildSettings()
    chunking: ChunkSettings = ChunkSettings()
    search: SearchSettings = SearchSettings()
    summary: SummarySettings = SummarySettings()
    slack: SlackSettings = SlackSettings()
    web: WebSettings = WebSettings()
    watch: WatchSettings = WatchSettings()
    state: StateSettings = StateSettings()
    sources: tuple[SourceSpec, ...] = ()
    base_dir: Path = field(default_factory=Path.cwd)  # relative paths resolve against it

    def index_dir(self) -> Path:
        return self.resolve(self.index.path)

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p


def _section(cls: type, raw: Any, name: str) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError(f"[{name}] has unknown key(s): {', '.join(sorted(unknown))}")
    values = {}
    for key, value in raw.items():
        default = getattr(cls(), key)
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"[{name}] {key} must be a list of strings, not {value!r}")
            value = tuple(value)
        elif type(default) is float and type(value) is int:
            value = float(value)
        elif type(value) is not type(default):
            raise ConfigError(f"[{name}] {key} must be {type(default).__name__}, not {value!r}")
        if type(default) is float and not math.isfinite(value):
            raise ConfigError(f"[{name}] {key} must be a number, not {value}")
        if type(default) in (int, float) and value < 0 or type(default) is int and value == 0 != default:
            raise ConfigError(f"[{name}] {key} must be positive, not {value}")
        if (name, key) in _ABOVE_ZERO and value <= 0:
            raise ConfigError(f"[{name}] {key} must be more than 0, not {value}")
        if isinstance(value, str) and "\0" in value:
            raise ConfigError(f"[{name}] {key} holds a NUL character")
        high = _AT_MOST.get((name, key))
        if high is not None and value > high:
            raise ConfigError(f"[{name}] {key} must be at most {high}, not {value}")
        values[key] = value
    return cls(**values)


# upper bounds where a larger value breaks something (Slack's block limits, memory) or is meaningless
_AT_MOST = {
    ("search", "top_k"): 20, ("search", "dense_weight"): 1.0, ("search", "keyword_weight"): 1.0,
    ("search", "min_similarity"): 1.0, ("search", "min_answer"): 1.0, ("search", "min_read"): 1.0, ("search", "candidates"): 10_000,
    ("search", "max_quote_chars"): 2_500, ("index", "max_article_mb"): 1_024, ("index", "max_file_seconds"): 86_400, ("index", "batch_size"): 4_096,
    ("summary", "sentences"): 20, ("chunking", "max_words"): 2_000,
    ("watch", "digest"): 10, ("watch", "per_channel"): 1_000, ("watch", "scan"): 200, ("watch", "interval"): 86_400,
}


# floats where 0 means no time at all: a watch pass in a busy loop
_ABOVE_ZERO = {("watch", "interval"), ("index", "max_file_seconds")}


def _source(raw: Any, i: int) -> SourceSpec:
    if not isinstance(raw, dict) or "path" not in raw:
        raise ConfigError(f"[[sources]] entry {i + 1} needs a path")
    unknown = set(raw) - {"path", "format", "fields", "follow_symlinks", "site"}
    if unknown:
        raise ConfigError(f"[[sources]] entry {i + 1} has unknown key(s): {', '.join(sorted(unknown))}")
    fmt = raw.get("format", "auto")
    if fmt not in FORMATS:
        raise ConfigError(f"[[sources]] entry {i + 1}: format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    mapping = raw.get("fields", {})
    if not isinstance(mapping, dict) or set(mapping) - set(FIELD_NAMES) or not all(
            isinstance(v, str) for v in mapping.values()):
        raise ConfigError(
            f"[[sources]] entry {i + 1}: fields maps our names ({', '.join(FIELD_NAMES)}) to the export's"
        )
    if not isinstance(raw["path"], str) or not raw["path"].strip() or "\0" in raw["path"]:
        raise ConfigError(f"[[sources]] entry {i + 1}: path must be a non-empty string without NUL characters")
    follow = raw.get("follow_symlinks", False)
    if not isinstance(follow, bool):
        raise ConfigError(f"[[sources]] entry {i + 1}: follow_symlinks must be true or false")
    site = raw.get("site", "")
    if not isinstance(site, str) or (site and not re.match(r"^[a-z0-9.-]+\.[a-z]{2,}$", site.lower())):
        raise ConfigError(f"[[sources]] entry {i + 1}: site must be a host like ksl.com, not {site!r}")
    return SourceSpec(path=raw["path"], format=fmt, fields=tuple(sorted(mapping.items())), follow_symlinks=follow,
                      site=site.lower())


def check_build(b: "BuildSettings") -> None:
    """The Ray settings, from a file or from `build --ray`."""
    if b.ray and b.ray not in ("auto", "local") and not re.match(r"^(ray://)?[\w.-]+:\d+$", b.ray):
        raise ConfigError(f'[build] ray must be "auto", "local" or an address like ray://host:10001, not {b.ray!r}')
    if b.ray_workers < 0:
        raise ConfigError(f"[build] ray_workers must be positive, not {b.ray_workers}")


def parse(data: dict[str, Any], base_dir: Path) -> Config:
    unknown = set(data) - {"index", "build", "chunking", "search", "summary", "slack", "web", "watch", "state", "sources"}
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(sorted(unknown))}")
    if not isinstance(data.get("sources", []), list):
        raise ConfigError("sources must be [[sources]] tables, each with a path")
    cfg = Config(
        index=_section(IndexSettings, data.get("index"), "index"),
        build=_section(BuildSettings, data.get("build"), "build"),
        chunking=_section(ChunkSettings, data.get("chunking"), "chunking"),
        search=_section(SearchSettings, data.get("search"), "search"),
        summary=_section(SummarySettings, data.get("summary"), "summary"),
        slack=_section(SlackSettings, data.get("slack"), "slack"),
        web=_section(WebSettings, data.get("web"), "web"),
        watch=_section(WatchSettings, data.get("watch"), "watch"),
        state=_section(StateSettings, data.get("state"), "state"),
        sources=tuple(_source(s, i) for i, s in enumerate(data.get("sources", []))),
        base_dir=base_dir,
    )
    if cfg.index.device not in DEVICES:
        raise ConfigError(f"[index] device must be one of {', '.join(DEVICES)}, not {cfg.index.device!r}")
    check_build(cfg.build)
    url = cfg.state.url
    if url and not re.match(r"^postgres(ql)?://", url):
        raise ConfigError(f"[state] url must be a postgresql:// address, not {url!r}")
    if re.match(r"^postgres(ql)?://[^/@]*:[^/@]*@", url):
        raise ConfigError("[state] url holds a password: keep it out of the file (set PGPASSWORD, or use ~/.pgpass)")
    if cfg.index.backend == "int8":
        raise ConfigError('[index] backend "int8" is now "onnx-int8" (quantised with onnxruntime; its vectors differ, '
                          "so the index is embedded again)")
    if cfg.index.backend not in BACKENDS:
        raise ConfigError(f"[index] backend must be one of {', '.join(BACKENDS)}, not {cfg.index.backend!r}")
    if cfg.index.faiss not in FAISS_KINDS:
        raise ConfigError(f"[index] faiss must be one of {', '.join(FAISS_KINDS)}, not {cfg.index.faiss!r}")
    if cfg.search.fusion not in FUSIONS:
        raise ConfigError(f"[search] fusion must be one of {', '.join(FUSIONS)}, not {cfg.search.fusion!r}")
    if cfg.search.mode not in MODES:
        raise ConfigError(f"[search] mode must be one of {', '.join(MODES)}, not {cfg.search.mode!r}")
    if cfg.chunking.target_words > cfg.chunking.max_words:
        raise ConfigError("[chunking] target_words must not exceed max_words")
    if cfg.web.public_url and not re.match(r"^https?://[^/\s]+(/\S*)?$", cfg.web.public_url):
        raise ConfigError(f"[web] public_url must be an http(s) address like https://archive.example.com, "
                          f"not {cfg.web.public_url!r}")
    model = cfg.resolve(cfg.index.model)
    if cfg.index.model != "bundled" and not any((model / f).is_file() for f in ("config.json", "modules.json")):
        raise ConfigError(f"[index] model: {model} is not a sentence-transformers model folder "
                          '(no config.json or modules.json); use "bundled" or a local model folder')
    reader = cfg.search.reader
    if reader not in ("bundled", "none"):
        folder = cfg.resolve(reader)
        if not folder.is_dir():
            raise ConfigError(f'[search] reader: {folder} is not a folder; use "bundled", "none" or a folder holding '
                              "a cross-encoder (an ONNX export or a sentence-transformers CrossEncoder)")
        cfg = replace(cfg, search=replace(cfg.search, reader=str(folder)))
    blocked = _file_above(cfg.index_dir())
    if blocked:
        raise ConfigError(f"[index] path: {cfg.index_dir()} cannot be a folder, {blocked} is a file")
    return cfg


def _file_above(path: Path) -> Path | None:
    """The first existing part of a path, if it is a file (an index cannot be made under a file)."""
    for p in (path, *path.parents):
        if p.exists():
            return p if not p.is_dir() else None
    return None


def load(path: str | None = None) -> Config:
    """--config PATH, else ./config.toml, else $ARCHIVIST_CONFIG, else built-in defaults."""
    if path is None:
        if Path("config.toml").is_file():
            path = "config.toml"
        else:
            path = os.environ.get("ARCHIVIST_CONFIG") or None
    if path is None:
        return Config()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{p}: {e}") from None
    return parse(data, p.resolve().parent)
