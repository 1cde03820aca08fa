"""Answer and summary records -> Slack Block Kit. Pure functions; with bot/slack/views.py (Home tab, modal,
watch posts), the only place Slack JSON is built.

Everything from the archive or the user is escaped (&, <, >), so archived text can never ping
@channel, mention a user or forge a link; our own links are built apart, with the characters that
would end a Slack link percent-encoded. Sizes stay well inside Slack's limits.
"""
from __future__ import annotations

import json
import re

from index.searching.links import Signer, source_targets
from index.records import NOTHING, RELATED, Answer, Passage, SummaryReply

NO_LINKS = Signer(b"")  # no public address: no archived-copy links

MAX_BLOCKS = 45  # Slack allows 50 per message
MAX_SECTION = 2900  # Slack allows 3,000 characters per section text
MAX_TITLE = 150
MAX_FALLBACK = 300
ELLIPSIS = "…"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str, bold: bool = True) -> str:
    """A Slack link whose URL cannot break out of its <...> and whose label is escaped."""
    label = escape(_clip(" ".join(label.split()), MAX_TITLE)) or "untitled"
    star = "*" if bold else ""
    if not re.match(r"^https?://", url or "", re.I):
        return f"{star}{label}{star}"
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")
    return f"{star}<{safe}|{label}>{star}"


def source_links(title: str, url: str, archived: str, quoted: str = "") -> str:
    """The title, linked to the original (scrolled to the quote with a text fragment) or, without one,
    to the archived copy; then a short link to the archived copy, which cannot rot."""
    target, beside = source_targets(url, archived, quoted)
    return link(target, title) + (f" · {link(beside, 'archived copy', bold=False)}" if beside else "")


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + ELLIPSIS


def _fallback(text: str) -> str:
    """The notification text that goes with the blocks: Slack parses it as mrkdwn too, so it is escaped
    like them (an article titled "<!channel>" must not ping the channel from a notification)."""
    return escape(_clip(" ".join(text.split()), MAX_FALLBACK))


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, MAX_SECTION)}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, MAX_SECTION)}]}


def _quote_lines(p: Passage) -> str:
    body = escape(p.quote)
    body = (ELLIPSIS if p.cut_before else "") + body + (ELLIPSIS if p.cut_after else "")
    return "\n".join("> " + line for line in body.split("\n") if line.strip())


def _byline(site: str, published: str, copies: int = 1) -> str:
    parts = [escape(x) for x in (site, published) if x]
    if copies > 1:
        parts.append(f"saved {copies} times")
    return " · ".join(parts)


def answer_blocks(answer: Answer, offset: int = 0, asked: str = "", signer: Signer = NO_LINKS,
                  share: dict | None = None) -> tuple[list[dict], str]:
    """(blocks, notification text) for an answer; `asked` is the question's Slack ts, so that More
    results reads the question in its thread as it was then; `signer` makes the archived-copy links.
    With `share` (a private answer), its one button is "Share in thread", carrying `share` as value."""
    question = escape(_clip(answer.query or answer.question, 200))  # filters are echoed on their own line
    if answer.error:
        return [_section(escape(answer.error))], _fallback(answer.error)
    filters = f" · filters: {escape(', '.join(answer.filters))}" if answer.filters else ""
    context = _context(f"Searched {answer.articles_searched:,} articles · index built {answer.index_date or 'unknown'}"
                       f"{filters}")
    if answer.filtered_out:
        return [_section(f"No article in the archive matches {escape(', '.join(answer.filters))}, so nothing was "
                         "searched. Try the question without that filter."), context], \
            _fallback(f"No article matches {', '.join(answer.filters)}")
    if answer.status == NOTHING:
        lines = [f"Nothing in the archive about _{question}_."]
        if answer.closest:
            lines.append("The closest articles:")
            lines += [f"• {source_links(c.title, c.url, signer.url(c.article_id))}{' · ' + c.published if c.published else ''}"
                      for c in answer.closest]
        blocks = [_section("\n".join(lines)), context] + ([_share(share)] if share is not None else [])
        return blocks, _fallback(f"Nothing in the archive about: {answer.question}")
    blocks: list[dict] = []
    if answer.status == RELATED:
        # the subject is in the archive, the fact asked for is not: never pass a related quote off as the answer
        blocks.append(_section(f"The archive doesn't say, as far as I can find. Here is what it has on _{question}_:"))
    for p in answer.passages:
        byline = _byline(p.site, p.published, p.copies)
        title = source_links(p.title, p.url, signer.url(p.article_id, p.start, p.end), p.quote)
        blocks.append(_section(f"{title}{chr(10) + byline if byline else ''}\n{_quote_lines(p)}"))
    blocks.append(context)
    blocks.append(_share(share) if share is not None else _actions(answer, offset, asked))
    n = len(answer.passages)
    what = "related passage" if answer.status == RELATED else "passage"
    fallback = f"{n} {what}{'s' if n != 1 else ''} from the archive about: {answer.question}"
    return blocks[:MAX_BLOCKS], _fallback(fallback)


def _actions(answer: Answer, offset: int, asked: str) -> dict:
    elements = []
    if answer.more:
        more = {"q": answer.question, "offset": offset + len(answer.passages)} | ({"ts": asked} if asked else {})
        elements.append({"type": "button", "action_id": "more_results", "text": {"type": "plain_text", "text": "More results"},
                         "value": _clip_value(more)})
    # what was shown goes with the vote: a 👎 becomes a replayable evaluation case (archivist feedback --export)
    vote = _clip_value({"q": answer.question, "chunks": [p.chunk_id for p in answer.passages], "st": answer.status,
                        "shown": [[p.chunk_id, p.start, p.end] for p in answer.passages]})
    elements.append({"type": "button", "action_id": "feedback_up", "text": {"type": "plain_text", "text": "👍"},
                     "value": vote})
    elements.append({"type": "button", "action_id": "feedback_down", "text": {"type": "plain_text", "text": "👎"},
                     "value": vote})
    return {"type": "actions", "block_id": "answer_actions", "elements": elements}


def _share(value: dict) -> dict:
    return {"type": "actions", "block_id": "share_actions", "elements": [
        {"type": "button", "action_id": "share_answer", "style": "primary",
         "text": {"type": "plain_text", "text": "Share in thread"}, "value": _clip_value(value)}]}


def _clip_value(doc: dict) -> str:
    """Button values hold at most 2,000 characters: shorten the question until the JSON fits."""
    s = json.dumps(doc, ensure_ascii=False)
    while len(s) > 1900 and doc.get("q"):
        doc = {**doc, "q": doc["q"][: len(doc["q"]) // 2]}
        s = json.dumps(doc, ensure_ascii=False)
    return s


def summary_blocks(reply: SummaryReply, shareable: bool = False, signer: Signer = NO_LINKS) -> tuple[list[dict], str]:
    """(blocks, notification text) for a summary; `shareable` adds the "Share in channel" button."""
    if reply.error:
        return [_section(escape(reply.error))], _fallback(reply.error)
    s = reply.summary
    byline = _byline(s.site, s.published)
    body = "\n".join("> " + escape(x.text) for x in s.sentences)
    blocks = [_section(f"{source_links(s.title, s.url, signer.url(s.article_id))}{chr(10) + byline if byline else ''}"
                       f"\n{body}")]
    if reply.did_you_mean:
        others = " · ".join(source_links(c.title, c.url, signer.url(c.article_id)) for c in reply.did_you_mean)
        blocks.append(_context(f"Did you mean: {others}"))
    blocks.append(_context(f"Summary of article `{s.article_id}`, {len(s.sentences)} sentences quoted verbatim"))
    if shareable:
        blocks.append({"type": "actions", "block_id": "summary_actions", "elements": [
            {"type": "button", "action_id": "share_summary", "style": "primary",
             "text": {"type": "plain_text", "text": "Share in channel"},
             "value": json.dumps({"id": s.article_id, "q": reply.query[:500]})}]})
    return blocks, _fallback(f"Summary: {s.title}")


# --- the terminal ------------------------------------------------------------------------------

_MRKDWN_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")


def to_text(blocks: list[dict], more: str = "") -> str:
    """Blocks as readable terminal text: links as 'label (url)', entities decoded. Buttons cannot be
    pressed in a terminal: they are left out, but for "More results", which becomes `more` (what
    the terminal offers instead: "type `more`", say), if given."""
    out = []
    for b in blocks:
        if b["type"] == "section":
            out.append(_plain(b["text"]["text"]))
        elif b["type"] == "context":
            out.append("  " + " ".join(_plain(e["text"]) for e in b["elements"]))
        elif b["type"] == "actions":
            if not (more and any(e.get("action_id") == "more_results" for e in b["elements"])):
                continue
            out.append(f"  ({more})")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _plain(mrkdwn: str) -> str:
    text = _MRKDWN_LINK.sub(lambda m: f"{m.group(2)} ({m.group(1).replace('&amp;', '&')})", mrkdwn)
    text = re.sub(r"(?<!\w)\*([^*\n]+)\*(?!\w)", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
