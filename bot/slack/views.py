"""The Home tab, the feedback modal and watch posts as Slack Block Kit. Pure functions, escaped like
bot/slack/blocks.py and kept inside Slack's limits (100 blocks a view, 3,000 characters a section)."""
from __future__ import annotations

from dataclasses import dataclass

from bot.slack.blocks import (MAX_BLOCKS, NO_LINKS, _byline, _clip, _context, _fallback, _quote_lines, _section, escape,
                        source_links)
from bot.state.state import VERDICTS, Feedback, Watch
from index.searching.links import Signer
from index.records import Passage

MAX_VIEW_BLOCKS = 100
STATUS = {"answered": "✅ answered", "related": "🟡 related only", "nothing": "⚪ nothing found",
          "error": "⚠️ not understood"}
SHOWN_MORE = 10  # titles listed after "and N more"


@dataclass(frozen=True)
class HomeData:
    articles: int
    chunks: int
    first: str  # the earliest and latest article dates
    last: str
    built_at: str
    questions: tuple[tuple[str, str, str], ...]  # the person's latest (question, status, channel)
    watches: tuple[Watch, ...]  # of the channels the person is in
    admin: bool = False
    votes: tuple[int, int] = (0, 0)  # 👍, 👎 this week (shown to admins)
    disliked: tuple[Feedback, ...] = ()  # this week's 👎 (shown to admins)


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, 150)}}


def home_view(d: HomeData) -> dict:
    dates = f" from {d.first} to {d.last}" if d.first else ""
    blocks = [
        _header("Archivist"),
        _section(f"*{d.articles:,} articles* ({d.chunks:,} passages){dates} · last build {escape(d.built_at or 'never')}"),
        _context("Ask by mentioning me in a channel, or here in Messages. `/summarize <link | id | words>` summarises "
                 "an article; `/archivist watch <words>` in a channel posts new articles on a topic there; "
                 "*Find in archive* in any message's ⋮ menu looks up its claim."),
        {"type": "divider"}, _header("Your recent questions"),
    ]
    if d.questions:
        blocks += [_section(f"• _{escape(_clip(q, 200))}_ — {STATUS.get(s, escape(s))} · <#{c}>")
                   for q, s, c in d.questions]
    else:
        blocks.append(_context("You haven't asked anything yet."))
    blocks += [{"type": "divider"}, _header("Watches in your channels")]
    if d.watches:
        blocks += [_section(f"• `#{w.id}` _{escape(_clip(w.query, 200))}_ in <#{w.channel}> · set by <@{w.user}>")
                   for w in d.watches[:30]]
        if len(d.watches) > 30:
            blocks.append(_context(f"and {len(d.watches) - 30} more; `/archivist watches` in a channel lists its own."))
    else:
        blocks.append(_context("None yet: `/archivist watch <words>` in a channel starts one."))
    if d.admin:
        up, down = d.votes
        blocks += [{"type": "divider"}, _header("Feedback this week"), _section(f"👍 {up} · 👎 {down}")]
        for f in d.disliked[-20:]:
            why = f" — {VERDICTS.get(f.verdict, f.verdict)}" if f.verdict else ""
            note = f": “{escape(_clip(f.comment, 200))}”" if f.comment else ""
            blocks.append(_section(f"👎 _{escape(_clip(f.question, 200))}_ ({STATUS.get(f.status, 'answer')}){why}{note}"
                                   f" · <@{f.user}> in <#{f.channel}>"))
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def feedback_modal(metadata: str) -> dict:
    """What was wrong with a 👎 reply; `metadata` (≤ 3,000 characters) says which reply."""
    return {
        "type": "modal", "callback_id": "feedback_verdict", "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "What was wrong?"},
        "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": "verdict", "label": {"type": "plain_text", "text": "The answer had"},
             "element": {"type": "radio_buttons", "action_id": "choice", "options": [
                 {"text": {"type": "plain_text", "text": label[0].upper() + label[1:]}, "value": key}
                 for key, label in VERDICTS.items()]}},
            {"type": "input", "block_id": "comment", "optional": True,
             "label": {"type": "plain_text", "text": "Anything else? (optional)"},
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 1000}},
        ],
    }


def watch_blocks(watch: Watch, shown: list[Passage], more: list[Passage], signer: Signer = NO_LINKS
                 ) -> tuple[list[dict], str]:
    """One post for a watch's news from one build: the first articles in full, the rest by title."""
    blocks = [_section(f"*New in the archive* for watch `#{watch.id}`: _{escape(_clip(watch.query, 200))}_"
                       f" ({news_count([*shown, *more])})")]
    for p in shown:
        byline = _byline(p.site, p.published)
        title = source_links(p.title, p.url, signer.url(p.article_id, p.start, p.end), p.quote)
        blocks.append(_section(f"{title}{chr(10) + byline if byline else ''}\n{_quote_lines(p)}"))
    if more:
        titles = " · ".join(source_links(p.title, p.url, signer.url(p.article_id), p.quote) for p in more[:SHOWN_MORE])
        rest = f" and {len(more) - SHOWN_MORE} others" if len(more) > SHOWN_MORE else ""
        blocks.append(_context(f"and {len(more)} more: {titles}{rest}"))
    blocks.append(_context(f"Set by <@{watch.user}> · `/archivist unwatch {watch.id}` stops it"))
    return blocks[:MAX_BLOCKS], _fallback(f"{news_count([*shown, *more])} for watch #{watch.id}: {watch.query}")


def news_count(passages: list[Passage]) -> str:
    """"2 new articles", or with copies of them folded in, "1 new article, 6 copies": a build that added the
    same story seven times says so rather than seeming to have lost six."""
    n = len(passages)
    copies = sum(p.copies - 1 for p in passages)
    return (f"{n} new article{'s' if n != 1 else ''}"
            + (f", {copies} cop{'ies' if copies != 1 else 'y'}" if copies else ""))


def watches_text(watches: list[Watch]) -> str:
    if not watches:
        return "This channel watches nothing yet. `/archivist watch <words>` starts a watch."
    lines = ["This channel's watches:"]
    lines += [f"• `#{w.id}` _{escape(_clip(w.query, 200))}_ · set by <@{w.user}>" for w in watches]
    lines.append("`/archivist unwatch <id>` stops one.")
    return _clip("\n".join(lines), 2900)
