"""Sentiment of a customer comment: VADER, adapted to how customers write reviews and complaints.

Plain VADER scores the whole text at once, so one "love" in a long complaint tips it positive, and it does not
know retail words ("runs small", "returned it", "refund"). Three changes, each a general idea rather than
something learnt from a data set:

- score each sentence and average them, so a long comment is judged by its balance, not by its peak;
- a sentence that opens with "but"/"however" (the customer's turn of thought) weighs more than the one before;
- a small hand-written lexicon of customer-service and retail terms, with phrases joined into single tokens.
  It is kept general (delivery, refunds, damage, support): words about one trade, such as how clothes fit, were
  left out, so the figure on the clothing reviews is not bought with words only clothing reviews use.

The two thresholds of the neutral band were tuned once on public clothing reviews (see
bench/quality_sentiment.py); nothing else was fitted to data.
"""

from __future__ import annotations

import re

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from stories.models import Sentiment, SentimentLabel

# Single words VADER lacks (or reads as general English) and their valence in a customer's mouth (-4..4).
RETAIL_WORDS: dict[str, float] = {
    # delivery and service
    "refund": -1.2,
    "refunded": -0.8,
    "late": -1.2,
    "delayed": -1.5,
    "lost": -1.5,
    "unhelpful": -2.0,
    "unresponsive": -2.0,
    "overcharged": -2.2,
    "overpriced": -1.8,
    "scam": -3.0,
    # the product came back
    "returned": -1.5,
    "returning": -1.5,
    "return": -0.8,
    "exchange": -0.5,
    "exchanged": -0.8,
    # quality and damage
    "cheap": -1.2,
    "cheaply": -1.8,
    "flimsy": -1.8,
    "shoddy": -2.2,
    "ripped": -2.0,
    "stained": -1.5,
    # praise
    "sturdy": 1.2,
    "timely": 1.2,
    "prompt": 1.2,
}

# Phrases, written as customers write them; each becomes one token scored like a word.
RETAIL_PHRASES: dict[str, float] = {
    "fell apart": -2.5,
    "falling apart": -2.5,
    "poorly made": -2.2,
    "poor quality": -2.2,
    "cheap material": -1.8,
    "never arrived": -2.5,
    "never received": -2.5,
    "never came": -2.0,
    "no response": -1.8,
    "on hold": -1.0,
    "wrong size": -1.5,
    "wrong item": -2.0,
    "sent back": -1.5,
    "send back": -1.5,
    "sending back": -1.5,
    "sending it back": -1.5,
    "send it back": -1.5,
    "going back": -1.5,
    "went back": -1.5,
    "not worth": -2.0,
    "waste of money": -2.8,
    "well made": 1.8,
    "on time": 1.0,
    "fast shipping": 1.8,
    "fast delivery": 1.8,
    "quick delivery": 1.8,
    "arrived early": 1.5,
    "highly recommend": 2.8,
    "bought another": 1.8,
    "ordered another": 1.8,
}

# The neutral band on the raw sentence-mean score, tuned on public clothing reviews with
# `bench/quality_sentiment.py --tune` (the only fitted numbers in this module). Reviews praise even what
# they send back, so the band sits above zero.
POSITIVE_FROM = 0.25
NEGATIVE_TO = 0.10

TURN_WEIGHT = 1.5  # a sentence opening with "but"/"however"...
TURNED_WEIGHT = 0.5  # ...and the sentence it turns away from (VADER's own within-sentence "but" weights)

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_TURN = re.compile(r"^\W*(?:but|however|although|though|yet|still|unfortunately|sadly)\b", re.IGNORECASE)


def _token(phrase: str) -> str:
    return "cx" + re.sub(r"\W", "", phrase.lower())


class LexiconSentiment:
    """VADER per sentence, with turn weighting and a retail lexicon; label by a tuned neutral band."""

    def __init__(self, *, positive_from: float = POSITIVE_FROM, negative_to: float = NEGATIVE_TO) -> None:
        if negative_to >= positive_from:
            raise ValueError("negative_to must be below positive_from (the neutral band lies between)")
        self._positive_from = positive_from
        self._negative_to = negative_to
        self._vader = SentimentIntensityAnalyzer()
        self._vader.lexicon.update(RETAIL_WORDS)
        self._vader.lexicon.update({_token(p): v for p, v in RETAIL_PHRASES.items()})
        ordered = sorted(RETAIL_PHRASES, key=len, reverse=True)
        self._phrases = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in ordered) + r")\b", re.IGNORECASE)

    def raw_score(self, text: str) -> float | None:
        """-1..1: the weighted mean of sentence compound scores; None when no sentence carries sentiment."""
        sentences = [s for s in _SENTENCES.split(text) if s.strip()]
        if not sentences:
            return None
        weights = [1.0] * len(sentences)
        for i, sentence in enumerate(sentences):
            if i and _TURN.match(sentence):
                weights[i] = TURN_WEIGHT
                weights[i - 1] = min(weights[i - 1], TURNED_WEIGHT)
        total = 0.0
        signal = False
        for sentence, weight in zip(sentences, weights, strict=True):
            prepared = self._phrases.sub(lambda m: _token(m.group()), sentence)
            compound = self._vader.polarity_scores(prepared)["compound"]
            signal = signal or compound != 0.0
            total += weight * compound
        if not signal:
            return None
        return max(-1.0, min(1.0, total / sum(weights)))

    def analyze(self, text: str) -> Sentiment:
        raw = self.raw_score(text)
        if raw is None:  # nothing to go on ("Order 12345."): neutral, not the band's lean
            return Sentiment(label="neutral", score=0.0)
        if raw >= self._positive_from:
            label: SentimentLabel = "positive"
        elif raw <= self._negative_to:
            label = "negative"
        else:
            label = "neutral"
        return Sentiment(label=label, score=round(self._centred(raw), 4))

    def _centred(self, raw: float) -> float:
        """Map -1..1 so the middle of the neutral band is 0: a negative label never shows a positive score."""
        middle = (self._positive_from + self._negative_to) / 2
        if raw >= middle:
            return (raw - middle) / (1 - middle)
        return (raw - middle) / (1 + middle)
