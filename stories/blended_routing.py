"""Rules and the learner together: rules stay the explainable first word, the learner adds and reorders.

The learner has seen, in its labelled comments, which departments the rules chose and where those comments
really belonged, so its probabilities already weigh how far each rule can be trusted (stories.learning). How
they combine (``ALONE_FROM`` is a plain ratio chosen a priori; the override ratio comes with the model):

- No rule matched: the learner's department takes the story. When the learner is less than ``ALONE_FROM``
  sure, the default department keeps it too, second, so an unsure guess never hides a story from the CX team.
- Rules matched several departments: they are put in the learner's order (each keeps its rule's reason).
- Rules matched, and the learner finds another department at least its override ratio times as likely as every
  department the rules chose (a rule that fired on a misleading word: ``late`` in "late fee"): that department
  goes first and the rules' departments follow. The ratio comes with the model, chosen by cross-validation on
  its training labels (stories.learning; ``OVERRIDE_RATIO`` for format 1 models). Otherwise the rules' departments stay first and the learner
  adds nothing.

Every learned route's reason names the words that weighed most and the probability ("learned: 'mortgage',
'late fee' (0.82)"). Theme, urgency and everything else still come from the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stories.learning import FORMAT_1_RATIO, Example, LearnedModel, Prediction
from stories.models import RouteMatch
from stories.routing import DEFAULT_RULE, Router, Routing

LEARNED_RULE = "learned"
ALONE_FROM = 0.5  # more likely than all other departments together
OVERRIDE_RATIO = FORMAT_1_RATIO  # twice as likely as anything the rules chose: format 1 models


def rule_departments(routing: Routing) -> tuple[str, ...]:
    """The departments the rules chose (not the default department's fallback): what the learner is told."""
    return tuple(r.department for r in routing.routes if r.rule != DEFAULT_RULE)


def predict(model: LearnedModel, routing: Routing, text: str) -> Prediction:
    return model.predict(text, rules=rule_departments(routing))


def blend(routing: Routing, prediction: Prediction | None, *, known: frozenset[str] | None = None) -> Routing:
    """The rules' routing, with the learner's view folded in (see the module's docstring)."""
    if prediction is None:
        return routing
    top, p_top = prediction.top
    if known is not None and top not in known:
        return routing  # a department since removed from the configuration
    learned = RouteMatch(department=top, rule=LEARNED_RULE, reason=prediction.reason(top))
    rules = [r for r in routing.routes if r.rule != DEFAULT_RULE]
    if not rules:
        if p_top >= ALONE_FROM or top == routing.routes[0].department:
            return Routing(routes=(learned,), themes=routing.themes)
        return Routing(routes=(learned, *routing.routes), themes=routing.themes)
    if len(rules) > 1:
        rules.sort(key=lambda r: prediction.probability(r.department), reverse=True)
    chosen = {r.department for r in rules}
    if top not in chosen and p_top >= prediction.override_ratio * max(prediction.probability(d) for d in chosen):
        return Routing(routes=(learned, *rules), themes=routing.themes)
    return Routing(routes=tuple(rules), themes=routing.themes)


class BlendedRouter:
    """A :class:`Router` and, when one is active, a :class:`LearnedModel`; the pipeline's routing policy."""

    def __init__(self, router: Router, model: LearnedModel | None = None, *, version: int | None = None) -> None:
        self.rules = router
        self.model = model
        self.version = version if model is not None else None
        self.default_department = router.default_department
        self._known = frozenset(router.departments)

    def use(self, model: LearnedModel | None, *, version: int | None) -> None:
        """Switch to another model (after a retrain); None goes back to the rules alone."""
        self.model, self.version = model, (version if model is not None else None)

    def route(
        self,
        *,
        text: str,
        nps: int | None,
        csat: int | None,
        sentiment: str | None,
        source: str,
        segment: str | None,
        fields: Mapping[str, str],
        language: str | None = None,
    ) -> Routing:
        routing = self.rules.route(
            text=text,
            nps=nps,
            csat=csat,
            sentiment=sentiment,
            source=source,
            segment=segment,
            fields=fields,
            language=language,
        )
        model = self.model
        return blend(routing, predict(model, routing, text) if model is not None else None, known=self._known)

    def urgent_reason(self, *, text: str, nps: int | None) -> str | None:
        return self.rules.urgent_reason(text=text, nps=nps)

    def is_urgent(self, *, text: str, nps: int | None) -> bool:
        return self.rules.is_urgent(text=text, nps=nps)


@dataclass(frozen=True, slots=True)
class Scores:
    """How a routing does on labelled comments."""

    examples: int
    top1: float  # the gold department is the first route
    among: float  # the gold department is one of the routes
    per_story: float  # departments per comment
    default_only: float  # share of comments left to the default department alone

    def line(self) -> str:
        return (
            f"top-1 {self.top1:.3f}  gold among routes {self.among:.3f}  departments/story {self.per_story:.2f}  "
            f"default only {self.default_only:.3f}"
        )


def score(examples: Sequence[Example], routings: Sequence[Routing]) -> Scores:
    """Top-1, gold among routes, departments per story and the default-only share."""
    n = len(examples)
    if n == 0:
        return Scores(examples=0, top1=0.0, among=0.0, per_story=0.0, default_only=0.0)
    pairs = list(zip(examples, routings, strict=True))
    return Scores(
        examples=n,
        top1=sum(r.routes[0].department == e.department for e, r in pairs) / n,
        among=sum(e.department in r.departments for e, r in pairs) / n,
        per_story=sum(len(r.routes) for _, r in pairs) / n,
        default_only=sum(len(r.routes) == 1 and r.routes[0].rule == DEFAULT_RULE for _, r in pairs) / n,
    )


def route_text(router: Router, text: str) -> Routing:
    """Rules alone for a bare text (labelled files carry no scores, source or segment)."""
    return router.route(text=text, nps=None, csat=None, sentiment=None, source="labelled", segment=None, fields={})


def with_rules(router: Router, examples: Sequence[Example]) -> list[Example]:
    """The examples, each with the departments the rules choose for it today (what the learner learns to weigh)."""
    return [
        Example(text=e.text, department=e.department, rules=rule_departments(route_text(router, e.text)))
        for e in examples
    ]


def compare(router: Router, model: LearnedModel | None, examples: Sequence[Example]) -> tuple[Scores, Scores | None]:
    """Rules alone, and rules + learner (None without a model), on the same labelled comments."""
    rules = [route_text(router, e.text) for e in examples]
    alone = score(examples, rules)
    if model is None:
        return alone, None
    known = frozenset(router.departments)
    blended = [blend(r, predict(model, r, e.text), known=known) for r, e in zip(rules, examples, strict=True)]
    return alone, score(examples, blended)


__all__ = [
    "LEARNED_RULE",
    "BlendedRouter",
    "Scores",
    "blend",
    "compare",
    "predict",
    "route_text",
    "rule_departments",
    "score",
    "with_rules",
]
