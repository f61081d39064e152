"""Issue 14 point 5: the language of comments that come without one is detected, stored, matched by rules, and
stories say it instead of passing a French sentence off as an English quote."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from storage.models import Comment, Story
from stories.config import CxConfig
from stories.language import LangidDetector, base_code, language_name
from stories.models import IncomingComment
from stories.routing import Router

DETECTOR = LangidDetector()

# Written for these tests: everyday customer comments, one per language.
SAMPLES = {
    "en": "The parcel arrived two weeks late and the box was completely crushed.",
    "fr": "Le colis est arrivé avec deux semaines de retard et le carton était complètement écrasé.",
    "de": "Das Paket kam zwei Wochen zu spät an und der Karton war völlig zerdrückt.",
    "es": "El paquete llegó con dos semanas de retraso y la caja estaba completamente aplastada.",
    "it": "Il pacco è arrivato con due settimane di ritardo e la scatola era completamente schiacciata.",
    "nl": "Het pakket kwam twee weken te laat aan en de doos was helemaal geplet.",
    "pt": "A encomenda chegou com duas semanas de atraso e a caixa estava completamente esmagada.",
    "pl": "Paczka przyszła z dwutygodniowym opóźnieniem, a pudełko było całkowicie zgniecione.",
    "ja": "荷物が二週間遅れて届き、箱は完全につぶれていました。",
}


@pytest.mark.parametrize(("language", "text"), sorted(SAMPLES.items()))
def test_each_language_is_recognised(language: str, text: str) -> None:
    assert DETECTOR.detect(text) == language


@pytest.mark.parametrize("text", ["ok", "thanks!!", "👍👍👍", "A1 B2", "   "])
def test_too_little_text_gets_no_language_rather_than_a_guess(text: str) -> None:
    assert DETECTOR.detect(text) is None


def test_an_unsure_guess_is_no_language() -> None:
    unsure = LangidDetector(min_probability=1.01)  # nothing is ever that sure
    assert unsure.detect(SAMPLES["fr"]) is None
    assert LangidDetector(languages=["en", "de"]).detect(SAMPLES["fr"]) in {None, "en", "de"}  # only those named


def test_codes_and_names() -> None:
    assert base_code("fr-CA") == "fr" and base_code("PT_br") == "pt" and base_code("") is None
    assert language_name("de-AT") == "German" and language_name("xx") is None


def _router(*rules: dict[str, object]) -> Router:
    return Router(
        CxConfig.model_validate(
            {
                "default_department": "CX",
                "departments": [{"name": "CX"}, {"name": "Europe"}, {"name": "Logistics"}],
                "rules": [{"id": f"r{i}", **rule} for i, rule in enumerate(rules)],
            }
        )
    )


def test_rules_match_on_language_with_or_without_a_region() -> None:
    router = _router(
        {"department": "Europe", "languages": ["fr", "DE"]},
        {"department": "Logistics", "keywords": ["colis"], "languages": ["fr-CA"]},
    )

    def where(language: str | None) -> list[str]:
        routing = router.route(
            text="Le colis est en retard",
            nps=None,
            csat=None,
            sentiment=None,
            source="csv",
            segment=None,
            fields={},
            language=language,
        )
        return [r.department for r in routing.routes]

    assert where("fr") == ["Europe", "Logistics"]
    assert where("fr-BE") == ["Europe", "Logistics"]  # a rule's region is ignored too: fr-CA means French
    assert where("de") == ["Europe"]
    assert where("en") == ["CX"] and where(None) == ["CX"]  # unknown language matches no language rule
    routing = router.route(
        text="x", nps=None, csat=None, sentiment=None, source="csv", segment=None, fields={}, language="de"
    )
    assert routing.routes[0].reason == "language 'de'"


def test_a_language_that_is_not_a_code_is_refused_naming_the_fix() -> None:
    with pytest.raises(ValidationError, match="not a language code; write ISO 639-1 codes"):
        _router({"department": "Europe", "languages": ["French"]})


def test_pipeline_detects_stores_and_routes_by_language_and_frames_the_story(make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "cx.yaml"
    config.write_text(
        "default_department: CX\n"
        "departments: [{name: CX}, {name: Europe}]\n"
        "rules: [{id: french, department: Europe, languages: [fr]}]\n"
    )
    app = make_app(cx_config=config)
    report = app.pipeline.ingest(
        [
            IncomingComment(text=SAMPLES["fr"], source="csv", external_id="1"),
            IncomingComment(text=SAMPLES["en"], source="csv", external_id="2"),
            IncomingComment(text=SAMPLES["en"], source="csv", external_id="3", language="fr-CA"),  # given wins
            IncomingComment(text="ok", source="csv", external_id="4"),
        ]
    )
    assert [c.departments for c in report.created] == [("Europe",), ("CX",), ("Europe",), ("CX",)]
    with app.engine.connect() as conn:
        languages = dict(conn.execute(select(Comment.external_id, Comment.language)).all())
        stories = conn.execute(select(Story.text).order_by(Story.id)).scalars().all()
    assert languages == {"1": "fr", "2": "en", "3": "fr-CA", "4": None}
    assert stories[0] == f'A customer wrote in French in a survey: "{SAMPLES["fr"]}"'
    assert stories[1] == f'A customer wrote in a survey: "{SAMPLES["en"]}"'


def test_the_story_shows_the_words_that_routed_it(app) -> None:  # type: ignore[no-untyped-def]
    text = "We bought the oven in March. The glass on the oven door shattered while I was cooking dinner for four."
    report = app.pipeline.ingest([IncomingComment(text=text, source="csv", external_id="oven")])
    [created] = report.created
    assert any("keyword '" in r or "phrase '" in r for r in created.reasons), created.reasons  # the bundled rules
    with app.engine.connect() as conn:
        title, story = conn.execute(select(Story.title, Story.text)).one()
    for reason in created.reasons:
        for word in reason.split("'")[1::2]:  # "keyword 'shattered'" -> shattered
            assert word.casefold() in (title + " " + story).casefold(), (reason, title, story)
