"""The one redaction step (stories/redacted_comment.py): every field, ids as keyed hashes, long comments cut."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from stories.identifiers import ID_KIND, IdentifierHasher
from stories.models import IncomingComment
from stories.redacted_comment import CUT_MARGIN, MAX_KEPT, redact_comment
from stories.redaction import PiiRedactor

HASHER = IdentifierHasher(key=b"a test key of at least sixteen bytes")
REDACTOR = PiiRedactor(default_region="GB")

# Every field of IncomingComment, by what the redaction step does with it. A new field fails
# test_every_field_is_redacted_or_declared_not_text until it is put in one of these and handled.
REDACTED = {"text", "source", "external_id", "segment", "origin_channel", "language", "fields", "link"}
NOT_TEXT = {"original_at", "nps", "csat", "platform_ids", "origin"}  # origin: chat ids (stories.models.Origin)


def redact(comment: IncomingComment, redactor: PiiRedactor = REDACTOR):  # type: ignore[no-untyped-def]
    return redact_comment(comment, redactor=redactor, hasher=HASHER)


def probe() -> IncomingComment:
    return IncomingComment(
        text="Refund late; mail ann@example.com",
        source="kiosk bo@example.com",
        external_id="cy@example.com",
        segment="call 020 7946 0958",
        origin_channel="di@example.com",
        language="ed@example.com",
        fields={"fi@example.com": "card 4111 1111 1111 1111"},
        link="https://crm.example/c?who=gu@example.com",
        original_at=datetime(2026, 11, 30, tzinfo=UTC),
        nps=4,
    )


def test_every_field_is_redacted_or_declared_not_text() -> None:
    assert {f.name for f in dataclasses.fields(IncomingComment)} == REDACTED | NOT_TEXT
    result = redact(probe())
    stored = repr(result.comment) + result.dedupe_key
    for seeded in ("ann@", "bo@", "cy@", "7946", "di@", "ed@", "fi@", "4111", "gu@"):
        assert seeded not in stored, seeded
    comment = result.comment
    assert comment.text == "Refund late; mail [email]"
    assert comment.segment == "call [phone]"
    assert comment.fields == {"[email]": "card [card]"}
    assert comment.link is None  # a link holding personal data leads nowhere once redacted: dropped
    kept = redact(dataclasses.replace(probe(), link="https://x.slack.com/archives/C1/p1"))
    assert kept.comment.link == "https://x.slack.com/archives/C1/p1"
    assert (comment.original_at, comment.nps) == (probe().original_at, 4)


def test_an_id_holding_personal_data_is_stored_as_its_keyed_hash_and_keys_stay_stable() -> None:
    first, again = redact(probe()), redact(probe())
    digest = HASHER.digest(ID_KIND, "cy@example.com")
    assert first.comment.external_id == "h:" + digest[:32]
    assert first.dedupe_key == again.dedupe_key == f"kiosk [email]:id:h:{digest[:32]}"
    other_key = redact_comment(probe(), redactor=REDACTOR, hasher=IdentifierHasher(key=b"x" * 16))
    assert other_key.comment.external_id != first.comment.external_id  # a hash, not an encoding
    plain = redact(IncomingComment(text="x", source="csv", external_id="R-26003"))
    assert plain.comment.external_id == "R-26003" and plain.dedupe_key == "csv:id:R-26003"


def test_every_removed_value_of_every_field_is_among_the_identifier_hashes() -> None:
    comment = probe()
    values = [
        comment.text,
        comment.source,
        comment.external_id,
        comment.segment,
        comment.origin_channel,
        comment.language,
        *comment.fields,
        *comment.fields.values(),
        comment.link,
    ]
    found = [REDACTOR.redact(value or "").found for value in values]
    assert all(found)  # each field carried something to remove
    expected = {HASHER.digest(kind, value) for pairs in found for kind, value in pairs}
    expected.add(HASHER.digest(ID_KIND, "cy@example.com"))  # the id as sent, for erasure by customer id
    assert set(redact(comment).identifiers) == expected
    assert HASHER.digest("phone", "+442079460958") in expected and HASHER.digest("card", "4111111111111111") in expected


def test_ids_and_channels_made_by_a_chat_platform_are_kept() -> None:
    teams = "19:c0ffee00112233445566778899aabbcc@thread.tacv2"
    comment = IncomingComment(
        text="hi", source="teams", external_id=f"{teams}:1700000000200", origin_channel=teams, platform_ids=True
    )
    result = redact(comment)
    assert (result.comment.external_id, result.comment.origin_channel) == (comment.external_id, teams)
    assert result.dedupe_key == f"teams:id:{teams}:1700000000200"


def test_the_key_without_an_id_is_the_text_as_sent_so_a_better_redactor_finds_the_same_comment() -> None:
    comment = IncomingComment(text="Order 12345678 was late", source="webhook")
    assert redact(comment).dedupe_key == redact(comment, PiiRedactor(digit_runs=6)).dedupe_key
    assert redact(comment).comment.text != redact(comment, PiiRedactor(digit_runs=6)).comment.text


def test_a_long_comment_is_cut_with_a_note_and_no_value_is_split_by_the_cut() -> None:
    filler = "The parcel was late again. "
    head = (filler * (MAX_KEPT // len(filler) + 1))[: MAX_KEPT - 10]
    text = head + " jane.doe@example.com " + "x" * 79_000  # the address straddles the cut
    result = redact(IncomingComment(text=text, source="csv"))
    assert result.comment.text == head + " [email] x … [cut: 78,999 more characters]"
    assert result.cut == len(text) - len(head + " jane.doe@example.com x")
    assert HASHER.digest("email", "jane.doe@example.com") in result.identifiers


def test_the_cut_never_leaves_half_a_placeholder() -> None:
    head = "y" * (MAX_KEPT - 3)
    result = redact(IncomingComment(text=head + " ann@example.com " + "z" * 5000, source="csv"))
    assert result.comment.text.startswith(head + " … [cut: ")


def test_a_comment_at_the_limit_is_kept_whole() -> None:
    text = "a" * MAX_KEPT
    result = redact(IncomingComment(text=text, source="csv"))
    assert result.comment.text == text and result.cut == 0
    longer = redact(IncomingComment(text="b" * (MAX_KEPT + CUT_MARGIN // 2), source="csv"))
    assert longer.comment.text == "b" * MAX_KEPT + f" … [cut: {CUT_MARGIN // 2:,} more characters]"
