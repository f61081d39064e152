"""The words around a quotation: who said it, where, in which language, with which score.

Written as a person would say it ("A customer wrote in a survey, NPS 3 (detractor):"), from facts we hold
(source, language, scores, segment), never from the comment.
"""

from __future__ import annotations

import re

from stories.language import is_english, language_name
from stories.scores import score_band
from stories.summarize.sentences import shorten

CONTEXT_MAX = 40  # source and segment are ours to frame, but may come from a CSV column
_SPACE = re.compile(r"\s+")

# Where a comment came from, as a sentence says it. Keys are compared case-folded; a source that contains
# "survey" or "review" reads as one.
_PLACES: dict[str, str] = {
    "csv": "in a survey",
    "survey": "in a survey",
    "nps": "in a survey",
    "csat": "in a survey",
    "twitter": "on Twitter",
    "x": "on X",
    "facebook": "on Facebook",
    "instagram": "on Instagram",
    "slack": "in Slack",
    "teams": "in Teams",
    "email": "by e-mail",
    "e-mail": "by e-mail",
    "mail": "by e-mail",
    "chat": "in a chat",
    "phone": "on a call",
    "call": "on a call",
    "webhook": "through our web form",
    "web": "through our web form",
    "website": "through our web form",
    "form": "through our web form",
    "app": "in our app",
    "customer_praise": "in a message of praise",
    "cx_team": "to the CX team",
}


def _clean(value: str | None) -> str:
    return shorten(_SPACE.sub(" ", value or "").strip(), CONTEXT_MAX)


def place(source: str) -> str | None:
    """Where the comment was made, as prose: ``"in a survey"``, ``"on Twitter"``, ``"in Slack"``."""
    cleaned = _clean(source)
    if not cleaned:
        return None
    key = cleaned.casefold()
    platform, _, how = key.partition(":")
    if how == "manual" and platform in _PLACES:
        return f"{_PLACES[platform]}, shared by a colleague"
    if key in _PLACES:
        return _PLACES[key]
    if "survey" in key:
        return "in a survey"
    if "review" in key:
        return "in a review"
    return f"through {cleaned}"


def frame(
    *, source: str, nps: int | None, csat: int | None, segment: str | None, language: str | None, verb: str = "wrote"
) -> str:
    """``"A customer wrote in French in a survey, NPS 3 (detractor), segment Enterprise"`` (no final colon)."""
    words = ["A customer", verb]
    if not is_english(language):
        name = language_name(language)
        words.append(f"in {name}" if name else f"in the language {_clean(language)!r}")
    where = place(source)
    if where:
        words.append(where)
    head = " ".join(words)
    extra = [band] if (band := score_band(nps=nps, csat=csat)) else []
    if segment := _clean(segment):
        extra.append(f"segment {segment}")
    return ", ".join([head, *extra])
