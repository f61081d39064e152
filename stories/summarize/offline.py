"""A summariser that needs no network and invents nothing: the customer's own key sentence, in context.

The story is fixed framing built from facts we hold (source, score band, segment) around a quotation of the
sentence that carries the most feeling; the title is that sentence's first clause. Every word that is not
framing comes from the comment, so the story can be wrong about emphasis but never about facts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from stories.models import Summary, SummaryInput
from stories.scores import score_band
from stories.sentiment import RETAIL_WORDS

TITLE_MAX = 80
STORY_MAX = 280
ELLIPSIS = "…"

_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\s*\n\s*")
_WORDS = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# Where a headline may stop: a comma, semicolon, colon or dash followed by a space, a bracket, or "but".
_CLAUSE_END = re.compile(r"\s*(?:[,;:]\s|\s[-–—]\s|\s*\(|\s*\)|\s+but\s)", re.IGNORECASE)
# Words that link to an earlier sentence and make a poor start for a headline.
_CONNECTIVE = re.compile(r"^(?:but|however|and|so|also|then|plus|anyway|well|ok|okay)\b[\s,;:]*", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_CONTEXT_MAX = 40  # source and segment are ours to frame, but may come from a CSV column


@cache
def _valence() -> dict[str, float]:
    """VADER's word valences plus the retail terms: a dictionary look-up per word, not a full VADER run."""
    words = dict(SentimentIntensityAnalyzer().lexicon)
    words.update(RETAIL_WORDS)
    return words


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters on a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > limit // 2:  # text without spaces (Japanese, one long token) is cut where it must be
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


class OfflineSummarizer:
    """Deterministic stories from the comment itself; the fallback for every other summariser."""

    name = "offline"

    def summarize(self, items: Sequence[SummaryInput]) -> list[Summary]:
        return [self.summarize_one(item) for item in items]

    def summarize_one(self, item: SummaryInput) -> Summary:
        sentence = key_sentence(item.text, sentiment=item.sentiment)
        frame = _frame(item)
        if not sentence:
            story = f"{frame}, left no written comment."
            return Summary(title="No written comment", story=shorten(story, STORY_MAX), summarizer=self.name)
        opening = f'{frame}, wrote: "'
        quote = shorten(sentence, max(STORY_MAX - len(opening) - 1, 20))
        story = shorten(f'{opening}{quote}"', STORY_MAX)
        return Summary(title=headline(sentence), story=story, summarizer=self.name)


def _frame(item: SummaryInput) -> str:
    parts = ["A customer"]
    source = shorten(_SPACE.sub(" ", item.source).strip(), _CONTEXT_MAX)
    if source:
        parts.append(f"via {source}")
    band = score_band(nps=item.nps, csat=item.csat)
    if band:
        parts.append(band)
    segment = shorten(_SPACE.sub(" ", item.segment or "").strip(), _CONTEXT_MAX)
    if segment:
        parts.append(f"segment {segment}")
    return ", ".join(parts) if len(parts) > 1 else parts[0]


def key_sentence(text: str, *, sentiment: str | None = None) -> str:
    """The most informative sentence: strongest feeling (in the comment's direction, if known), then length."""
    best, best_score = "", -1.0
    valence = _valence()
    for raw in _SENTENCES.split(text):
        sentence = _SPACE.sub(" ", raw).strip()
        words = _WORDS.findall(sentence)
        if not words:
            if sentence and not best:
                best = sentence  # emoji or symbols only: still the customer's words, kept unless text follows
            continue
        feeling = 0.0
        for word in words:
            value = valence.get(word.lower(), 0.0)
            if (sentiment == "negative" and value > 0) or (sentiment == "positive" and value < 0):
                value *= 0.3  # feelings against the comment's overall direction count for less
            feeling += abs(value)
        content = min(len({w.lower() for w in words if len(w) > 3}), 12) / 12  # 0..1, rewards substance
        score = feeling + content
        if len(words) < 4:
            score *= 0.5  # "Thanks." or "Hi team," rarely carries the point
        if score > best_score:
            best, best_score = sentence, score
    return best


def headline(sentence: str) -> str:
    """The sentence's first clause, sentence case, without closing punctuation, at most 80 characters."""
    rest = _CONNECTIVE.sub("", sentence, count=1)
    if len(_WORDS.findall(rest)) >= 2:
        sentence = rest
    clause = sentence
    for match in _CLAUSE_END.finditer(sentence):
        candidate = sentence[: match.start()]
        if len(_WORDS.findall(candidate)) >= 3:
            clause = candidate
            break
    clause = clause.strip().rstrip(".!?…,;: ")
    return _sentence_case(shorten(clause or sentence.strip(), TITLE_MAX))
