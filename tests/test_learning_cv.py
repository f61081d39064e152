"""Issue 14.2, the learner's format 2: letter pieces, settings chosen by cross-validation on the training labels
only, the override ratio the blend uses, and format 1 models that still load.

Synthetic text only (tests/test_learning.py's utility company); tests/data/routing_model_format1.json is a
model the format 1 learner trained on ``labelled(30)``, with what it predicted then."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from stories.blended_routing import blend, rule_departments, with_rules
from stories.config import CxConfig, Rule
from stories.learning import (
    RATIOS,
    STRENGTHS,
    Example,
    LearnedModel,
    Prediction,
    choose,
    first_department,
    grams_of,
    train,
)
from stories.models import RouteMatch
from stories.routing import DEFAULT_RULE, Router, Routing
from tests.test_learning import CONFIG, TOPICS, labelled, rules_only

FORMAT_1 = Path(__file__).parent / "data" / "routing_model_format1.json"


def test_a_format_1_model_still_loads_and_predicts_as_it_did() -> None:
    model = LearnedModel.from_json(FORMAT_1.read_text())
    assert model.format == 1 and model.override_ratio == 2.0
    # what the format 1 code predicted with this model, recorded when it was trained
    for text, rules, top, probability, words in (
        ("the smart meter reading is wrong", (), "Metering", 0.9420, ("meter", "reading", "smart")),
        ("a late fee on my statement", ("Field Service",), "Billing", 0.8073, ("statement", "fee", "late")),
        ("the engineer never came", ("Field Service",), "Field Service", 0.8110, ("came", "engineer")),
    ):
        prediction = model.predict(text, rules=rules)
        assert prediction.top[0] == top and abs(prediction.top[1] - probability) < 1e-4
        assert prediction.words == words and prediction.override_ratio == 2.0
    assert json.loads(model.to_json())["format"] == 1  # stored again as it was, not as a half format 2


def test_format_2_keeps_letter_pieces_and_the_chosen_settings() -> None:
    model = train(with_rules(Router(CONFIG), labelled(60)))
    stored = json.loads(model.to_json())
    assert stored["format"] == 2 and stored["grams"] and stored["C"] in STRENGTHS
    assert stored["override_ratio"] in RATIOS
    copy = LearnedModel.from_json(model.to_json())
    assert (copy.override_ratio, copy.strength) == (model.override_ratio, model.strength)
    # a misspelt word no word feature knows still routes, by its letter pieces
    assert copy.predict("the smrt metr readng").top[0] == "Metering"
    assert copy.predict("the smrt metr readng") == model.predict("the smrt metr readng")


def test_letter_pieces_are_those_of_scikit_learns_char_wb() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    text = "A late fee, on my bill!"
    ours = sorted(grams_of(text))
    theirs = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True).build_analyzer()(text.lower())
    assert ours == sorted(theirs)


class Memorising:
    """A stand-in classifier that knows the rows it was fitted on (column 0 holds each row's index) and is
    certain of their labels, and knows nothing (uniform) of any other row: cross-validation that predicted a row
    it had trained on would score it perfectly."""

    seen: list[tuple[frozenset[int], int]] = []  # noqa: RUF012 (test bookkeeping)

    def __init__(self, matrix: Any, labels: list[str]) -> None:
        self.labels = {int(row[0]): label for row, label in zip(matrix, labels, strict=True)}
        self.classes_ = np.array(sorted(set(labels)))
        Memorising.seen.append((frozenset(self.labels), len(labels)))

    def predict_proba(self, matrix: Any) -> Any:
        out = np.full((len(matrix), len(self.classes_)), 1 / len(self.classes_))
        for k, row in enumerate(matrix):
            label = self.labels.get(int(row[0]))
            if label is not None:
                out[k] = [1.0 if c == label else 0.0 for c in self.classes_]
        return out


def test_cross_validation_predicts_each_training_example_by_a_model_that_never_saw_it() -> None:
    examples = labelled(60)  # no rules: the learner's department is the blend's
    matrix = np.arange(len(examples), dtype=float).reshape(-1, 1)
    Memorising.seen = []
    choice = choose(matrix, examples, fit=lambda m, y, _c: Memorising(m, list(y)))
    assert len(Memorising.seen) == 3 * len(STRENGTHS)  # 3 folds per C, nothing fitted on all 60
    for rows, count in Memorising.seen:
        assert count == 40 and len(rows) == 40
    folds = {rows for rows, _ in Memorising.seen}
    assert len(folds) == 3 and frozenset(range(60)) == frozenset().union(*(frozenset(range(60)) - f for f in folds))
    # uniform probabilities for every held-out row: top-1 is the first department's share, never 1.0
    assert choice.top1 is not None and choice.top1 < 0.5


def test_cross_validation_keeps_the_rules_first_where_they_are_always_right() -> None:
    # the rules are right on every labelled comment they match: the most cautious ratio scores as well as any
    config = CxConfig(
        default_department="CX Team",
        departments=CONFIG.departments,
        rules=(Rule(id="b", department="Billing", keywords=("tariff", "fee", "debit", "statement")),),
    )
    model = train(with_rules(Router(config), labelled(90)))
    assert model.override_ratio == RATIOS[0]
    # ... and the misleading keyword of tests/test_learning.py ('late' for engineers) lets the learner override
    misled = train(with_rules(Router(CONFIG), labelled(90)))
    assert misled.override_ratio < RATIOS[0]


def test_the_learner_never_moves_a_story_the_rules_are_sure_of() -> None:
    """Every Billing comment in the training set says "my bill" (the rule), whatever else it says: the learner
    learns to trust the rule, and a new "my bill" comment full of other departments' words stays with Billing."""
    rng = random.Random(4)
    examples = labelled(60)
    examples += [
        Example(text=f"About my bill: {rng.choice(TOPICS[d])}.", department="Billing")
        for d in itertools.islice(itertools.cycle(TOPICS), 30)
    ]
    router = Router(CONFIG)
    model = train(with_rules(router, examples))
    for text in (
        "my bill says the engineer never came to the appointment",
        "my bill has an estimated meter reading on it",
        "the smart meter on my bill stopped sending readings",
    ):
        routing = rules_only(text)
        assert "Billing" in rule_departments(routing)
        assert blend(routing, model.predict(text, rules=rule_departments(routing))).routes[0].department == "Billing"


def test_the_blend_uses_the_models_override_ratio() -> None:
    routing = Routing(
        routes=(RouteMatch(department="Field Service", rule="visits", reason="keyword 'late'"),), themes=()
    )
    ranked = (("Billing", 0.6), ("Field Service", 0.3), ("Metering", 0.1))
    cautious = Prediction(ranked=ranked, words=("fee",), override_ratio=4.0)
    bold = Prediction(ranked=ranked, words=("fee",), override_ratio=1.5)
    assert blend(routing, cautious).departments == ("Field Service",)
    assert blend(routing, bold).departments == ("Billing", "Field Service")


def test_cross_validation_scores_the_department_the_blend_puts_first() -> None:
    """first_department (what cross-validation scores) and blend (what routing does) agree on every case."""
    rng = random.Random(11)
    departments = ("Metering", "Billing", "Field Service", "CX Team")
    default = RouteMatch(department="CX Team", rule=DEFAULT_RULE, reason="default department")
    for _ in range(400):
        weights = [rng.random() ** 3 for _ in departments]
        probabilities = {d: w / sum(weights) for d, w in zip(departments, weights, strict=True)}
        rules = tuple(rng.sample(departments[:3], rng.randint(0, 2)))
        ratio = rng.choice(RATIOS)
        routes = tuple(RouteMatch(department=d, rule="r", reason="keyword") for d in rules) or (default,)
        ranked = tuple(sorted(probabilities.items(), key=lambda p: p[1], reverse=True))
        blended = blend(Routing(routes=routes, themes=()), Prediction(ranked=ranked, words=(), override_ratio=ratio))
        assert blended.routes[0].department == first_department(probabilities, rules, ratio=ratio)


def test_the_sweep_trains_off_the_event_loop() -> None:
    """`cxbot serve`'s routing job: a retrain that takes seconds must leave the loop answering Slack and Teams."""
    import asyncio
    import threading
    import time

    from bot.scheduler import learn_routing

    class SlowApp:
        thread: threading.Thread | None = None

        def refresh_routing(self) -> None:
            SlowApp.thread = threading.current_thread()
            time.sleep(0.3)  # a retrain, holding its thread

    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        await learn_routing(SlowApp())  # type: ignore[arg-type]
        task.cancel()
        return ticks

    ticks = asyncio.run(main())
    assert SlowApp.thread is not None and SlowApp.thread is not threading.main_thread()
    assert ticks >= 10  # the loop kept running while the retrain slept
