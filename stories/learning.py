"""A routing classifier learnt from labelled comments (corrections and `cxbot routing learn` files).

It reads the words, their letters and what the rules said: TF-IDF of words and word pairs (:func:`terms_of`),
TF-IDF of 2-5-letter pieces of each word (:func:`grams_of`: "refund", "refunded" and a typo "refnd" share most
of theirs, which word features alone cannot see in a few hundred examples), and, for each department the rules
matched, a feature of value 1 (``RULE_WEIGHT``), so the learner learns how far each rule can be trusted.
With no labelled comments there is no learner and the rules decide alone.

Training uses scikit-learn (two TF-IDF blocks, then a multinomial logistic regression). Two settings are chosen
by 3-fold cross-validation on the training labels only (never on any evaluation set): the regularisation ``C``
(``STRENGTHS``) and how much more likely than the rules' departments the learner's department must be to go
first (``RATIOS``, used by stories.blended_routing). Small sets want other settings than large ones, and a
setting fixed a priori was 0.03 short of a plain learner with twice the labels (bench/quality_routing.py).

The fitted model is kept as plain numbers (terms, their IDF, one weight per term and department), so it is
stored in the database as JSON rather than pickled: loading it runs no code, and a stored model reads the
same whatever scikit-learn version is installed. Predicting re-computes TF-IDF from those numbers with the
same analyzers training used, in numpy, instead of calling scikit-learn per comment (its per-call overhead is
larger than the whole pipeline's per-comment budget, bench/pipeline.py). Format 1 models (words only, a
fixed ratio of 2) still load and predict as they did.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stories.routing import fold

FORMAT = 2  # the JSON layout's version: a model in an unknown layout is refused, not misread
READABLE = (1, 2)  # format 1: words only, override ratio fixed at FORMAT_1_RATIO
MIN_EXAMPLES = 10  # fewer labelled comments teach nothing a rule could not say better
MIN_DEPARTMENTS = 2
RULE_WEIGHT = 1.0  # a rule's feature value: as large as a whole TF-IDF block (unit length)
FORMAT_1_RATIO = 2.0  # the override ratio format 1 models were used with
DEFAULT_STRENGTH = 10.0  # C when there are too few examples to cross-validate (MIN_CV)
MIN_CV = 30
FOLDS = 3
STRENGTHS = (1.0, 4.0, 16.0)  # C candidates; few, so cross-validation stays cheap (3 x 3 fits)
RATIOS = (8.0, 4.0, 2.0, 1.5, 1.0)  # override ratios, most cautious first: a tie keeps the rules first more often
GRAM_SIZES = (2, 5)
MIN_DF = 2  # a term or letter piece seen in one comment only says little about the next, and fills the model
WORD_MAX_FEATURES = 10_000  # the most frequent terms and letter pieces kept: bounds the model's size (JSON),
GRAM_MAX_FEATURES = 10_000  # training and predicting time on long complaints
DIGITS = 4  # significant digits kept per weight: the JSON stays small, the model predicts as stored
SOLVER_ITERATIONS = 200
SOLVER_TOLERANCE = 1e-3

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


def grams_of(text: str) -> list[str]:
    """2-5-letter pieces of each folded word, padded with a space at each end (scikit-learn's ``char_wb``)."""
    low, high = GRAM_SIZES
    grams: list[str] = []
    for word in fold(text).split():
        padded = f" {word} "
        size = len(padded)
        grams += [padded[i : i + n] for n in range(low, min(high, size) + 1) for i in range(size - n + 1)]
    return grams


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
    override_ratio: float = FORMAT_1_RATIO  # how much likelier than the rules' departments to go first

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


def first_department(probabilities: Mapping[str, float], rules: Sequence[str], *, ratio: float) -> str:
    """The department stories.blended_routing.blend puts first: the learner's when no rule matched or when it
    is ``ratio`` times as likely as every department the rules chose; else the likeliest rule department."""
    top = max(probabilities, key=probabilities.__getitem__)
    if not rules:
        return top
    ruled = max(rules, key=lambda d: probabilities.get(d, 0.0))  # first of the rules' order on a tie
    if top not in rules and probabilities[top] >= ratio * max(probabilities.get(d, 0.0) for d in rules):
        return top
    return ruled


class _Block:
    """One TF-IDF block as numbers: each term's row, its IDF and one weight per department."""

    def __init__(self, terms: Mapping[str, tuple[float, Sequence[float]]], departments: int) -> None:
        self.terms = {t: (float(i), tuple(float(x) for x in w)) for t, (i, w) in terms.items()}
        if any(len(w) != departments for _, w in self.terms.values()):
            raise ValueError("every term needs one weight per department")
        self.row = {t: k for k, t in enumerate(self.terms)}
        self.idf = np.array([i for i, _ in self.terms.values()], dtype=float)
        self.weights = np.array([w for _, w in self.terms.values()], dtype=float).reshape(len(self.terms), departments)

    def values(self, analyzed: Iterable[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(terms, their rows, their sublinear TF x IDF, L2-normalised): what TfidfVectorizer computes."""
        counts = Counter(analyzed)  # counted in C, then the known ones: faster than testing each occurrence
        terms = [t for t in counts if t in self.row]
        rows = np.fromiter((self.row[t] for t in terms), dtype=np.intp, count=len(terms))
        tf = np.fromiter((counts[t] for t in terms), dtype=float, count=len(terms))
        values = (1.0 + np.log(tf)) * self.idf[rows]
        norm = float(np.sqrt(values @ values)) or 1.0
        return terms, rows, values / norm

    def as_json(self) -> dict[str, list[Any]]:
        return {t: [i, list(w)] for t, (i, w) in self.terms.items()}


class LearnedModel:
    """TF-IDF (words, letter pieces) + multinomial logistic regression as numbers, and the chosen settings."""

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
        grams: Mapping[str, tuple[float, Sequence[float]]] | None = None,  # letter piece: (IDF, weights)
        override_ratio: float = FORMAT_1_RATIO,
        strength: float | None = None,
    ) -> None:
        if len(terms) != len(idf) or len(terms) != len(weights):
            raise ValueError("terms, idf and weights must be as long as each other")
        if len(intercepts) != len(departments):
            raise ValueError("every term needs one weight per department")
        self.departments = tuple(departments)
        self.examples = examples
        self.override_ratio = float(override_ratio)
        self.strength = strength
        self.format = FORMAT if grams is not None else 1
        self._intercepts = np.array([float(x) for x in intercepts], dtype=float)
        self._words = _Block(dict(zip(terms, zip(idf, weights, strict=True), strict=True)), len(departments))
        self._grams = _Block(grams or {}, len(departments))
        self._rules = {d: np.array([float(x) for x in w], dtype=float) for d, w in (rule_weights or {}).items()}
        if any(len(w) != len(departments) for w in self._rules.values()):
            raise ValueError("every rule feature needs one weight per department")

    def predict(self, text: str, *, rules: Iterable[str] = (), words: int = 3) -> Prediction:
        """Departments by probability for one (redacted) comment, given the departments the rules chose, with
        the ``words`` terms that weighed most."""
        scores = self._intercepts.copy()
        for department in set(rules):
            if department in self._rules:
                scores += RULE_WEIGHT * self._rules[department]
        terms, rows, values = self._words.values(terms_of(text))
        scores += values @ self._words.weights[rows]
        if self._grams.terms:
            _, gram_rows, gram_values = self._grams.values(grams_of(text))
            scores += gram_values @ self._grams.weights[gram_rows]
        exps = np.exp(scores - scores.max())
        probabilities = exps / exps.sum()
        ranked = sorted(
            ((d, float(p)) for d, p in zip(self.departments, probabilities, strict=True)),
            key=lambda p: p[1],
            reverse=True,
        )
        best = self.departments.index(ranked[0][0])
        pushes = sorted(zip((values * self._words.weights[rows, best]).tolist(), terms, strict=True), reverse=True)
        chosen: list[str] = []
        for push, term in pushes:
            if push <= 0 or len(chosen) == words:
                break
            if any(term in c.split(" ") or c in term.split(" ") for c in chosen):
                continue  # 'late fee' and then 'late' says the same twice
            chosen.append(term)
        return Prediction(ranked=tuple(ranked), words=tuple(chosen), override_ratio=self.override_ratio)

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "format": self.format,
            "departments": list(self.departments),
            "examples": self.examples,
            "intercepts": self._intercepts.tolist(),
            "rules": {d: w.tolist() for d, w in self._rules.items()},
            "terms": self._words.as_json(),
        }
        if self.format >= 2:
            data |= {"grams": self._grams.as_json(), "override_ratio": self.override_ratio, "C": self.strength}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> LearnedModel:
        data: dict[str, Any] = json.loads(text)
        if data.get("format") not in READABLE:
            raise ValueError(
                f"model format {data.get('format')!r} is not one of {READABLE}; retrain with cxbot routing learn"
            )
        terms = data["terms"]
        grams = data.get("grams") if data["format"] >= 2 else None
        return cls(
            departments=data["departments"],
            terms=list(terms),
            idf=[v[0] for v in terms.values()],
            weights=[v[1] for v in terms.values()],
            intercepts=data["intercepts"],
            examples=int(data["examples"]),
            rule_weights=data.get("rules", {}),
            grams=None if grams is None else {g: (v[0], v[1]) for g, v in grams.items()},
            override_ratio=float(data.get("override_ratio", FORMAT_1_RATIO)),
            strength=data.get("C"),
        )


class NotEnoughExamples(ValueError):
    """Too few labelled comments, or all of one department: there is nothing to learn yet."""


def _rounded(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


@dataclass(frozen=True, slots=True)
class Choice:
    """The settings cross-validation chose, and the blended top-1 they had on the held-out folds."""

    strength: float
    override_ratio: float
    top1: float | None  # None: too few examples to cross-validate, the defaults were used


def choose(matrix: Any, examples: Sequence[Example], *, fit: Callable[[Any, Sequence[str], float], Any]) -> Choice:
    """``C`` and the override ratio by ``FOLDS``-fold cross-validation on the training labels: for each ``C``, every
    example is predicted by a model that did not see it; each ratio then scores how often the blend (rules first
    unless the learner is ``ratio`` times as sure of another department) puts the right department first."""
    from sklearn.model_selection import KFold, StratifiedKFold

    labels = [e.department for e in examples]
    if len(examples) < MIN_CV:
        return Choice(strength=DEFAULT_STRENGTH, override_ratio=FORMAT_1_RATIO, top1=None)
    stratified = min(Counter(labels).values()) >= FOLDS
    splitter = (StratifiedKFold if stratified else KFold)(n_splits=FOLDS, shuffle=True, random_state=0)
    folds = list(splitter.split(np.zeros(len(labels)), labels))
    best: Choice | None = None
    for strength in STRENGTHS:
        out_of_fold: list[dict[str, float]] = [{} for _ in examples]
        for fitted_on, held in folds:
            train_labels = [labels[i] for i in fitted_on]
            if len(set(train_labels)) < MIN_DEPARTMENTS:
                continue  # this fold says nothing; its examples count as the rules' (empty probabilities)
            classifier = fit(matrix[fitted_on], train_labels, strength)
            classes = [str(c) for c in classifier.classes_]
            for i, row in zip(held, classifier.predict_proba(matrix[held]), strict=True):
                out_of_fold[i] = dict(zip(classes, row.tolist(), strict=True))
        for ratio in RATIOS:
            right = sum(
                (first_department(p, e.rules, ratio=ratio) if p else next(iter(e.rules), None)) == e.department
                for p, e in zip(out_of_fold, examples, strict=True)
            )
            top1 = right / len(examples)
            if best is None or best.top1 is None or top1 > best.top1:
                best = Choice(strength=strength, override_ratio=ratio, top1=top1)
    assert best is not None
    return best


def _fit(matrix: Any, labels: Sequence[str], strength: float) -> Any:
    """SAGA with a loose tolerance and a fixed seed: the ten fits on 400 BANKING77 labels took 0.8 s where lbfgs
    took 8.8 s (loaded 2-core machine), routing as well; the same labels always give the same model."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter bounds the time; tol is loose on purpose
        return LogisticRegression(
            C=strength, solver="saga", max_iter=SOLVER_ITERATIONS, tol=SOLVER_TOLERANCE, random_state=0
        ).fit(matrix, list(labels))


def train(
    examples: Sequence[Example], *, strength: float | None = None, override_ratio: float | None = None
) -> LearnedModel:
    """Fit the two TF-IDF blocks + logistic regression (scikit-learn) and keep their numbers.

    ``strength`` (scikit-learn's ``C``) and ``override_ratio`` are chosen by :func:`choose` unless given.
    """
    from scipy.sparse import csr_matrix, hstack  # imported here: only training needs them
    from sklearn.feature_extraction.text import TfidfVectorizer

    departments = sorted({e.department for e in examples})
    if len(examples) < MIN_EXAMPLES or len(departments) < MIN_DEPARTMENTS:
        raise NotEnoughExamples(
            f"{len(examples)} labelled comments in {len(departments)} departments; the learner needs at least "
            f"{MIN_EXAMPLES} comments in at least {MIN_DEPARTMENTS} departments"
        )
    texts = [e.text for e in examples]
    blocks = []
    for analyzer, most in ((terms_of, WORD_MAX_FEATURES), (grams_of, GRAM_MAX_FEATURES)):
        vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=MIN_DF, max_features=most)
        try:
            blocks.append((vectorizer, vectorizer.fit_transform(texts)))
        except ValueError:  # nothing in two comments: an empty block
            blocks.append((None, csr_matrix((len(examples), 0))))
    (word_vectorizer, words), (gram_vectorizer, grams) = blocks
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
    matrix = hstack([words, grams, indicators]).tocsr()
    chosen = choose(matrix, examples, fit=_fit) if strength is None or override_ratio is None else None
    strength = strength if strength is not None else chosen.strength if chosen else DEFAULT_STRENGTH
    ratio = override_ratio if override_ratio is not None else chosen.override_ratio if chosen else FORMAT_1_RATIO
    classifier = _fit(matrix, [e.department for e in examples], strength)
    classes = [str(c) for c in classifier.classes_]
    coef = classifier.coef_
    intercepts = classifier.intercept_
    if len(classes) == 2:  # binary: scikit-learn keeps one row (for the second class); spread it as a softmax
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercepts = np.array([-intercepts[0] / 2, intercepts[0] / 2])
    coef = np.asarray(coef)

    def block(vectorizer: Any, offset: int) -> dict[str, tuple[float, list[float]]]:
        if vectorizer is None:
            return {}
        vocabulary = vectorizer.vocabulary_
        return {
            t: (_rounded(vectorizer.idf_[k]), [_rounded(x) for x in coef[:, offset + k]])
            for t, k in sorted(vocabulary.items(), key=lambda item: item[1])
        }

    word_block = block(word_vectorizer, 0)
    gram_block = block(gram_vectorizer, words.shape[1])
    offset = words.shape[1] + grams.shape[1]
    return LearnedModel(
        departments=classes,
        terms=list(word_block),
        idf=[i for i, _ in word_block.values()],
        weights=[w for _, w in word_block.values()],
        intercepts=[_rounded(x) for x in intercepts],
        examples=len(examples),
        rule_weights={d: [_rounded(x) for x in coef[:, offset + column[d]]] for d in ruled},
        grams=gram_block,
        override_ratio=ratio,
        strength=strength,
    )


__all__ = [
    "Choice",
    "Example",
    "LearnedModel",
    "NotEnoughExamples",
    "Prediction",
    "choose",
    "first_department",
    "grams_of",
    "terms_of",
    "train",
]
