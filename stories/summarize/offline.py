"""A summariser that needs no network and invents nothing: the customer's own sentences, chosen and framed.

A story is a frame built from facts we hold (where the comment was made, its language, scores, segment) around a
quotation of one to three of the customer's sentences, in their order:

- what happened: the sentence holding the words routing matched (so "Why here: keyword 'shattered'" points at a
  word the reader can see), else the sentence with the most substance and feeling, earlier sentences first;
- how it affected the customer: a sentence with consequence words ("now I", "had to", "cost me", "stress");
- what they asked for: a sentence with request words ("please", "I want", "refund", a question).

Sentences are tightened (greetings, @handles, filler openings, repeated words out: :mod:`.sentences`); a comment
in another language is quoted in that language and the frame says which. Room left over takes the next sentence,
cut with an ellipsis. The title names the problem: the what-happened sentence (or its clause that names the
problem), or, when routing matched no words, the clause of an unquoted sentence with more words of a problem (so
title and story together say more than either). The weights (a head start for early sentences, words that recur
across the comment) were chosen on the public loan complaints (bench/quality_stories.py), not on a held-back set. Every word that is not framing comes from the comment, so a
story can be wrong about emphasis but never about facts. The cue lists are English; other languages are chosen
by routing words, substance and position alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
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


@dataclass(frozen=True, slots=True)
class _Cues:
    """Cue words (looked up in the sentence's set of words) and cue phrases (substrings of its folded text)."""

    words: frozenset[str]
    phrases: tuple[str, ...]

    def count(self, words: frozenset[str], folded: str) -> int:
        return len(words & self.words) + sum(1 for p in self.phrases if p in folded)


def _cues(*cues: str) -> _Cues:
    single = frozenset(c for c in cues if " " not in c)
    return _Cues(words=single, phrases=tuple(f" {c} " for c in cues if " " in c))


# Words of something gone wrong, beyond VADER's feelings (which know "rude" but not "overcharged").
_PROBLEM = _cues(
    *"charge charged overcharged fee fees interest refund refunds late never wrong error errors broken broke".split(),
    *"cancelled canceled denied declined missing lost damaged delayed billed debt collection collections".split(),
    *"crash crashed crashes failed stuck refused ignored scam fraud fraudulent unauthorized unauthorised".split(),
    *"shattered cracked leak leaked leaking exploded burnt burned not no cannot can't didn't don't won't".split(),
    *"wasn't isn't doesn't haven't hasn't still".split(),
)
_IMPACT = _cues(
    *"now forced lost stress stressed stressful anxiety anxious hurt injured injury worse afford unable".split(),
    *"couldn't can't ruined missed waste wasted hours days weeks months".split(),
    "because of this",
    "because of that",
    "as a result",
    "had to",
    "have to",
    "cost me",
    "credit score",
    "late fee",
    "never again",
    "left me",
)
_ASK = _cues(
    *"please help fix should expect demand requesting".split(),
    "i want",
    "i would like",
    "i'd like",
    "i need",
    "i am asking",
    "i'm asking",
    "i request",
    "can you",
    "could you",
    "would you",
    "refund me",
)
_PLEA = (" please ", " help ", " pls ", " plz ", " kindly ")
_APOSTROPHE = str.maketrans({"’": "'", "‘": "'"})


@cache
def _valence() -> dict[str, float]:
    """VADER's word valences: a dictionary look-up per word, not a full VADER run."""
    return dict(SentimentIntensityAnalyzer().lexicon)


@dataclass(frozen=True, slots=True)
class _Sentence:
    index: int  # position among the comment's sentences
    text: str  # tightened
    words: tuple[str, ...]
    folded: str = ""  # " words joined by single spaces, case-folded " (for cue phrases)
    vocabulary: frozenset[str] = frozenset()  # its words, case-folded

    @classmethod
    def of(cls, index: int, text: str, words: tuple[str, ...]) -> _Sentence:
        lowered = WORDS.findall(text.casefold().translate(_APOSTROPHE)) if words else []
        return cls(index, text, words, f" {' '.join(lowered)} ", frozenset(lowered))

    def cues(self, cues: _Cues) -> int:
        return cues.count(self.vocabulary, self.folded)


class OfflineSummarizer:
    """Deterministic stories from the comment itself; the fallback for every other summariser."""

    name = "offline"

    def summarize(self, items: Sequence[SummaryInput]) -> list[Summary]:
        return [self.summarize_one(item) for item in items]

    def summarize_one(self, item: SummaryInput) -> Summary:
        sentences = _sentences(item.text)
        if not sentences:
            story = _frame(item, verb="left no written comment")
            return Summary(title="No written comment", story=shorten(story + ".", STORY_MAX), summarizer=self.name)
        opening = _frame(item) + ': "'
        budget = max(STORY_MAX - len(opening) - 1, 40)
        terms = topic_terms(item.reasons)
        chosen = _choose(sentences, terms=terms, sentiment=item.sentiment, budget=budget)
        quote = _quote(chosen, terms=terms, budget=budget)
        story = shorten(f'{opening}{quote}"', STORY_MAX)
        title = headline(chosen[0].text, terms=terms)
        if _TITLE_ANYWHERE and not terms:
            title = _problem_title(sentences, chosen, sentiment=item.sentiment) or title
        return Summary(title=title, story=story, summarizer=self.name)


def _frame(item: SummaryInput, *, verb: str = "wrote") -> str:
    return frame(
        source=item.source, nps=item.nps, csat=item.csat, segment=item.segment, language=item.language, verb=verb
    )


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
    """The comment's sentences worth quoting, tightened, each once; emoji alone only if nothing else."""
    found: list[_Sentence] = []
    fallback: list[_Sentence] = []
    seen: set[str] = set()
    for index, raw in enumerate(split(text)):
        tightened = tighten(raw)
        words = tuple(WORDS.findall(tightened))
        if not words:
            fallback.append(_Sentence.of(index, tightened or raw, ()))  # emoji, a greeting: the customer's words
            continue
        key = " ".join(words).casefold()
        if key in seen:
            continue  # a repeated sentence says nothing new
        seen.add(key)
        if carries_nothing(tightened):
            fallback.append(_Sentence.of(index, tightened, words))
            continue
        found.append(_Sentence.of(index, tightened, words))
    return found or fallback[:1]


def _substance(sentence: _Sentence, *, sentiment: str | None) -> float:
    """Feeling in the comment's direction, words of a problem, and distinct content words."""
    valence = _valence()
    feeling = 0.0
    for word in sentence.vocabulary:
        value = valence.get(word, 0.0)
        if (sentiment == "negative" and value > 0) or (sentiment == "positive" and value < 0):
            value *= 0.3  # feelings against the comment's overall direction count for less
        feeling += abs(value)
    problems = sentence.cues(_PROBLEM) if sentiment != "positive" else 0
    content = min(sum(1 for w in sentence.vocabulary if len(w) > 3), 15) / 15
    score = 0.5 * feeling + 0.5 * min(problems, 4) + 2.0 * content
    if len(sentence.words) < 4:
        score *= 0.5  # "Thanks." or "Hi team," rarely carries the point
    return score


# Weights, chosen on the public loan complaints (bench/quality_stories.py):
_CENTRALITY = 1.0  # words that recur across the comment mark what it is about
_LEAD = 3.0  # head start of the first sentence (then 1/2, 1/3...)
_FILL = True  # room left over takes the next sentence, cut
_FILL_MIN = 60  # characters of room worth filling
_TITLE_ANYWHERE = True  # without routed words, the title may come from a sentence the quote leaves out
_DENSITY = 0.0  # 0: fill by substance alone; > 0 prefers shorter sentences (did not help)
_TITLE_MIN = 0.0  # the least problem weight a title clause from elsewhere needs
_TITLE_CONTENT = 0.3  # per content word (up to ten) in a title clause
_TITLE_LONG = False  # whether a clause longer than a title may be cut to one (it did not help)


def _position(index: int) -> float:
    """Customers tend to say what happened first: the opening sentences get a head start."""
    return _LEAD / (1 + index)


def _repeated_words(sentences: Sequence[_Sentence]) -> frozenset[str]:
    """Content words that come back in more than one sentence: what the comment is about."""
    seen: set[str] = set()
    again: set[str] = set()
    for sentence in sentences:
        for word in sentence.vocabulary:
            if len(word) > 3:
                (again if word in seen else seen).add(word)
    return frozenset(again)


def _central(sentence: _Sentence, repeated: frozenset[str]) -> float:
    """0..1: how many of the comment's recurring words the sentence holds."""
    return min(len(sentence.vocabulary & repeated), 8) / 8 if repeated else 0.0


def _choose(sentences: list[_Sentence], *, terms: Sequence[str], sentiment: str | None, budget: int) -> list[_Sentence]:
    """What happened first, then impact and ask if they fit, then the next most substantial; at most three."""
    repeated = _repeated_words(sentences)
    substance = {s.index: _substance(s, sentiment=sentiment) + _CENTRALITY * _central(s, repeated) for s in sentences}
    with_term = [s for s in sentences if terms and _has_term(s.text, terms) >= 0]
    if with_term:
        what = with_term[0]
    else:
        what = max(sentences, key=lambda s: (substance[s.index] + _position(s.index), -s.index))
    chosen = [what]
    rest = [s for s in sentences if s is not what]
    impact = [s for s in rest if s.cues(_IMPACT)]
    asks = [s for s in rest if s.cues(_ASK) or s.text.rstrip().endswith("?")]
    candidates: list[_Sentence] = []
    if impact:
        candidates.append(max(impact, key=lambda s: (s.cues(_IMPACT) + substance[s.index], -s.index)))
    if asks:
        candidates.append(max(asks, key=lambda s: (s.cues(_ASK), s.index)))
    candidates += sorted(
        rest, key=lambda s: (-(substance[s.index] + _position(s.index)) / len(s.text) ** _DENSITY, s.index)
    )
    used = len(what.text)
    for candidate in candidates:
        if len(chosen) == MAX_SENTENCES:
            break
        if candidate in chosen:
            continue
        if used + 5 + len(candidate.text) <= budget:
            chosen.append(candidate)
            used += 5 + len(candidate.text)
    room = budget - used - 5
    if _FILL and len(chosen) < MAX_SENTENCES and room >= _FILL_MIN:  # the next sentence, cut, rather than blank space
        left = [c for c in candidates if c not in chosen]
        if left:
            chosen.append(replace(left[0], text=shorten(left[0].text, room)))
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
    clause = _CONNECTIVE.sub("", clause.strip(), count=1).rstrip(".!?…,;: ")
    return _sentence_case(shorten(clause or whole, TITLE_MAX))


def _problem_title(sentences: list[_Sentence], chosen: list[_Sentence], *, sentiment: str | None) -> str | None:
    """The clause that names the problem best, from a sentence the story does not quote (more said in the space)."""
    if sentiment == "positive":
        return None
    quoted = {s.index for s in chosen}
    best: tuple[float, str] | None = None
    for sentence in sentences:
        if sentence.index in quoted or sentence.folded.startswith(_PLEA):
            continue  # a plea ("Please help", "Please remove the fee") asks; the title names the problem
        for clause in _clauses(sentence.text):
            if len(clause) > TITLE_MAX and not _TITLE_LONG:
                continue
            weight = _problem_weight(clause) + _TITLE_CONTENT * min(
                sum(1 for w in WORDS.findall(clause) if len(w) > 3), 10
            )
            if best is None or weight > best[0]:
                best = (weight, clause)
    if best is None or best[0] < _TITLE_MIN:
        return None
    return _sentence_case(shorten(_CONNECTIVE.sub("", best[1].strip(), count=1).rstrip(".!?…,;: "), TITLE_MAX))


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
    sentence = _Sentence.of(0, clause, tuple(WORDS.findall(clause)))
    feeling = sum(abs(_valence().get(w, 0.0)) for w in sentence.vocabulary)
    return sentence.cues(_PROBLEM) + 0.5 * feeling + 0.1 * min(len(sentence.words), 10)


def _sentence_case(text: str) -> str:
    return SPACE.sub(" ", text[:1].upper() + text[1:])
