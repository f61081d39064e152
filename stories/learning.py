"""A routing classifier learnt from labelled comments (corrections and `cxbot routing learn` files).

It reads the words and what the rules said: besides TF-IDF of words and word pairs, each department the rules
matched is a feature of value 1 (``RULE_WEIGHT``), so the learner learns how far each rule can be trusted
(a rule that is usually right keeps its department first; one that fires on a misleading word is outweighed
by the words that say otherwise). With no labelled comments there is no learner and the rules decide alone.

Training uses scikit-learn (TF-IDF, then a multinomial logistic regression). The
fitted model is kept as plain numbers (terms, their IDF, one weight per term and department), so it is
stored in the database as JSON rather than pickled: loading it runs no code, and a stored model reads the
same whatever scikit-learn version is installed. Predicting re-computes TF-IDF by hand from those numbers
with the same tokenizer the training used (:func:`terms_of`), a few microseconds per comment, instead of
calling scikit-learn per comment (its per-call overhead is larger than the whole pipeline's per-comment
budget, bench/pipeline.py).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stories.routing import fold

FORMAT = 1  # the JSON layout's version: a model in another layout is refused, not misread
MIN_EXAMPLES = 10  # fewer labelled comments teach nothing a rule could not say better
MIN_DEPARTMENTS = 2
RULE_WEIGHT = 1.0  # a rule's feature value: as large as a whole TF-IDF vector (unit length)

_TOKEN = re.compile(r"[^\W\d_]{2,}|\d+")  # words of letters (2+) or digit runs; "[number]" placeholders stay words
# Words that carry no topic: kept out so the "why" names words a person recognises as the reason.
_STOP = frozenset(
    """a about above after again all also am an and any are as at be been before being below between both but by
    can could did do does doing down during each few for from further had has have having he her here hers him his
    how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our
    ours out over own same she should so some such than that the their theirs them then there these they this those
    through to too under until up very was we were what when where which while who whom why will with would you your
    yours im ive id dont didnt doesnt cant wont isnt wasnt arent hi hello please thanks thank""".split()
)


def terms_of(text: str) -> list[str]:
    """The terms a text is known by: its words (folded, stop words out) and each pair of neighbouring words."""
    words = [w for w in _TOKEN.findall(fold(text).replace("'", "")) if w not in _STOP]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


@dataclass(frozen=True, slots=True)
class Example:
    """A comment's (redacted) text, the department it belongs to, and the departments the rules chose for it."""

    text: str
    department: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Prediction:
    """The learner's view of one comment: departments by probability, and the words that weighed most."""

    ranked: tuple[tuple[str, float], ...]  # (department, probability), most likely first
    words: tuple[str, ...]  # the terms that pushed most toward the top department

    @property
    def top(self) -> tuple[str, float]:
        return self.ranked[0]

    def probability(self, department: str) -> float:
        return next((p for d, p in self.ranked if d == department), 0.0)

    def reason(self, department: str | None = None) -> str:
        """ "learned: 'mortgage', 'late fee' (0.82)": what a person reads in "Why here"."""
        department = department or self.top[0]
        words = ", ".join(f"'{w}'" for w in self.words) or "no single word"
        return f"learned: {words} ({self.probability(department):.2f})"


class LearnedModel:
    """TF-IDF + multinomial logistic regression as numbers: terms, IDF, weights per department, intercepts."""

    def __init__(
        self,
        *,
        departments: Sequence[str],
        terms: Sequence[str],
        idf: Sequence[float],
        weights: Sequence[Sequence[float]],  # per term: one weight per department
        intercepts: Sequence[float],
        examples: int,
        rule_weights: Mapping[str, Sequence[float]] | None = None,  # per department the rules chose
    ) -> None:
        if len(terms) != len(idf) or len(terms) != len(weights):
            raise ValueError("terms, idf and weights must be as long as each other")
        if any(len(w) != len(departments) for w in weights) or len(intercepts) != len(departments):
            raise ValueError("every term needs one weight per department")
        self.departments = tuple(departments)
        self.examples = examples
        self._intercepts = tuple(intercepts)
        self._terms = {t: (float(i), tuple(float(x) for x in w)) for t, i, w in zip(terms, idf, weights, strict=True)}
        self._rules = {d: tuple(float(x) for x in w) for d, w in (rule_weights or {}).items()}
        if any(len(w) != len(departments) for w in self._rules.values()):
            raise ValueError("every rule feature needs one weight per department")

    def predict(self, text: str, *, rules: Iterable[str] = (), words: int = 3) -> Prediction:
        """Departments by probability for one (redacted) comment, given the departments the rules chose, with
        the ``words`` terms that weighed most."""
        counts = Counter(t for t in terms_of(text) if t in self._terms)
        # sublinear TF x IDF, then L2-normalised: what TfidfVectorizer(sublinear_tf=True) computes
        values = {t: (1.0 + math.log(n)) * self._terms[t][0] for t, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
        scores = list(self._intercepts)
        for department in set(rules):
            for k, weight in enumerate(self._rules.get(department, ())):
                scores[k] += RULE_WEIGHT * weight
        for term, value in values.items():
            for k, weight in enumerate(self._terms[term][1]):
                scores[k] += value / norm * weight
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        ranked = sorted(
            ((d, e / total) for d, e in zip(self.departments, exps, strict=True)), key=lambda p: p[1], reverse=True
        )
        best = self.departments.index(ranked[0][0])
        pushes = sorted(
            ((value / norm * self._terms[t][1][best], t) for t, value in values.items()),
            reverse=True,
        )
        chosen: list[str] = []
        for push, term in pushes:
            if push <= 0 or len(chosen) == words:
                break
            if any(term in c.split(" ") or c in term.split(" ") for c in chosen):
                continue  # 'late fee' and then 'late' says the same twice
            chosen.append(term)
        return Prediction(ranked=tuple(ranked), words=tuple(chosen))

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "departments": list(self.departments),
                "examples": self.examples,
                "intercepts": list(self._intercepts),
                "rules": {d: list(w) for d, w in self._rules.items()},
                "terms": {t: [i, list(w)] for t, (i, w) in self._terms.items()},
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> LearnedModel:
        data: dict[str, Any] = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"model format {data.get('format')!r} is not {FORMAT}; retrain with cxbot routing learn")
        terms = data["terms"]
        return cls(
            departments=data["departments"],
            terms=list(terms),
            idf=[v[0] for v in terms.values()],
            weights=[v[1] for v in terms.values()],
            intercepts=data["intercepts"],
            examples=int(data["examples"]),
            rule_weights=data.get("rules", {}),
        )


class NotEnoughExamples(ValueError):
    """Too few labelled comments, or all of one department: there is nothing to learn yet."""


def train(examples: Sequence[Example], *, strength: float = 10.0) -> LearnedModel:
    """Fit TF-IDF + logistic regression (scikit-learn) and keep its numbers.

    ``strength`` is scikit-learn's ``C`` (inverse regularisation), chosen once, a priori: small data wants
    little regularisation for TF-IDF vectors of unit length (C = 1 leaves every probability near uniform).
    """
    from scipy.sparse import csr_matrix, hstack  # imported here: only training needs them
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    departments = sorted({e.department for e in examples})
    if len(examples) < MIN_EXAMPLES or len(departments) < MIN_DEPARTMENTS:
        raise NotEnoughExamples(
            f"{len(examples)} labelled comments in {len(departments)} departments; the learner needs at least "
            f"{MIN_EXAMPLES} comments in at least {MIN_DEPARTMENTS} departments"
        )
    vectorizer = TfidfVectorizer(analyzer=terms_of, sublinear_tf=True)
    words = vectorizer.fit_transform([e.text for e in examples])
    ruled = sorted({d for e in examples for d in e.rules})
    column = {d: i for i, d in enumerate(ruled)}
    indicators = csr_matrix(
        (
            [RULE_WEIGHT for e in examples for d in set(e.rules)],
            (
                [i for i, e in enumerate(examples) for _ in set(e.rules)],
                [column[d] for e in examples for d in set(e.rules)],
            ),
        ),
        shape=(len(examples), len(ruled)),
    )
    matrix = hstack([words, indicators]).tocsr()
    classifier = LogisticRegression(C=strength, max_iter=2000)
    classifier.fit(matrix, [e.department for e in examples])
    classes = [str(c) for c in classifier.classes_]
    coef = classifier.coef_
    intercepts = classifier.intercept_
    if len(classes) == 2:  # binary: scikit-learn keeps one row (for the second class); spread it as a softmax
        coef = [-coef[0] / 2, coef[0] / 2]
        intercepts = [-intercepts[0] / 2, intercepts[0] / 2]
    vocabulary = vectorizer.vocabulary_
    terms = sorted(vocabulary, key=vocabulary.__getitem__)
    idf = vectorizer.idf_
    weights = [[float(coef[k][vocabulary[t]]) for k in range(len(classes))] for t in terms]
    offset = len(vocabulary)
    rule_weights = {d: [float(coef[k][offset + column[d]]) for k in range(len(classes))] for d in ruled}
    return LearnedModel(
        departments=classes,
        terms=terms,
        idf=[float(idf[vocabulary[t]]) for t in terms],
        weights=weights,
        intercepts=[float(x) for x in intercepts],
        examples=len(examples),
        rule_weights=rule_weights,
    )


__all__ = ["Example", "LearnedModel", "NotEnoughExamples", "Prediction", "terms_of", "train"]
