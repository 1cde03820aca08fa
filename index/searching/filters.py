"""Filters written in a question: since:2020-01 before:2021-06-30 site:ksl.com author:"Jane Doe".

They are taken out of the text before searching and echoed in the reply. A bad value is a clear
message, never an empty answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from index.reading.urls import site_of

_FILTER = re.compile(r"(?<!\S)(since|before|site|author):(?:\"([^\"]*)\"|“([^”]*)”|(\S*))", re.I)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


class FilterError(ValueError):
    """A filter's value cannot be used; the message says which and what is expected."""


@dataclass(frozen=True)
class Filters:
    since: str = ""  # ISO date, inclusive
    before: str = ""  # ISO date, exclusive
    site: str = ""  # a host; its subdomains match too
    author: str = ""  # case-insensitive part of the author field
    # not written in questions: only these articles (a watch reads only what a build added)
    articles: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.before or self.site or self.author or self.articles)

    def describe(self) -> tuple[str, ...]:
        out = []
        if self.since:
            out.append(f"since {self.since}")
        if self.before:
            out.append(f"before {self.before}")
        if self.site:
            out.append(f"site {self.site}")
        if self.author:
            out.append(f'author "{self.author}"')
        return tuple(out)


def _date(name: str, value: str) -> str:
    m = _DATE.match(value)
    if not m:
        raise FilterError(f"{name}: expects a date like 2020, 2020-06 or 2020-06-30, not {value!r}")
    y, mo, d = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        raise FilterError(f"{name}: {value!r} is not a real date") from None


def parse(question: str) -> tuple[str, Filters]:
    """(the question without its filters, the filters)."""
    values: dict[str, str] = {}
    for m in _FILTER.finditer(question):
        name = m.group(1).lower()
        value = next((g for g in m.groups()[1:] if g is not None), "").strip()
        if not value:
            raise FilterError(f"{name}: needs a value, e.g. {_EXAMPLES[name]}")
        if name in values:
            raise FilterError(f"{name}: given twice")
        values[name] = value
    text = " ".join(_FILTER.sub(" ", question).split())
    since = _date("since", values["since"]) if "since" in values else ""
    before = _date("before", values["before"]) if "before" in values else ""
    if since and before and since >= before:
        raise FilterError(f"since:{values['since']} is not before before:{values['before']}, so nothing can match")
    site = ""
    if "site" in values:
        site = site_of(values["site"] if "://" in values["site"] else "http://" + values["site"])
        if not site or "." not in site:
            raise FilterError(f"site: expects a host like ksl.com, not {values['site']!r}")
    return text, Filters(since=since, before=before, site=site, author=values.get("author", ""))


_EXAMPLES = {"since": "since:2020-01", "before": "before:2021-06-30", "site": "site:ksl.com",
             "author": 'author:"Jane Doe"'}
