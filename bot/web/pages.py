"""The archive on the web as HTML: records in, page text out. Pure functions; `bot/web/server.py` serves them.

Server-rendered, one small stylesheet inline, no script and nothing from another host. Everything
from the archive or the visitor goes through `html.escape`, and the pages are sent with a
Content-Security-Policy that allows no script at all, so an article holding `<script>` shows it as text.
"""
from __future__ import annotations

from html import escape

from collections.abc import Callable

from index.searching.links import source_targets
from index.records import NOTHING, RELATED, Answer, Article, SummaryReply

Copy = Callable[..., str]  # (article_id, start=None, end=None) -> the link to its archived copy

STYLE = """
body{font:17px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:44rem;margin:0 auto;padding:1rem 1.2rem 4rem}
header a{color:inherit;text-decoration:none;font-weight:600}
form{display:flex;gap:.5rem;margin:1rem 0}
input[type=search]{flex:1;font:inherit;padding:.5rem .7rem;border:1px solid #bbb;border-radius:6px}
button{font:inherit;padding:.5rem 1rem;border:0;border-radius:6px;background:#2a5bd7;color:#fff}
.meta{color:#666;font-size:.9rem;margin:0}
.meta span{white-space:nowrap}
h3{margin:1.6rem 0 .15rem;line-height:1.3}
blockquote{margin:.4rem 0 .5rem;padding:.2rem .9rem;border-left:4px solid #2a5bd7;background:#fff}
blockquote+.meta{margin:-.2rem 0 .8rem}
mark{background:#ffe58a;padding:.1rem 0}
#quote{scroll-margin-top:30vh}
.note{background:#fff3cd;padding:.6rem .8rem;border-radius:6px}
article p{margin:0 0 1rem}
h1{font-size:1.6rem;line-height:1.25}
@media (max-width:30rem){body{font-size:16px}main{padding:.6rem .8rem 3rem}}
"""


def page(title: str, body: str, search_box: str | None = None, home: bool = True) -> str:
    """A page with the Archivist header (a link to the search page when `home`), and the search box
    when `search_box` is given."""
    box = "" if search_box is None else (
        f'<form action="/search" method="get"><input type="search" name="q" value="{escape(search_box)}" '
        'placeholder="Ask the archive, e.g. why did IBM quit facial recognition?" aria-label="Question" autofocus>'
        '<button type="submit">Ask</button></form>')
    head = '<header><a href="/">Archivist</a></header>' if home else "<header><strong>Archivist</strong></header>"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{head}{box}{body}</main></body></html>")


def message(title: str, text: str) -> str:
    return page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>", home=False)


def _whole(text: str) -> str:
    return f"<span>{escape(text)}</span>"  # .meta span: kept whole, a date never wraps at its hyphens


def _byline(*parts: str) -> str:
    """Site, date, author on one line, each kept whole."""
    shown = [_whole(p) for p in parts if p]
    return f'<div class="meta">{" · ".join(shown)}</div>' if shown else ""


def _title_links(title: str, url: str, archived: str, quoted: str = "") -> str:
    """The title to the original (scrolled to the quote), else to the archived copy; then the copy."""
    target, beside = source_targets(url, archived, quoted)
    head = f'<a href="{escape(target)}">{escape(title)}</a>' if target else escape(title)
    return head + (f' · <a class="meta" href="{escape(beside)}">archived copy</a>' if beside else "")


def answer_page(q: str, answer: Answer | None, copy: Copy) -> str:
    """The search page: the box, and for a question the reply a Slack user gets."""
    if answer is None:
        return page("Archivist", '<p class="meta">Ask a question; filters such as <code>since:2020-01</code>, '
                                 '<code>site:ksl.com</code> and <code>author:"Jane Doe"</code> go in the box.</p>', q)
    if answer.error:
        return page(f"{q} · Archivist", f'<p class="note">{escape(answer.error)}</p>', q)
    parts = []
    if answer.filtered_out:
        parts.append(f'<p class="note">No article in the archive matches {escape(", ".join(answer.filters))}, so '
                     'nothing was searched. Try the question without that filter.</p>')
    elif answer.status == NOTHING:
        parts.append(f'<p class="note">Nothing in the archive about <em>{escape(answer.query or q)}</em>.</p>')
        if answer.closest:
            dated = lambda c: f' · <span class="meta">{_whole(c.published)}</span>' if c.published else ""  # noqa: E731
            parts.append("<p>The closest articles:</p><ul>" + "".join(
                f"<li>{_title_links(c.title, c.url, copy(c.article_id))}{dated(c)}</li>" for c in answer.closest)
                + "</ul>")
    else:
        if answer.status == RELATED:
            parts.append("<p class=\"note\">The archive doesn't say, as far as I can find. Here is what it has on "
                         f"<em>{escape(answer.query or q)}</em>:</p>")
        for group in _by_article(answer.passages):
            first = group[0]
            title = _title_links(first.title, first.url, copy(first.article_id, first.start, first.end), first.quote)
            saved = f"saved {first.copies} times" if first.copies > 1 else ""
            parts.append(f"<h3>{title}</h3>{_byline(first.site, first.published, saved)}")
            for i, p in enumerate(group):
                parts.append(f"<blockquote>{escape(p.quote)}</blockquote>")
                if i:  # the title leads to the first passage; each further one has its own links
                    target, beside = source_targets(p.url, copy(p.article_id, p.start, p.end), p.quote)
                    links = [f'<a href="{escape(u)}">{name}</a>' for u, name in ((target, "this passage"),
                                                                                 (beside, "archived copy")) if u]
                    parts.append(f'<div class="meta">{" · ".join(links)}</div>' if links else "")
    filters = f" · filters: {escape(', '.join(answer.filters))}" if answer.filters else ""
    parts.append(f'<p class="meta">Searched {answer.articles_searched:,} articles · index built '
                 f'{escape(answer.index_date or "unknown")}{filters}</p>')
    return page(f"{q} · Archivist", "".join(parts), q)


def _by_article(passages) -> list[list]:
    """Passages in order, those of one article together under its title (the reply lists an article's
    passages one after another)."""
    groups: list[list] = []
    for p in passages:
        if groups and groups[-1][0].article_id == p.article_id:
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups


def summary_page(q: str, reply: SummaryReply, copy: Copy) -> str:
    if reply.error:
        return page("Summary · Archivist", f'<p class="note">{escape(reply.error)}</p>', "")
    s = reply.summary
    body = (f"<h2>{_title_links(s.title, s.url, copy(s.article_id))}</h2>" + _byline(s.site, s.published)
            + "".join(f"<blockquote>{escape(x.text)}</blockquote>" for x in s.sentences))
    if reply.did_you_mean:
        body += '<p class="meta">Did you mean: ' + " · ".join(
            f'<a href="{escape(copy(c.article_id) or c.url)}">{escape(c.title)}</a>' for c in reply.did_you_mean) + "</p>"
    return page(f"Summary: {s.title} · Archivist", body, "")


def archived_page(a: Article, span: tuple[int, int] | None, search: bool = False) -> str:
    """The archived copy: the Archivist header (back to the search page when `search` is on), title,
    site, date, author, the original link, the text in paragraphs, and the quoted range marked (id
    "quote", which the link's #quote scrolls to without any script)."""
    text = a.text
    if span and 0 <= span[0] < span[1] <= len(text):
        start, end = span
    else:
        start = end = -1
    paras, pos = [], 0
    for para in text.split("\n"):
        lo, hi = pos, pos + len(para)
        pos = hi + 1
        if not para.strip():
            continue
        if start < hi and end > lo:  # the quote touches this paragraph
            a_, b_ = max(start, lo) - lo, min(end, hi) - lo
            mark_id = ' id="quote"' if start >= lo else ""
            body = f"{escape(para[:a_])}<mark{mark_id}>{escape(para[a_:b_])}</mark>{escape(para[b_:])}"
        else:
            body = escape(para)
        paras.append(f"<p>{body}</p>")
    original = f'<a href="{escape(a.url)}">{escape(a.url)}</a>' if a.url else ""
    head = (f"<h1>{escape(a.title)}</h1>" + _byline(a.site, a.published, a.author)
            + (f'<div class="meta">Original: {original}</div>' if original else "")
            + '<div class="meta">Archived copy, as Archivist indexed it.</div>')
    back = '<p class="meta"><a href="/">← Search the archive</a></p>' if search else ""
    return page(f"{a.title} · Archivist", f"{back}<article>{head}{''.join(paras)}</article>", home=search)
