"""E-mail addresses, plain (jane@example.com) and spelled out (jane at example dot com, jane [at] example [dot] com).

Plain addresses are found from their '@', not from their start: a pattern that starts with the local part
(``[\\w.]+@...``) is tried at every character of a long word and runs to its end each time, which is quadratic
(a 99,000-character comment with one '@' held the server for 30 s). Here the domain is matched right after
each '@' and the local part read backwards from it, at most 64 characters (RFC 5321's limit), so each
character is looked at a bounded number of times.

The local part leaves out '/', '=', '?' and '&' (legal, but almost never used), so that in
``https://x.test/?email=jane@example.com`` the address found is jane@example.com.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stories.redaction.spans import Hit

_LOCAL_CHARS = frozenset("!#$%'*+^`{|}~-.")
_LOCAL_MAX = 64
_DOMAIN = re.compile(r"@([\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[^\W\d_]{2,63})")


def _local_start(text: str, at: int, floor: int) -> int:
    """Index where the local part before ``text[at] == '@'`` begins (``at`` itself when there is none)."""
    start = at
    limit = max(floor, at - _LOCAL_MAX)
    while start > limit and (text[start - 1].isalnum() or text[start - 1] in _LOCAL_CHARS or text[start - 1] == "_"):
        start -= 1
    while start < at and text[start] == ".":  # a local part never starts with a dot
        start += 1
    return start


def find_emails(text: str) -> Iterator[Hit]:
    if "@" not in text:
        return
    floor = 0
    for match in _DOMAIN.finditer(text):
        at = match.start()
        start = _local_start(text, at, floor)
        if start == at or text[at - 1] == ".":
            continue
        yield Hit(start, match.end(), text[start : match.end()].lower())
        floor = match.end()


# --- spelled out -----------------------------------------------------------------------------------------------

_AT = r"(?:\s{0,3}[\[({<]\s{0,2}at\s{0,2}[\])}>]\s{0,3}|\s{1,3}at\s{1,3}|\s{0,3}@\s{0,3})"
_DOT = r"(?:\s{0,3}[\[({<]\s{0,2}dot\s{0,2}[\])}>]\s{0,3}|\s{1,3}dot\s{1,3}|\.)"
_LABEL = r"[^\W_][\w-]{0,62}"
# The start is a word start (the look-behind), so a long word is entered once, not at each of its letters.
_SPELLED = re.compile(
    rf"(?<![\w.+-])(?P<local>[\w.+-]{{1,64}}){_AT}(?P<domain>{_LABEL}(?:{_DOT}{_LABEL}){{0,4}}){_DOT}"
    rf"(?P<tld>[^\W\d_]{{2,24}})(?![\w-])",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"[\[({<]\s*(?:at|dot)\s*[\])}>]|@", re.IGNORECASE)
# "I bought it at Tesco dot com": a pronoun or article before " at " starts a sentence, not an address.
_NOT_LOCAL = frozenset(
    "i me you he she it we they him her us them this that these those there here what who which a an the "
    "is was are were be been look looked looking arrive arrived stay stayed shop shopped bought buy order "
    "ordered one all me".split()
)
_TLDS = frozenset(
    "com org net edu gov mil int io co uk de fr es it nl be ch at se no dk fi pl pt ie us ca au nz in jp cn br "
    "mx ru eu info biz me tv app dev email online shop store uk".split()
)
_WORD_SPLIT = re.compile(_DOT, re.IGNORECASE)


def find_spelled_emails(text: str) -> Iterator[Hit]:
    """Addresses written with 'at' and 'dot' words. Plain words ("at", "dot") need a known top-level domain
    and a local part that is not an ordinary word; bracketed ones ("[at]", "(dot)") are taken as they come."""
    for match in _SPELLED.finditer(text):
        local, tld = match["local"], match["tld"].lower()
        bracketed = _BRACKETED.search(match.group()) is not None
        if not bracketed and (tld not in _TLDS or local.lower() in _NOT_LOCAL):
            continue
        labels = [label.strip() for label in _WORD_SPLIT.split(match["domain"]) if label.strip()]
        yield Hit(match.start(), match.end(), f"{local}@{'.'.join([*labels, tld])}".lower())
