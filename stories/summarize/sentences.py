"""Sentences of a comment, and the light tightening a story may apply to them.

Hand-written rather than a sentence splitter library: comments are short, informal and often unpunctuated, the
splitter must never drop or reorder a character a quote needs, and it runs on every comment (pysbd, the
maintained candidate, is about a hundred times slower and changes nothing that matters on chat text).

Tightening removes only what carries no fact: greetings, @handles, filler openings ("so basically", "just
wanted to say"), repeated words ("very very") and repeated punctuation ("!!!"). It never removes or changes a
number, a name, a link or a negation.
"""

from __future__ import annotations

import itertools
import re

_BREAK = re.compile(r"(?<=[.!?…])\s+|\s*\n\s*")
# A piece ending in one of these did not end a sentence: "Mr. Smith", "e.g. the app", "U.S. bank", "No. 5".
_ABBREVIATION = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|st|vs|etc|e\.g|i\.e|no|approx|dept|inc|ltd|co|jr|sr|u\.s|a\.m|p\.m)\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)
WORDS = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
SPACE = re.compile(r"\s+")

_HANDLE = re.compile(r"(?<![\w.])@\w+[:,]?\s*")
_GREETING = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|dear|greetings|good\s+(?:morning|afternoon|evening)|to\s+whom\s+it\s+may\s+concern"
    r"|bonjour|bonsoir|salut|hallo|hola|buenos\s+d[ií]as|buongiorno|ciao|ol[áa]|guten\s+tag)"
    r"\b[^,.!:;\n]{0,30}?[,.!:;—–-]+\s*)+",
    re.IGNORECASE,
)
_FILLER_OPENING = re.compile(
    r"^(?:(?:so|well|ok|okay|um+|uh+|basically|honestly|literally|anyway|just)\b[\s,]*)+"
    r"|^(?:i\s+)?just\s+wanted\s+to\s+(?:say|let\s+you\s+know)\s+(?:that\s+)?",
    re.IGNORECASE,
)
_OPENINGS = (
    *"hi hello hey hiya dear greetings good to so well ok okay um uh basically honestly literally anyway just i".split(),
    *"bonjour bonsoir salut hallo hola buenos buongiorno ciao olá ola guten".split(),
)
_REPEATED_WORD = re.compile(r"\b(\w+)(?:\s+\1\b)+", re.IGNORECASE)
_REPEATED_MARK = re.compile(r"([!?.])\1+")
# Sentences that carry nothing on their own: thanks, sign-offs, a bare greeting.
_EMPTY_SENTENCE = re.compile(
    r"^(?:thanks?(?:\s+you)?(?:\s+(?:so\s+much|in\s+advance|again))?|thx|cheers|regards|kind\s+regards|best"
    r"|sincerely|hi|hello|hey|dear\s+\w+|ok|okay|fyi)\W*$",
    re.IGNORECASE,
)


ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters on a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > limit // 2:  # text without spaces (Japanese, one long token) is cut where it must be
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def split(text: str) -> list[str]:
    """The comment's sentences in order, whitespace collapsed; pieces after an abbreviation rejoined."""
    sentences: list[str] = []
    for raw in _BREAK.split(text):
        piece = SPACE.sub(" ", raw).strip()
        if not piece:
            continue
        if sentences and _ABBREVIATION.search(sentences[-1]) and not raw.startswith("\n"):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def tighten(sentence: str) -> str:
    """The sentence without greeting, handles, filler opening, repeated words or repeated punctuation.

    Empty when nothing else is left; a sentence of emoji or symbols alone is kept as it is.
    """
    text = _HANDLE.sub("", sentence) if "@" in sentence else sentence
    first = text.lstrip()[:12].casefold()
    if first.startswith(_OPENINGS):  # each pattern only where it can match: this runs on every sentence
        text = _GREETING.sub("", text)
        text = _FILLER_OPENING.sub("", text)
    words = [w.casefold() for w in WORDS.findall(text)]
    if any(a == b for a, b in itertools.pairwise(words)):
        text = _REPEATED_WORD.sub(r"\1", text)
    if "!!" in text or "??" in text or ".." in text:
        text = _REPEATED_MARK.sub(r"\1", text)
    text = SPACE.sub(" ", text).strip(" ,;:-–—")
    if not WORDS.search(text) and WORDS.search(sentence):
        return ""  # nothing but a greeting or a handle
    if text != sentence.strip() and text[:1].islower():
        text = text[:1].upper() + text[1:]  # "@Airline tried to rebook" -> "Tried to rebook"
    return text


def carries_nothing(sentence: str) -> bool:
    """Thanks, a sign-off or a bare greeting: never the point of a story."""
    return bool(_EMPTY_SENTENCE.match(sentence.strip()))
