"""stories.routing: rules send a comment to departments, with the reason, its themes, and urgency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot.config import load_config
from stories.config import CxConfig, Rule
from stories.routing import DEFAULT_REASON, DEFAULT_RULE, Router, Routing

DEPARTMENTS = ["CX", "Finance", "Logistics", "Product", "People", "Sales"]


def make_router(*rules: dict[str, Any], urgent: dict[str, Any] | None = None) -> Router:
    config = CxConfig.model_validate(
        {
            "default_department": "CX",
            "departments": [{"name": name} for name in DEPARTMENTS],
            "rules": [{"id": f"r{i}", **rule} for i, rule in enumerate(rules)],
            "urgent": urgent or {},
        }
    )
    return Router(config)


def route(
    router: Router,
    text: str,
    *,
    nps: int | None = None,
    csat: int | None = None,
    sentiment: str | None = None,
    source: str = "csv",
    segment: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> Routing:
    return router.route(
        text=text, nps=nps, csat=csat, sentiment=sentiment, source=source, segment=segment, fields=fields or {}
    )


def departments(routing: Routing) -> list[str]:
    return [r.department for r in routing.routes]


# --- departments, default, reasons, themes ---------------------------------------------------------------------


def test_comment_about_two_topics_goes_to_both_departments() -> None:
    router = make_router(
        {"department": "Finance", "keywords": ["invoice"]},
        {"department": "Logistics", "keywords": ["parcel"]},
        {"department": "Product", "keywords": ["app"]},
    )
    routing = route(router, "The parcel came late and the invoice was wrong.")
    assert departments(routing) == ["Finance", "Logistics"]


def test_unmatched_comment_goes_to_default_department() -> None:
    router = make_router({"department": "Finance", "keywords": ["invoice"]})
    routing = route(router, "Lovely shop, thanks!")
    assert routing.routes == (routing.routes[0],)
    assert (routing.routes[0].department, routing.routes[0].rule, routing.routes[0].reason) == (
        "CX",
        DEFAULT_RULE,
        DEFAULT_REASON,
    )
    assert routing.themes == ()


def test_first_matching_rule_of_a_department_is_its_one_route() -> None:
    router = make_router(
        {"department": "Finance", "phrases": ["charged twice"], "theme": "billing error"},
        {"department": "Finance", "keywords": ["card"], "theme": "payments"},
    )
    routing = route(router, "My card was charged twice")
    assert [(r.department, r.rule, r.reason) for r in routing.routes] == [("Finance", "r0", "phrase 'charged twice'")]


def test_themes_come_from_every_matching_rule_in_rule_order_without_repeats() -> None:
    router = make_router(
        {"department": "Logistics", "keywords": ["late"], "theme": "late delivery"},
        {"department": "Finance", "keywords": ["invoice"], "theme": "billing error"},
        {"department": "Logistics", "keywords": ["courier"], "theme": "courier"},
        {"department": "Sales", "keywords": ["invoice"], "theme": "billing error"},
        {"department": "Product", "keywords": ["app"]},
    )
    routing = route(router, "The courier was late, the invoice too, and the app crashed.")
    assert routing.themes == ("late delivery", "billing error", "courier")
    assert departments(routing) == ["Logistics", "Finance", "Sales", "Product"]


def test_reason_names_the_first_configured_keyword_found() -> None:
    router = make_router({"department": "Finance", "keywords": ["refund", "invoice", "bill"]})
    routing = route(router, "Invoice and bill and refund")
    assert routing.routes[0].reason == "keyword 'refund'"


def test_keyword_is_preferred_over_phrase_and_regex_in_the_reason() -> None:
    router = make_router(
        {"department": "Finance", "keywords": ["invoice"], "phrases": ["wrong amount"], "regex": ["am.unt"]}
    )
    assert route(router, "wrong amount on the invoice").routes[0].reason == "keyword 'invoice'"
    assert route(router, "wrong amount").routes[0].reason == "phrase 'wrong amount'"
    assert route(router, "the amount").routes[0].reason == "regex 'am.unt'"


# --- keywords, phrases, regex ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("INVOICE missing", True),
        ("two invoices missing", True),  # simple plural
        ("re-invoice please", True),  # hyphen separates words
        ("it was invoiced", False),  # other endings are not stemmed
        ("reinvoice please", False),  # not a whole word
        ("invoice🙄", True),  # emoji is not part of a word
    ],
)
def test_keyword_matches_whole_words_and_simple_plurals(text: str, matches: bool) -> None:
    router = make_router({"department": "Finance", "keywords": ["invoice"]})
    assert ("Finance" in departments(route(router, text))) is matches


@pytest.mark.parametrize(("keyword", "text"), [("delivery", "two deliveries"), ("box", "the boxes"), ("day", "days")])
def test_keyword_plural_forms(keyword: str, text: str) -> None:
    router = make_router({"department": "Logistics", "keywords": [keyword]})
    assert departments(route(router, text)) == ["Logistics"]


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("I never got a credit note", True),
        ("two CREDIT\n  NOTES please", True),
        ("credit notebook", False),
        ("a credit and a note", False),
    ],
)
def test_keyword_of_several_words_matches_those_words_in_order(text: str, matches: bool) -> None:
    router = make_router({"department": "Finance", "keywords": ["credit note"]})
    assert ("Finance" in departments(route(router, text))) is matches


def test_keyword_with_punctuation_matches_as_a_whole() -> None:
    router = make_router({"department": "People", "keywords": ["T&Cs", "c++"]})
    assert departments(route(router, "Your t&cs are unfair")) == ["People"]
    assert departments(route(router, "Your C++ SDK")) == ["People"]
    assert departments(route(router, "at&csx")) == ["CX"]


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("I was CHARGED  TWICE!", True),
        ("charged\ntwice", True),
        ("they overcharged twice", False),  # a phrase of several words starts at a word start
        ("charged twiceover", True),  # and may end inside a word
    ],
)
def test_phrase_is_a_case_insensitive_substring_starting_a_word(text: str, matches: bool) -> None:
    router = make_router({"department": "Finance", "phrases": ["charged twice"]})
    assert ("Finance" in departments(route(router, text))) is matches


def test_one_word_phrase_is_found_inside_compounds() -> None:
    router = make_router({"department": "Finance", "phrases": ["Mahnung"]})
    assert departments(route(router, "Ich habe eine Zahlungsmahnung bekommen")) == ["Finance"]


def test_regex_is_case_insensitive_and_can_switch_case_back_on() -> None:
    router = make_router(
        {"department": "Logistics", "regex": [r"\d+ days late"]},
        {"department": "People", "regex": [r"(?-i:[A-Z][a-z]+) at the \w+ depot was (?:great|wonderful)"]},
    )
    assert departments(route(router, "It came 5 DAYS LATE")) == ["Logistics"]
    assert departments(route(router, "Maria at the Leeds depot was wonderful")) == ["People"]
    assert departments(route(router, "someone at the leeds depot was wonderful")) == ["CX"]


def test_regexes_with_groups_and_back_references_still_work_beside_others() -> None:
    router = make_router({"department": "Product", "regex": [r"(\w+) \1", r"crash(?:ed|es)?", r"(?i)freeze"]})
    assert departments(route(router, "it said error error")) == ["Product"]
    assert departments(route(router, "the app crashed")) == ["Product"]
    assert departments(route(router, "it FREEZEs")) == ["Product"]
    assert departments(route(router, "all good here")) == ["CX"]
    assert route(router, "it said error error").routes[0].reason == r"regex '(\w+) \1'"


# --- non-text conditions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "nps", "csat", "reason"),
    [
        ({"nps_max": 6}, 3, None, "NPS 3 <= 6"),
        ({"nps_max": 6}, 6, None, "NPS 6 <= 6"),
        ({"nps_max": 6}, 7, None, None),
        ({"nps_max": 6}, None, 1, None),  # no score never matches a score condition
        ({"nps_min": 9}, 10, None, "NPS 10 >= 9"),
        ({"nps_min": 9}, 8, None, None),
        ({"csat_max": 2}, None, 2, "CSAT 2 <= 2"),
        ({"csat_min": 4}, 9, 3, None),
        ({"nps_min": 3, "nps_max": 6}, 4, None, "NPS 4 <= 6 and NPS 4 >= 3"),
    ],
)
def test_score_conditions(rule: dict[str, Any], nps: int | None, csat: int | None, reason: str | None) -> None:
    router = make_router({"department": "Sales", **rule})
    routing = route(router, "anything", nps=nps, csat=csat)
    assert (routing.routes[0].reason if routing.routes[0].department == "Sales" else None) == reason


def test_text_and_score_conditions_must_both_hold_and_both_are_the_reason() -> None:
    router = make_router({"department": "Finance", "keywords": ["invoice"], "nps_max": 6})
    assert departments(route(router, "invoice", nps=9)) == ["CX"]
    assert departments(route(router, "the app", nps=2)) == ["CX"]
    assert route(router, "invoice", nps=3).routes[0].reason == "keyword 'invoice' and NPS 3 <= 6"


def test_sentiment_condition() -> None:
    router = make_router({"department": "People", "keywords": ["staff"], "sentiment": "positive"})
    assert departments(route(router, "staff", sentiment="positive")) == ["People"]
    assert route(router, "staff", sentiment="positive").routes[0].reason == "keyword 'staff' and sentiment positive"
    assert departments(route(router, "staff", sentiment="negative")) == ["CX"]
    assert departments(route(router, "staff", sentiment=None)) == ["CX"]


def test_source_and_segment_conditions_ignore_case() -> None:
    router = make_router(
        {"department": "Product", "sources": ["app_store"], "csat_max": 2},
        {"department": "Sales", "segments": ["Enterprise"], "nps_max": 6},
    )
    routing = route(router, "meh", source="APP_STORE", csat=1, segment="enterprise", nps=5)
    assert [(r.department, r.reason) for r in routing.routes] == [
        ("Product", "CSAT 1 <= 2 and source 'app_store'"),
        ("Sales", "NPS 5 <= 6 and segment 'Enterprise'"),
    ]
    assert departments(route(router, "meh", source="csv", csat=1, segment="SMB", nps=5)) == ["CX"]
    assert departments(route(router, "meh", source="csv", csat=1, segment=None, nps=5)) == ["CX"]


def test_fields_conditions_compare_names_and_values_ignoring_case() -> None:
    router = make_router(
        {"department": "Logistics", "fields": {"Fulfilment": ["Click & Collect"], "Region": ["UK", "IE"]}}
    )
    fields = {"fulfilment": "click & collect ", "REGION": "ie", "Other": "x"}
    routing = route(router, "fine", fields=fields)
    assert routing.routes[0].reason == "Fulfilment 'Click & Collect' and Region 'IE'"
    assert departments(route(router, "fine", fields={"Fulfilment": "Click & Collect", "Region": "DE"})) == ["CX"]
    assert departments(route(router, "fine", fields={"Region": "UK"})) == ["CX"]


# --- urgency ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "nps", "reason"),
    [
        ("fine", 1, "NPS 1 <= 2"),
        ("fine", 3, None),
        ("I have spoken to my LAWYERS", 8, "urgent keyword 'lawyer'"),
        ("Was there a data  breach?", None, "urgent keyword 'data breach'"),
        ("the firewall blocked it", None, None),
        ("", None, None),
    ],
)
def test_urgent_by_score_or_keyword(text: str, nps: int | None, reason: str | None) -> None:
    router = make_router(
        {"department": "Finance", "keywords": ["invoice"]},
        urgent={"nps_max": 2, "keywords": ["lawyer", "data breach", "fire"]},
    )
    assert router.urgent_reason(text=text, nps=nps) == reason
    assert router.is_urgent(text=text, nps=nps) is (reason is not None)


def test_nothing_is_urgent_by_keyword_without_urgent_keywords() -> None:
    router = make_router({"department": "Finance", "keywords": ["invoice"]}, urgent={"nps_max": 0})
    assert not router.is_urgent(text="my lawyer will call", nps=1)
    assert router.is_urgent(text="whatever", nps=0)


# --- unicode ---------------------------------------------------------------------------------------------------


def test_unicode_text_rtl_and_emoji() -> None:
    router = make_router(
        {"department": "Finance", "keywords": ["Straße", "فاتورة", "חשבונית"]},
        {"department": "Product", "phrases": ["won't load", "应用崩溃"]},
        {"department": "People", "keywords": ["café"]},
    )
    assert departments(route(router, "LIEFERUNG IN DIE STRASSE")) == ["Finance"]  # ß case-folds to ss
    assert departments(route(router, "لم تصل الفاتورة بعد فاتورة")) == ["Finance"]
    assert departments(route(router, "\u200fקיבלתי חשבונית שגויה\u200f")) == ["Finance"]  # with RTL marks
    assert departments(route(router, "The app won\u2019t load 😡😡")) == ["Product"]  # curly apostrophe
    assert departments(route(router, "我的应用崩溃了")) == ["Product"]  # no spaces between words
    assert departments(route(router, "the cafe\u0301 was nice")) == ["People"]  # decomposed é
    assert departments(route(router, "🚚📦💥")) == ["CX"]


def test_rule_condition_types_come_from_the_config_model() -> None:
    with pytest.raises(ValueError, match="no condition"):
        Rule(id="x", department="Finance")


# --- the bundled example ---------------------------------------------------------------------------------------


def _satisfying(rule: Rule) -> dict[str, Any]:
    """Inputs that meet every non-text condition of ``rule``."""
    return {
        "nps": rule.nps_max if rule.nps_max is not None else rule.nps_min,
        "csat": rule.csat_max if rule.csat_max is not None else rule.csat_min,
        "sentiment": rule.sentiment,
        "source": rule.sources[0] if rule.sources else "csv",
        "segment": rule.segments[0] if rule.segments else None,
        "fields": {name: values[0] for name, values in rule.fields.items()},
    }


EXAMPLE = load_config()
EXAMPLE_ROUTER = Router(EXAMPLE)


@pytest.mark.parametrize("department", EXAMPLE.department_names)
def test_every_department_of_the_bundled_example_is_reachable_by_a_rule(department: str) -> None:
    rules = [r for r in EXAMPLE.rules if r.department == department]
    assert rules, f"no rule sends to {department}"
    rule = rules[0]
    text = (rule.keywords or rule.phrases or ("",))[0]
    routing = route(EXAMPLE_ROUTER, f"About this: {text}.", **_satisfying(rule))
    match = next(r for r in routing.routes if r.department == department)
    assert match.rule == rule.id


@pytest.mark.parametrize("rule", EXAMPLE.rules, ids=lambda r: r.id)
def test_every_keyword_and_phrase_of_the_bundled_example_routes_to_its_department(rule: Rule) -> None:
    for text in (*rule.keywords, *rule.phrases):
        routing = route(EXAMPLE_ROUTER, f"Well. {text}!", **_satisfying(rule))
        assert rule.department in departments(routing), text
        assert rule.theme in routing.themes, text


def test_bundled_example_regexes_find_what_their_comments_promise() -> None:
    cases = {
        "log-late-delivery": "I have been waiting three weeks for it.",
        "fin-refund-delay": "My refund has still not come",
        "mfg-batch": "All from batch code: KT7-0093",
        "hr-staff-praise": "Maria at the Leeds depot was wonderful",
    }
    for rule_id, text in cases.items():
        routing = route(EXAMPLE_ROUTER, text)
        assert any(r.rule == rule_id and r.reason.startswith("regex") for r in routing.routes), (rule_id, routing)


@pytest.mark.parametrize(
    ("text", "expected", "not_to"),
    [
        (
            "My mortgage payment was applied to the wrong month and now I have a late fee",
            "Finance & Billing",
            "Logistics & Delivery",
        ),
        ("The driver from the Manchester site was brilliant", "Logistics & Delivery", "Product & Engineering"),
        ("Our van broke down so I missed the collection slot", "CX Team", "Manufacturing & Quality"),
        ("Sue at the front desk sorted my exchange", "Customer Service", "Legal"),
        ("The kettle broke after two weeks", "Manufacturing & Quality", None),
        ("The parcel arrived late and the box was crushed", "Logistics & Delivery", None),
    ],
)
def test_bundled_rules_match_phrases_not_misleading_words(text: str, expected: str, not_to: str | None) -> None:
    from bot.config import example_path, load_config

    routing = Router(load_config(example_path())).route(
        text=text, nps=None, csat=None, sentiment=None, source="csv", segment=None, fields={}
    )
    assert routing.departments[0] == expected
    assert not_to not in routing.departments
