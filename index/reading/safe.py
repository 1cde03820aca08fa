"""Text that is safe to show: file names in messages, article text on a terminal.

File names and articles come from outside: a newline in a name would forge a second message line,
and an escape sequence in an article's text would drive the reader's terminal.
"""
from __future__ import annotations

import re

# C0 and C1 controls except tab and newline, DEL, and the bidirectional overrides that reorder text
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# whole escape sequences first (CSI "\x1b[2J", OSC window titles "\x1b]0;...\x07"), then lone controls
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def name(s: str) -> str:
    """A file name as one printable line: as is when plain, else quoted with escapes (like repr)."""
    if _UNSHOWABLE.search(s) or s != s.strip():
        return ascii(s) if re.search(r"[\ud800-\udfff]", s) else repr(s)
    return s


def path_text(s: str) -> str:
    """A path from the file system as storable text: bytes that were not UTF-8 (which Python keeps as
    lone surrogates, and SQLite cannot store) become \\xNN, so the name stays unique and readable."""
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def valid(text: str) -> str:
    """Text that is valid Unicode: a lone surrogate (JSON's "\\ud800" decodes to one) becomes U+FFFD, as
    a decoder would make of a bad byte. Tokenizers, SQLite and UTF-8 output all refuse them."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def for_terminal(text: str) -> str:
    """Text without control characters (escape sequences, bells, overrides); tabs and newlines stay."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def line(text: str) -> str:
    """Text as one printable line: line breaks, escape bytes and overrides shown as \\n, \\x1b, \\u202e,
    so a CSV header or a library's message that holds them cannot forge or drive terminal lines."""
    return _UNSHOWABLE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)
