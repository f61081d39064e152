from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select

from storage.models import Comment, Route, Story
from stories.models import IncomingComment

SECRET = "Jane <jane.doe@example.com>, +44 20 7946 0958, card 4111 1111 1111 1111"


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)))


def test_comment_is_redacted_summarised_and_routed(app) -> None:  # type: ignore[no-untyped-def]
    report = app.pipeline.ingest(
        [IncomingComment(text=f"My invoice was charged twice. {SECRET}", source="csv", external_id="R1", nps=2)]
    )
    assert len(report.created) == 1
    created = report.created[0]
    assert "Finance & Billing" in created.departments
    with app.engine.connect() as conn:
        comment = conn.execute(select(Comment)).one()._mapping
        story = conn.execute(select(Story)).one()._mapping
    for secret in ("jane.doe@example.com", "7946 0958", "4111 1111 1111 1111"):
        assert secret not in comment["redacted_text"]
        assert secret not in story["text"] and secret not in story["title"]
    assert "[email]" in comment["redacted_text"] and "[card]" in comment["redacted_text"]
    assert comment["raw_text"] is None  # CX_KEEP_RAW is off by default
    assert story["summarizer"] == "offline"
    assert story["sentiment"] == "negative"


def test_raw_text_is_kept_only_when_configured(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(cx_keep_raw=True)
    app.pipeline.ingest([IncomingComment(text=f"Hello {SECRET}", source="csv", external_id="R1")])
    with app.engine.connect() as conn:
        assert conn.scalar(select(Comment.raw_text)) == f"Hello {SECRET}"


def test_same_external_id_never_makes_a_second_story(app) -> None:  # type: ignore[no-untyped-def]
    comment = IncomingComment(text="Delivery was late", source="csv", external_id="R7")
    first = app.pipeline.ingest([comment, comment])
    second = app.pipeline.ingest([comment])
    assert (len(first.created), first.duplicates) == (1, 1)
    assert (len(second.created), second.duplicates) == (0, 1)
    assert count(app, Comment) == count(app, Story) == 1


def test_without_an_id_source_text_and_time_identify_a_comment(app) -> None:  # type: ignore[no-untyped-def]
    at = datetime(2026, 11, 2, 8, tzinfo=UTC)
    same = IncomingComment(text="The driver was rude", source="webhook", original_at=at)
    app.pipeline.ingest([same])
    app.pipeline.ingest([same])
    app.pipeline.ingest([IncomingComment(text="The driver was rude", source="webhook", original_at=at.replace(hour=9))])
    app.pipeline.ingest([IncomingComment(text="The driver was rude", source="csv", original_at=at)])
    assert count(app, Story) == 3


def test_concurrent_ingestion_of_the_same_comments_makes_each_story_once(app) -> None:  # type: ignore[no-untyped-def]
    comments = [IncomingComment(text=f"Order {i} arrived broken", source="csv", external_id=f"C{i}") for i in range(40)]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            app.pipeline.ingest(comments)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert count(app, Comment) == count(app, Story) == 40


def test_invalid_comments_are_reported_and_the_rest_kept(app) -> None:  # type: ignore[no-untyped-def]
    report = app.pipeline.ingest(
        [
            IncomingComment(text="   ", source="csv"),
            IncomingComment(text="fine", source="csv", nps=12),
            IncomingComment(text="Great service from the support team", source="csv", csat=5),
        ]
    )
    assert [(r.index, r.field) for r in report.rejected] == [(0, "text"), (1, "nps")]
    assert len(report.created) == 1


def test_what_the_store_cannot_keep_is_rejected_by_name_and_the_batch_kept(app) -> None:  # type: ignore[no-untyped-def]
    report = app.pipeline.ingest(
        [
            IncomingComment(text="Late parcel", source="csv", external_id="1", segment="s" * 101),
            IncomingComment(text="Late \x00 parcel", source="csv", external_id="2"),
            IncomingComment(text="Late parcel", source="csv", external_id="3", origin_channel="c" * 201),
            IncomingComment(
                text="Late parcel", source="csv", original_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
            ),
            IncomingComment(text="Great staff", source="csv", external_id="5", segment="s" * 100, language="en-GB"),
        ]
    )
    assert [(r.index, r.field) for r in report.rejected] == [(0, "segment"), (1, "text"), (2, "channel"), (3, "date")]
    assert [c.external_id for c in report.created] == ["5"]
    assert count(app, Comment) == 1


def test_long_emoji_and_right_to_left_comments(app) -> None:  # type: ignore[no-untyped-def]
    long_text = ("The parcel was late and the box was crushed. " * 2300)[:100_000]
    report = app.pipeline.ingest(
        [
            IncomingComment(text=long_text, source="csv", external_id="long"),
            IncomingComment(text="Love it 😍🎉 thank you!", source="csv", external_id="emoji"),
            IncomingComment(text="الخدمة ممتازة والتوصيل سريع", source="csv", external_id="rtl"),
        ]
    )
    assert len(report.created) == 3
    with app.engine.connect() as conn:
        for title, text in conn.execute(select(Story.title, Story.text)):
            assert 0 < len(title) <= 80
            assert 0 < len(text) <= 280


def test_unmatched_comment_goes_to_the_default_department_with_the_reason(app) -> None:  # type: ignore[no-untyped-def]
    report = app.pipeline.ingest([IncomingComment(text="Hmm.", source="csv", external_id="x")])
    [created] = report.created
    assert created.departments == (app.config.default_department,)
    with app.engine.connect() as conn:
        assert conn.scalar(select(Route.rule)) == "default"


def test_info_logs_carry_no_customer_text(app, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    app.pipeline.ingest([IncomingComment(text="Zebra-unique-phrase complaint about invoices", source="csv")])
    assert caplog.records  # the pipeline does log
    assert all("Zebra-unique-phrase" not in r.getMessage() for r in caplog.records)


def test_rules_can_match_the_origin_channel(make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "cx.yaml"
    config.write_text(
        "default_department: CX\n"
        "departments: [{name: CX}, {name: Stores}]\n"
        "rules: [{id: in-store, department: Stores, fields: {channel: [store-survey]}}]\n"
    )
    app = make_app(cx_config=config)
    report = app.pipeline.ingest(
        [IncomingComment(text="Queue was long", source="csv", external_id="1", origin_channel="store-survey")]
    )
    assert report.created[0].departments == ("Stores",)


def test_a_link_must_be_a_web_address(app) -> None:  # type: ignore[no-untyped-def]
    app.pipeline.link_originals = True  # intake.link_originals: true
    report = app.pipeline.ingest(
        [
            IncomingComment(text="fine", source="slack", external_id="a", link="javascript:alert(1)"),
            IncomingComment(text="fine", source="slack", external_id="b", link="https://x.slack.com/archives/C1/p1"),
        ]
    )
    assert [(r.index, r.field) for r in report.rejected] == [(0, "link")]
    [story] = app.stories.views([report.created[0].story_id])
    assert story.permalink == "https://x.slack.com/archives/C1/p1"


def test_the_link_to_the_unredacted_original_is_dropped_unless_configured(app) -> None:  # type: ignore[no-untyped-def]
    assert app.config.intake.link_originals is False  # the default
    link = "https://x.slack.com/archives/C1/p1"
    report = app.pipeline.ingest([IncomingComment(text="call me on 07911 654321", source="slack", link=link)])
    [story] = app.stories.views([report.created[0].story_id])
    assert story.permalink is None
    with app.engine.connect() as conn:
        assert conn.scalar(select(Comment.origin_link)) is None


def test_removed_personal_data_is_kept_only_as_keyed_hashes(make_app) -> None:  # type: ignore[no-untyped-def]
    from storage.models import CommentIdentifier
    from stories.identifiers import IdentifierHasher

    key = "k" * 32
    app = make_app(cx_hash_key=key)
    app.pipeline.ingest([IncomingComment(text=f"Hello {SECRET}", source="csv", external_id="R1")])
    with app.engine.connect() as conn:
        digests = set(conn.scalars(select(CommentIdentifier.digest)))
    hasher = IdentifierHasher(key=key.encode())
    expected = {
        hasher.digest("email", "jane.doe@example.com"),
        hasher.digest("phone", "+442079460958"),
        hasher.digest("card", "4111111111111111"),
        hasher.digest("id", "R1"),
    }
    assert digests == expected
    other = IdentifierHasher(key=b"another key of sixteen bytes").digest("email", "jane.doe@example.com")
    assert other not in digests  # without the key, a guessed value cannot be tested
