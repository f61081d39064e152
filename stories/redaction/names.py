"""The customer's own name, where the text introduces it: "my name is ...", "this is ... from", "I'm First Last",
"Name: ...", and sign-offs ("Thanks,\\nJane Smith", "Regards, J. Smith", "- Jane").

Names anywhere else stay, on purpose: "Dana at the front desk was wonderful" names an employee, and kudos
suggestions need it. Only capitalised words count as a name (initials too), with lower-case particles inside
(van, de, la, ...); the name ends at the first other word. Hand-written because the libraries that find names
anywhere (spaCy, Presidio's NER) would also take the staff names, and need a model download.

"Thanks, Jane" at the end of a comment stays: it thanks staff as often as it signs off. After "thanks" a
name is taken only on a line of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stories.redaction.canonical import canonical
from stories.redaction.spans import Hit

_NAME_WORD = r"(?:[^\W\d_]\.|[^\W\d_](?:[^\W\d_]|['’-]){0,30})"
_NAME = rf"(?P<name>{_NAME_WORD}(?:[ \t]{{1,2}}{_NAME_WORD}){{0,3}})"
_PARTICLES = frozenset("van von der den de del della da di du la le bin al ter ten".split())
# Capitalised words that follow "I'm" or "this is" without being a name.
_NOT_NAMES = frozenset(
    """a an the i i'm not very so really just still also here there this that it in on at from and but or
    your my our writing calling sorry happy glad disappointed upset angry frustrated sure afraid done back
    going trying hoping still new customer client member please thank thanks hello hi dear mr mrs ms miss dr
    yes no ok okay one two when why what how who where""".split()
)

_INTRODUCED = re.compile(
    rf"(?P<intro>(?i:\bmy\s{{1,3}}name\s{{1,3}}is|\bmy\s{{1,3}}name['’]s|\bname\s{{0,2}}:|\bi\s{{1,2}}am|"
    rf"\bi['’]m|\bthis\s{{1,2}}is|\bit['’]s))[ \t]{{1,3}}(?={_NAME})"  # a look-ahead: the next intro may be inside
)
# What may follow a name introduced by "this is" / "it's" ("this is Tom Baker from ...", "it's Jane, ...").
_INTRO_END = re.compile(r"[ \t]{0,3}(?:(?i:from|at|with|here|calling|speaking|of)\b|[,.!;\n]|\Z)")
_FROM = re.compile(r"[ \t]{0,3}(?i:from|at|with|here|calling|speaking|of)\b")
_LINE_END = r"(?=[ \t]{0,3}[.!]?[ \t]{0,3}(?:\r?\n|\Z))"
# "Regards, J. Smith" or "Regards,\nJ. Smith": these words close a letter, so a comma is enough.
_REGARDS = re.compile(
    r"(?i:\b(?:kind(?:est)?\s|best\s|warm(?:est)?\s|many\s)?regards|\bsincerely|\byours\s(?:sincerely|faithfully|"
    r"truly)|\bbest\swishes|\bbest|\bcheers|\brespectfully|\ball\s+the\s+best)"
    rf"(?:[ \t]{{0,3}}[,.!]?[ \t]{{0,3}}\r?\n[ \t\r\n]{{0,6}}|[ \t]{{0,3}},[ \t]{{0,3}}){_NAME}{_LINE_END}"
)
# "Thanks,\nJane Smith": after thanks the name must be on a line of its own ("Thanks, Dana" thanks staff).
_THANKS = re.compile(
    r"(?i:\bmany\s+thanks|\bthanks(?:\s+again)?|\bthank\s+you(?:\s+again)?)"
    rf"[ \t]{{0,3}}[,.!]?[ \t]{{0,3}}\r?\n[ \t\r\n]{{0,6}}{_NAME}{_LINE_END}"
)
# A dash and a name on the comment's last line ("- Jane", "— J. Smith"); earlier dashed lines are lists.
_DASH = re.compile(rf"(?:^|\n)[ \t]{{0,3}}(?:--?|–|—|~)[ \t]{{0,2}}{_NAME}(?=[ \t]{{0,3}}[.!]?\s{{0,6}}\Z)")
_WORD = re.compile(r"\S+")


def _leading_name(name: str, *, need: int) -> str | None:
    """The capitalised words at the start of ``name`` (particles allowed inside), if at least ``need``."""
    kept: list[str] = []
    for word in name.split():
        if word[0].isupper() and word.lower().rstrip(".") not in _NOT_NAMES:
            kept.append(word)
        elif kept and word in _PARTICLES:
            kept.append(word)
        else:
            break
    while kept and kept[-1] in _PARTICLES:
        kept.pop()
    return " ".join(kept) if len(kept) >= need else None


def _hit(match: re.Match[str], words: str) -> Hit:
    """The span of the first ``len(words.split())`` words of the match's name."""
    tokens = list(_WORD.finditer(match["name"]))
    end = match.start("name") + tokens[len(words.split()) - 1].end()
    return Hit(match.start("name"), end, canonical("name", words))


def _introduced(match: re.Match[str]) -> Hit | None:
    intro = match["intro"].lower().replace("’", "'")
    if intro.startswith(("my", "name")):
        words = _leading_name(match["name"], need=1)
        return _hit(match, words) if words else None
    if intro.startswith(("this", "it's")):
        words = _leading_name(match["name"], need=1)
        if not words:
            return None
        hit = _hit(match, words)
        if _FROM.match(match.string, hit.end):
            return hit  # "this is Tom from ...": one word is enough
        if len(words.split()) >= 2 and _INTRO_END.match(match.string, hit.end):
            return hit  # "Hi, this is Jane Smith. ..."
        return None
    words = _leading_name(match["name"], need=2)  # I am / I'm: first and last name, so "I'm British" stays
    return _hit(match, words) if words else None


def find_names(text: str) -> Iterator[Hit]:
    hits = [hit for match in _INTRODUCED.finditer(text) if (hit := _introduced(match)) is not None]
    for pattern in (_REGARDS, _THANKS, _DASH):
        for match in pattern.finditer(text):
            words = _leading_name(match["name"], need=1)
            if words and words == " ".join(match["name"].split()):
                hits.append(_hit(match, words))
    hits.sort()
    last = -1
    for hit in hits:
        if hit.start >= last:
            yield hit
            last = hit.end
