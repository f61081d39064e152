"""A summariser that needs no network and invents nothing: the customer's own sentences, chosen and framed.

A story is a frame built from facts we hold (where the comment was made, its language, scores, segment) around a
quotation of one to three of the customer's sentences, in their order:

- what happened: the sentence holding the words routing matched (so "Why here: keyword 'shattered'" points at a
  word the reader can see), else the sentence with the most substance and feeling, earlier sentences first;
- how it affected the customer: a sentence with consequence words ("now I", "had to", "cost me", "stress");
- what they asked for: a sentence with request words ("please", "I want", "refund", a question).

Sentences are tightened (greetings, @handles, filler openings, repeated words out: :mod:`.sentences`); a comment
in another language is quoted in that language and the frame says which. The title is the what-happened
sentence, or its clause that names the problem. Every word that is not framing comes from the comment, so a
story can be wrong about emphasis but never about facts. The cue lists are English; other languages are chosen
by routing words, substance and position alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from stories.models import Summary, SummaryInput
from stories.summarize.frame import frame
from stories.summarize.sentences import ELLIPSIS, SPACE, WORDS, carries_nothing, shorten, split, tighten

TITLE_MAX = 80
STORY_MAX = 280
MAX_SENTENCES = 3

__all__ = ["ELLIPSIS", "STORY_MAX", "TITLE_MAX", "OfflineSummarizer", "headline", "key_sentence", "shorten"]

# Where a headline may stop: a comma, semicolon, colon or dash followed by a space, a bracket, or "but".
_CLAUSE_END = re.compile(r"\s*(?:[,;:]\s|\s[-–—]\s|\s*\(|\s*\)|\s+but\s|\s+and\s+(?:now|then)\s)", re.IGNORECASE)
# Words that link to an earlier sentence and make a poor start for a headline.
_CONNECTIVE = re.compile(r"^(?:but|however|and|so|also|then|plus|anyway|well|ok|okay)\b[\s,;:]*", re.IGNORECASE)
# A routing reason names what matched in quotes: "keyword 'invoice'", "phrase \"late fee\"".
_REASON_TERM = re.compile(r"\b(?:keyword|phrase) (?:'((?:[^'\\]|\\.)+)'|\"((?:[^\"\\]|\\.)+)\")")


def _cues(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)", re.IGNORECASE)


# Words of something gone wrong, beyond VADER's feelings (which know "rude" but not "overcharged").
_PROBLEM = _cues(
    r"charged?",
    r"overcharged",
    r"double[- ]charged",
    r"fees?",
    r"interest",
    r"refunds?",
    r"late",
    r"never",
    r"wrong",
    r"errors?",
    r"broken?",
    r"broke",
    r"cancell?ed",
    r"denied",
    r"declined",
    r"missing",
    r"lost",
    r"damaged",
    r"delayed",
    r"billed",
    r"debt",
    r"collections?",
    r"crash(?:ed|es)?",
    r"failed",
    r"stuck",
    r"refused",
    r"ignored",
    r"scam",
    r"fraud\w*",
    r"unauthori[sz]ed",
    r"shattered",
    r"cracked",
    r"leak(?:s|ed|ing)?",
    r"exploded",
    r"burn(?:t|ed)?",
    r"not",
    r"no",
    r"\w+n[’']t",
    r"cannot",
    r"still",
)
_IMPACT = _cues(
    r"now",
    r"because of (?:this|that|it)",
    r"as a result",
    r"had to",
    r"have to",
    r"forced",
    r"cost me",
    r"lost",
    r"stress(?:ed|ful)?",
    r"anxi\w+",
    r"hurt",
    r"injur\w+",
    r"worse",
    r"afford",
    r"unable",
    r"couldn[’']t",
    r"can[’']t",
    r"ruined",
    r"missed",
    r"wasted?",
    r"hours",
    r"days",
    r"weeks",
    r"months",
    r"credit score",
    r"late fees?",
    r"never again",
    r"left me",
)
_ASK = _cues(
    r"please",
    r"i want",
    r"i would like",
    r"i[’']d like",
    r"i need",
    r"i am asking",
    r"i[’']m asking",
    r"i request",
    r"requesting",
    r"can you",
    r"could you",
    r"would you",
    r"help",
    r"fix",
    r"refund me",
    r"should",
    r"expect",
    r"demand",
)


@cache
def _valence() -> dict[str, float]:
    """VADER's word valences: a dictionary look-up per word, not a full VADER run."""
    return dict(SentimentIntensityAnalyzer().lexicon)


@dataclass(frozen=True, slots=True)
class _Sentence:
    index: int  # position among the comment's sentences
    text: str  # tightened
    words: tuple[str, ...]


class OfflineSummarizer:
    """Deterministic stories from the comment itself; the fallback for every other summariser."""

    name = "offline"

    def summarize(self, items: Sequence[SummaryInput]) -> list[Summary]:
        return [self.summarize_one(item) for item in items]

    def summarize_one(self, item: SummaryInput) -> Summary:
        context = dict(source=item.source, nps=item.nps, csat=item.csat, segment=item.segment, language=item.language)
        sentences = _sentences(item.text)
        if not sentences:
            story = frame(**context, verb="left no written comment")
            return Summary(title="No written comment", story=shorten(story + ".", STORY_MAX), summarizer=self.name)
        opening = frame(**context) + ': "'
        budget = max(STORY_MAX - len(opening) - 1, 40)
        terms = topic_terms(item.reasons)
        chosen = _choose(sentences, terms=terms, sentiment=item.sentiment, budget=budget)
        quote = _quote(chosen, terms=terms, budget=budget)
        story = shorten(f'{opening}{quote}"', STORY_MAX)
        return Summary(title=headline(chosen[0].text, terms=terms), story=story, summarizer=self.name)


def topic_terms(reasons: Sequence[str]) -> tuple[str, ...]:
    """The keywords and phrases that routing quoted in its reasons, case-folded."""
    terms: list[str] = []
    for reason in reasons:
        for single, double in _REASON_TERM.findall(reason):
            term = (single or double).replace("\\'", "'").replace('\\"', '"').casefold().strip()
            if term and term not in terms:
                terms.append(term)
    return tuple(terms)


def _has_term(text: str, terms: Sequence[str]) -> int:
    """Where the first of ``terms`` starts in ``text`` (whole word start, simple plurals), or -1."""
    folded = text.casefold()
    best = -1
    for term in terms:
        match = re.search(r"(?<!\w)" + re.escape(term), folded)
        if match and (best == -1 or match.start() < best):
            best = match.start()
    return best


def _sentences(text: str) -> list[_Sentence]:
    found: list[_Sentence] = []
    symbols_only: list[_Sentence] = []
    pieces = split(text)
    for index, raw in enumerate(pieces):
        tightened = tighten(raw)
        words = tuple(WORDS.findall(tightened))
        if not words:
            symbols_only.append(_Sentence(index, tightened, ()))  # emoji only: still the customer's words
            continue
        if carries_nothing(tightened) and len(pieces) > 1:
            continue
        found.append(_Sentence(index, tightened, words))
    return found or symbols_only[:1]


def _substance(sentence: _Sentence, *, sentiment: str | None) -> float:
    """Feeling in the comment's direction, words of a problem, and distinct content words."""
    valence = _valence()
    feeling = 0.0
    for word in sentence.words:
        value = valence.get(word.casefold(), 0.0)
        if (sentiment == "negative" and value > 0) or (sentiment == "positive" and value < 0):
            value *= 0.3  # feelings against the comment's overall direction count for less
        feeling += abs(value)
    problems = len(_PROBLEM.findall(sentence.text)) if sentiment != "positive" else 0
    content = min(len({w.casefold() for w in sentence.words if len(w) > 3}), 15) / 15
    score = 0.5 * feeling + 0.5 * min(problems, 4) + 2.0 * content
    if len(sentence.words) < 4:
        score *= 0.5  # "Thanks." or "Hi team," rarely carries the point
    return score


def _position(index: int) -> float:
    """Customers tend to say what happened first: the opening sentences get a head start."""
    return 1.5 / (1 + index)


def _choose(sentences: list[_Sentence], *, terms: Sequence[str], sentiment: str | None, budget: int) -> list[_Sentence]:
    """What happened first, then impact and ask if they fit, then the next most substantial; at most three."""
    substance = {s.index: _substance(s, sentiment=sentiment) for s in sentences}
    with_term = [s for s in sentences if terms and _has_term(s.text, terms) >= 0]
    if with_term:
        what = with_term[0]
    else:
        what = max(sentences, key=lambda s: (substance[s.index] + _position(s.index), -s.index))
    chosen = [what]
    rest = [s for s in sentences if s is not what]
    impact = [s for s in rest if _IMPACT.search(s.text)]
    asks = [s for s in rest if _ASK.search(s.text) or s.text.rstrip().endswith("?")]
    candidates: list[_Sentence] = []
    if impact:
        candidates.append(max(impact, key=lambda s: (len(_IMPACT.findall(s.text)) + substance[s.index], -s.index)))
    if asks:
        candidates.append(max(asks, key=lambda s: (len(_ASK.findall(s.text)), s.index)))
    candidates += sorted(rest, key=lambda s: (-(substance[s.index] + _position(s.index)), s.index))
    used = len(what.text)
    for candidate in candidates:
        if len(chosen) == MAX_SENTENCES:
            break
        if candidate in chosen:
            continue
        if used + 5 + len(candidate.text) <= budget:
            chosen.append(candidate)
            used += 5 + len(candidate.text)
    return [what, *sorted(chosen[1:], key=lambda s: s.index)]


def _quote(chosen: list[_Sentence], *, terms: Sequence[str], budget: int) -> str:
    """The chosen sentences in the comment's order; a gap between them shows as an ellipsis."""
    what = chosen[0]
    ordered = sorted(chosen, key=lambda s: s.index)
    if len(what.text) > budget:
        return _window(what.text, terms=terms, limit=budget)
    parts: list[str] = []
    previous: int | None = None
    for sentence in ordered:
        if previous is not None:
            parts.append(" " if sentence.index == previous + 1 else f" {ELLIPSIS} ")
        parts.append(sentence.text)
        previous = sentence.index
    return "".join(parts)


def _window(text: str, *, terms: Sequence[str], limit: int) -> str:
    """``text`` cut to ``limit``, keeping the routing term in view when it lies past the cut."""
    at = _has_term(text, terms) if terms else -1
    if at == -1 or at < limit - 40:
        return shorten(text, limit)
    start = text.rfind(" ", 0, max(at - 30, 0)) + 1
    return ELLIPSIS + shorten(text[start:], limit - len(ELLIPSIS))


def key_sentence(text: str, *, sentiment: str | None = None, reasons: Sequence[str] = ()) -> str:
    """The sentence a story is built on (what happened), tightened."""
    sentences = _sentences(text)
    if not sentences:
        return ""
    return _choose(sentences, terms=topic_terms(reasons), sentiment=sentiment, budget=STORY_MAX)[0].text


def headline(sentence: str, *, terms: Sequence[str] = ()) -> str:
    """The sentence, or its clause that names the problem, sentence case, no closing punctuation, <= 80."""
    rest = _CONNECTIVE.sub("", sentence, count=1)
    if len(WORDS.findall(rest)) >= 2:
        sentence = rest
    whole = sentence.strip().rstrip(".!?…,;: ")
    if len(whole) <= TITLE_MAX:
        return _sentence_case(whole or sentence.strip())
    clauses = _clauses(sentence)
    with_term = [c for c in clauses if terms and _has_term(c, terms) >= 0]
    if with_term:
        clause = with_term[0]
    else:
        clause = max(clauses, key=lambda c: (_problem_weight(c), -clauses.index(c)))
    clause = clause.strip().rstrip(".!?…,;: ")
    return _sentence_case(shorten(clause or whole, TITLE_MAX))


def _clauses(sentence: str) -> list[str]:
    """The sentence's clauses of at least three words (the whole sentence if none is)."""
    clauses: list[str] = []
    start = 0
    for match in _CLAUSE_END.finditer(sentence):
        clauses.append(sentence[start : match.start()])
        start = match.end()
    clauses.append(sentence[start:])
    long_enough = [c.strip() for c in clauses if len(WORDS.findall(c)) >= 3]
    return long_enough or [sentence]


def _problem_weight(clause: str) -> float:
    valence = _valence()
    feeling = sum(abs(valence.get(w.casefold(), 0.0)) for w in WORDS.findall(clause))
    return len(_PROBLEM.findall(clause)) + 0.5 * feeling + 0.1 * min(len(WORDS.findall(clause)), 10)


def _sentence_case(text: str) -> str:
    return SPACE.sub(" ", text[:1].upper() + text[1:])
