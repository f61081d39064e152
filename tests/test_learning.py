"""Issue 14.2, routing that learns: the learner, how it joins the rules, when it retrains, and its gate.

Every labelled set here is synthetic, written for the test: a small utility company whose customers write about
meter readings (Metering), tariffs and bills (Billing) and engineer visits (Field Service)."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from stories.blended_routing import LEARNED_RULE, BlendedRouter, blend, compare, with_rules
from stories.config import CxConfig, Department, Rule
from stories.learning import Example, LearnedModel, NotEnoughExamples, terms_of, train
from stories.models import RouteMatch
from stories.ports import StoredModel
from stories.retraining import NIGHTLY, RETRAIN_AFTER, due, retrain, retrain_if_due, split
from stories.routing import DEFAULT_RULE, Router, Routing

CONFIG = CxConfig(
    default_department="CX Team",
    departments=(
        Department(name="CX Team"),
        Department(name="Metering"),
        Department(name="Billing"),
        Department(name="Field Service"),
    ),
    rules=(
        # a misleading single word, as bundled configurations used to have: "late" is about engineers here
        Rule(id="visits", department="Field Service", keywords=("engineer", "late")),
        Rule(id="bills", department="Billing", phrases=("my bill",)),
    ),
)

OPENINGS = ("Hello,", "Hi there.", "", "Quick question:", "Not happy.", "Please help.")
TOPICS = {
    "Metering": (
        "the smart meter reading is wrong",
        "my meter reading was estimated again",
        "the meter display is blank and shows no reading",
        "you used an estimated meter reading not the real one",
        "the smart meter stopped sending readings",
    ),
    "Billing": (
        "the tariff went up without notice",
        "a late payment fee appeared on my statement",
        "the direct debit amount doubled this month",
        "I was put on the wrong tariff",
        "the statement shows a late fee I never owed",
    ),
    "Field Service": (
        "the engineer did not turn up for the appointment",
        "the engineer came late and left without fixing the boiler",
        "nobody came to the appointment window",
        "the visit was cancelled twice and the boiler is still broken",
        "the engineer appointment was moved without telling me",
    ),
}


def labelled(count: int, *, seed: int = 1) -> list[Example]:
    """``count`` comments cycling through the departments, each an opening and a topic sentence."""
    rng = random.Random(seed)
    departments = itertools.cycle(TOPICS)
    examples = []
    for _ in range(count):
        department = next(departments)
        text = f"{rng.choice(OPENINGS)} {rng.choice(TOPICS[department])}. Account [number]."
        examples.append(Example(text=text.strip(), department=department))
    return examples


def rules_only(text: str) -> Routing:
    return Router(CONFIG).route(text=text, nps=None, csat=None, sentiment=None, source="csv", segment=None, fields={})


# --- the learner -----------------------------------------------------------------------------------------------


def test_learner_routes_unseen_wording_by_the_words_that_weighed_most() -> None:
    model = train(with_rules(Router(CONFIG), labelled(60)))
    prediction = model.predict("Why was my meter reading estimated when I sent a photo of the meter?")
    department, probability = prediction.top
    assert department == "Metering" and probability > 0.5
    assert "meter" in prediction.words[0]
    reason = prediction.reason()
    assert reason.startswith("learned: '") and reason.endswith(f"({probability:.2f})")
    assert "why" not in reason  # stop words never explain anything


def test_learned_model_survives_json_and_predicts_the_same() -> None:
    model = train(with_rules(Router(CONFIG), labelled(45)))
    copy = LearnedModel.from_json(model.to_json())
    for text, rules in (("the engineer never came", ("Field Service",)), ("tariff and a late fee", ())):
        assert copy.predict(text, rules=rules) == model.predict(text, rules=rules)
    stored = json.loads(model.to_json())
    assert stored["format"] == 2 and set(stored["departments"]) == set(TOPICS)
    stored["format"] = 99
    with pytest.raises(ValueError, match="retrain"):
        LearnedModel.from_json(json.dumps(stored))


def test_learner_refuses_too_little_to_learn_from() -> None:
    with pytest.raises(NotEnoughExamples, match="at least 10"):
        train(labelled(9))
    with pytest.raises(NotEnoughExamples, match="at least 2 departments"):
        train([Example(text=f"meter reading {i}", department="Metering") for i in range(20)])


def test_terms_are_words_and_word_pairs_without_stop_words() -> None:
    assert terms_of("The LATE fee, and I didn't owe it!") == ["late", "fee", "owe", "late fee", "fee owe"]


# --- rules and learner together --------------------------------------------------------------------------------


def test_learner_takes_what_no_rule_claimed_and_says_why() -> None:
    model = train(with_rules(Router(CONFIG), labelled(60)))
    text = "The smart meter display is blank."
    alone = rules_only(text)
    assert alone.routes[0].rule == DEFAULT_RULE
    routes = BlendedRouter(Router(CONFIG), model, version=3).route(
        text=text, nps=None, csat=None, sentiment=None, source="csv", segment=None, fields={}
    )
    assert [r.department for r in routes.routes] == ["Metering"]
    assert routes.routes[0].rule == LEARNED_RULE and "'meter" in routes.routes[0].reason


def test_a_sure_learner_outweighs_a_misleading_keyword_and_keeps_the_rules_route_after() -> None:
    model = train(with_rules(Router(CONFIG), labelled(90)))
    text = "A late payment fee appeared on my statement."
    assert rules_only(text).departments == ("Field Service",)  # the rule's word 'late'
    routed = BlendedRouter(Router(CONFIG), model, version=1).route(
        text=text, nps=None, csat=None, sentiment=None, source="csv", segment=None, fields={}
    )
    assert routed.departments == ("Billing", "Field Service")
    assert routed.routes[1].reason == "keyword 'late'"  # the rule's own reason stays


def test_rules_that_are_sure_stay_first() -> None:
    model = train(with_rules(Router(CONFIG), labelled(60)))
    text = "The engineer did not turn up for the appointment."
    routed = BlendedRouter(Router(CONFIG), model).route(
        text=text, nps=None, csat=None, sentiment=None, source="csv", segment=None, fields={}
    )
    assert routed.routes[0] == RouteMatch(department="Field Service", rule="visits", reason="keyword 'engineer'")


def test_blend_reorders_several_rule_departments_by_the_learner() -> None:
    routing = Routing(
        routes=(
            RouteMatch(department="Field Service", rule="visits", reason="keyword 'late'"),
            RouteMatch(department="Billing", rule="bills", reason="phrase 'my bill'"),
        ),
        themes=("visits",),
    )
    model = train(with_rules(Router(CONFIG), labelled(60)))
    prediction = model.predict("a late fee on my bill", rules=("Field Service", "Billing"))
    assert prediction.top[0] == "Billing"
    assert blend(routing, prediction).departments[:2] == ("Billing", "Field Service")
    assert blend(routing, None) is routing


def test_without_a_model_the_blended_router_is_the_rules() -> None:
    router = BlendedRouter(Router(CONFIG))
    for text in ("my bill is wrong", "the engineer was late", "a blank meter"):
        assert router.route(
            text=text, nps=None, csat=None, sentiment=None, source="csv", segment=None, fields={}
        ) == rules_only(text)


def test_compare_scores_rules_alone_beside_rules_and_learner() -> None:
    router = Router(CONFIG)
    model = train(with_rules(router, labelled(90, seed=2)))
    alone, blended = compare(router, model, labelled(60, seed=3))
    assert blended is not None
    assert alone.examples == blended.examples == 60
    assert alone.default_only > 0.3  # metering has no rule
    assert blended.top1 > alone.top1 + 0.2 and blended.default_only < alone.default_only
    assert alone.top1 <= alone.among <= 1.0 and blended.per_story >= 1.0


# --- retraining and the gate -----------------------------------------------------------------------------------

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def stored(*, version: int = 1, examples: int = 40, corrections: int = 5, at: datetime = NOW) -> StoredModel:
    return StoredModel(
        version=version,
        created_at=at,
        examples=examples,
        corrections=corrections,
        held_out=10,
        rules_top1=0.5,
        learned_top1=0.7,
        active=True,
        model="{}",
    )


def test_retraining_is_batched_and_nightly() -> None:
    assert due(None, labelled=5, corrections=4, now=NOW) is None
    assert due(None, labelled=5, corrections=5, now=NOW) == "first model (10 labelled comments)"
    last = stored(examples=40, corrections=5)
    assert due(last, labelled=35, corrections=5 + RETRAIN_AFTER - 1, now=NOW + timedelta(hours=1)) is None
    assert due(last, labelled=35, corrections=5 + RETRAIN_AFTER, now=NOW) == f"{RETRAIN_AFTER} new corrections"
    assert due(last, labelled=35, corrections=6, now=NOW + NIGHTLY) == "nightly"
    assert due(last, labelled=35, corrections=5, now=NOW + NIGHTLY) is None  # nothing new: nothing to learn


def test_held_out_comments_are_a_stable_quarter_of_the_corrections() -> None:
    corrections = labelled(80, seed=5)
    training, held = split(labelled(20), corrections)
    assert 8 <= len(held) <= 35 and all(h in corrections for h in held)
    trained_corrections = {e.text for e in training[20:]}
    assert len(training) + len(held) == 100 and not {e.text for e in held} & trained_corrections
    assert split(labelled(20), corrections) == (training, held)
    few_training, few_held = split(labelled(40), corrections[:8])  # too few corrections: a quarter of all
    assert len(few_training) + len(few_held) == 48 and few_held


class MemoryModels:
    """An in-memory :class:`stories.ports.RoutingModelStore` for the core's own tests (SQL: test_learning_storage)."""

    def __init__(self, labelled_rows: list[tuple[str, str]], corrections: list[tuple[str, str]]) -> None:
        self.labelled, self.corrections, self.versions = labelled_rows, corrections, list[StoredModel]()

    def add_labelled(self, rows: list[tuple[str, str]], *, origin: str, now: datetime) -> int:
        raise NotImplementedError

    def training_set(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        return self.labelled, self.corrections

    def latest(self) -> StoredModel | None:
        return self.versions[-1] if self.versions else None

    def active(self) -> StoredModel | None:
        return next((v for v in reversed(self.versions) if v.active), None)

    def save(self, model: StoredModel) -> bool:
        if any(v.version == model.version for v in self.versions):
            return False
        self.versions.append(model)
        return True


def test_a_learner_that_beats_the_rules_on_held_out_corrections_is_used() -> None:
    rows = [(e.text, e.department) for e in labelled(120, seed=7)]
    models = MemoryModels(rows[:40], rows[40:])
    outcome = retrain_if_due(models, Router(CONFIG), now=NOW)
    assert outcome is not None and outcome.active and outcome.version == 1
    version = models.active()
    assert version is not None and version.learned_top1 > version.rules_top1
    assert version.examples == 120 and version.corrections == 80 and version.held_out >= 8
    assert retrain_if_due(models, Router(CONFIG), now=NOW + timedelta(minutes=5)) is None  # nothing new


def test_a_learner_worse_than_the_rules_is_stored_but_not_used() -> None:
    # Every department has a rule that is always right.
    config = CxConfig(
        default_department="CX Team",
        departments=CONFIG.departments,
        rules=(
            Rule(id="m", department="Metering", keywords=("meter",)),
            Rule(id="b", department="Billing", keywords=("tariff", "fee", "debit", "statement")),
            Rule(id="f", department="Field Service", keywords=("engineer", "appointment", "visit")),
        ),
    )
    # The labelled file a colleague loaded is wrong throughout (each department shifted by one); the readers'
    # corrections, from which the held-out comments are drawn, are right.
    shifted = dict(zip(TOPICS, [*list(TOPICS)[1:], next(iter(TOPICS))], strict=True))
    wrong = [(e.text, shifted[e.department]) for e in labelled(150, seed=8)]
    right = [(e.text, e.department) for e in labelled(60, seed=9)]
    models = MemoryModels(wrong, right)
    outcome = retrain(models, Router(config), now=NOW, why="test")
    assert outcome is not None and not outcome.active
    assert models.active() is None  # routing stays with the rules
    latest = models.latest()
    assert latest is not None and latest.learned_top1 < latest.rules_top1
