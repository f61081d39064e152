"""Block Kit rendering: golden payloads, Slack's limits, and customer text that never becomes markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.slack.blocks import (
    FOLLOW_UP_ACTION,
    HEADER_LIMIT,
    MAX_BLOCKS,
    NOT_FOR_US_ACTION,
    digest_blocks,
    fallback_text,
    story_blocks,
)
from handlers.slack.mrkdwn import SECTION_LIMIT, escape, safe, truncate
from handlers.slack.views import follow_up_modal, reroute_modal
from tests.golden import assert_matches_golden
from tests.render_examples import (
    ARABIC,
    HEBREW,
    HOSTILE,
    LONG_COMMENT,
    finance_digest,
    many_stories_digest,
    refund_story,
)

FORBIDDEN = ("<!channel>", "<!here>", "<!everyone>", "<@U", "<#C", "<!subteam")
FRAGMENTS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U024BE7LH>",
    "<#C024BE7LR>",
    "<https://evil.example|click>",
    "&",
    "&amp;",
    "&lt;",
    "<",
    ">",
    "!",
    "@",
    "*",
    "\x1b[31m",
    "\u202e",
    "😡",
    "🇩🇪",
    ARABIC[:12],
)
customer_text = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(FRAGMENTS)), max_size=12).map("".join)
_ENTITY_START = re.compile(r"&(?!amp;|lt;|gt;)")


def texts(payload: object) -> Iterator[str]:
    """Every text a Slack surface shows or parses: the ``text`` of text objects and plain strings under it."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from texts(item)


def mrkdwn_objects(payload: object) -> Iterator[dict]:
    if isinstance(payload, dict):
        if payload.get("type") == "mrkdwn":
            yield payload
        for value in payload.values():
            yield from mrkdwn_objects(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from mrkdwn_objects(item)


def sections(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


# 1. mrkdwn escaping and truncation


def test_escape_makes_mentions_and_links_plain_text() -> None:
    assert escape("<!channel> & <@U123> <https://evil|click>") == (
        "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt;"
    )


def test_escape_leaves_formatting_and_other_text_alone() -> None:
    assert escape("*bold* _it_ ~s~ `code` 😡 " + HEBREW) == "*bold* _it_ ~s~ `code` 😡 " + HEBREW


def test_truncate_keeps_text_within_the_limit_unchanged() -> None:
    assert truncate("&lt;3 refunds", 13) == "&lt;3 refunds"


@pytest.mark.parametrize("limit", range(1, 20))
def test_truncate_never_cuts_an_escape_sequence_in_half(limit: int) -> None:
    escaped = escape("a<b>&c<<>>&&")
    cut = truncate(escaped, limit)
    assert len(cut) <= limit
    assert not _ENTITY_START.search(cut), cut
    assert escaped.startswith(cut.removesuffix("…").rstrip())


def test_truncate_cuts_at_the_entity_not_inside_it() -> None:
    assert truncate("ab &amp; cd", 6) == "ab…"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("ok 👍🏽 fine", 5, "ok…"),  # the skin tone stays with its thumb
        ("go 🇩🇪🇫🇷", 6, "go 🇩🇪…"),  # flags are pairs of regional indicators
        ("x 👩\u200d💻 y", 4, "x…"),  # a ZWJ sequence is not left hanging on its joiner
        ("مَرْحَبًا", 3, "مَ…"),  # Arabic vowel marks stay with their letter
    ],
)
def test_truncate_cuts_between_graphemes(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


@settings(deadline=None)
@given(text=customer_text, limit=st.integers(min_value=1, max_value=80))
def test_truncated_escaped_text_is_a_prefix_with_whole_entities(text: str, limit: int) -> None:
    escaped = escape(text)
    cut = truncate(escaped, limit)
    assert len(cut) <= limit
    assert not _ENTITY_START.search(cut)
    assert escaped.startswith(cut.removesuffix("…").rstrip()) or cut == escaped


@settings(deadline=None)
@given(text=customer_text)
def test_escaped_text_reads_as_typed(text: str) -> None:
    unescaped = escape(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == text


def test_safe_drops_terminal_escapes_and_bidi_overrides() -> None:
    assert safe("ok\x1b[2J\u202eevil\x00") == "ok[2Jevil"


# 2. Golden payloads


def test_story_blocks_match_golden() -> None:
    blocks = story_blocks(refund_story(), note="Dana will follow up: call the customer by Fri 7 Mar")
    assert_matches_golden("slack/blocks_story.json", blocks)


def test_digest_blocks_match_golden() -> None:
    assert_matches_golden("slack/blocks_digest_finance.json", digest_blocks(finance_digest()))


def test_follow_up_modal_matches_golden() -> None:
    assert_matches_golden("slack/views_open_follow_up.json", follow_up_modal(4211, owner_user_id="U024BE7LH"))


def test_reroute_modal_matches_golden() -> None:
    modal = reroute_modal(4211, ["Finance", "Product", "R&D", "Support"])
    assert_matches_golden("slack/views_open_reroute.json", modal)


# 3. What a story and a digest show


def test_story_buttons_carry_the_story_id() -> None:
    actions = [b for b in story_blocks(refund_story()) if b["type"] == "actions"]
    assert len(actions) == 1
    buttons = {e["action_id"]: e for e in actions[0]["elements"]}
    assert set(buttons) == {FOLLOW_UP_ACTION, NOT_FOR_US_ACTION}
    assert {e["value"] for e in buttons.values()} == {"4211"}
    assert buttons[FOLLOW_UP_ACTION]["text"]["text"] == "I'll follow up"
    assert buttons[NOT_FOR_US_ACTION]["text"]["text"] == "Not for us"


def test_story_without_actions_shows_its_note_and_no_buttons() -> None:
    blocks = story_blocks(refund_story(), with_actions=False, note="Dana will follow up: call <b> by Fri")
    assert all(b["type"] != "actions" for b in blocks)
    assert blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Dana will follow up: call &lt;b&gt; by Fri", "verbatim": True}],
    }


def test_story_blocks_show_the_customers_date_when_it_differs_from_the_day_it_arrived() -> None:
    old = replace(refund_story(), original_at=refund_story().received_at.replace(year=2019))
    assert "Written 4 Mar 2019 · Received 4 Mar 2025" in "\n".join(texts(story_blocks(old)))


def test_story_context_says_why_it_reached_the_department() -> None:
    shown = "\n".join(texts(story_blocks(refund_story())))
    assert "Why here: keyword 'refund'; score nps&lt;=6" in shown
    assert "NPS 2 (detractor)" in shown
    assert "Themes: refunds, billing" in shown
    assert "Segment: Enterprise" in shown


def test_story_without_optional_facts_has_no_empty_lines() -> None:
    bare = replace(refund_story(), themes=(), reasons=(), permalink=None, segment=None, nps=None, departments=())
    blocks = story_blocks(bare)
    assert [b["type"] for b in blocks] == ["section", "context", "actions"]
    assert blocks[1]["elements"][0]["text"] == (
        "Story #4211 · Sentiment: negative · Source: nps-survey · Received 4 Mar 2025"
    )


def test_permalink_links_only_web_addresses_and_is_escaped() -> None:
    linked = story_blocks(replace(refund_story(), permalink="https://x.example/a?b=1&c=<2>|3"))
    assert "<https://x.example/a?b=1&amp;c=&lt;2&gt;%7C3|Original message>" in list(texts(linked))
    for url in ("javascript:alert(1)", "slack://open", "https://x.example/a b"):
        shown = "\n".join(texts(story_blocks(replace(refund_story(), permalink=url))))
        assert "Original message" not in shown


def test_overlong_permalink_is_left_out_rather_than_breaking_the_limits() -> None:
    story = replace(refund_story(), permalink="https://x.example/?" + "&a=<b>" * 80, reasons=("r" * 4000,))
    for blocks in (story_blocks(story), digest_blocks(replace(finance_digest(), stories=(story,)))):
        assert "Original message" not in "\n".join(texts(blocks))
        assert all(len(t) <= SECTION_LIMIT for t in sections(blocks))


def test_every_mrkdwn_object_is_verbatim() -> None:
    payloads = [story_blocks(refund_story(), note="n"), digest_blocks(finance_digest())]
    objects = [o for p in payloads for o in mrkdwn_objects(p)]
    assert objects
    assert all(o.get("verbatim") is True for o in objects)


def test_fallback_text_is_escaped_and_one_short_line() -> None:
    story = replace(refund_story(), title="Refund <!channel>\nnow " + "x" * 500)
    text = fallback_text(story)
    assert text.startswith("Customer story: Refund &lt;!channel&gt; now x")
    assert len(text) <= 300
    assert "\n" not in text
    assert fallback_text(finance_digest()) == "Finance digest: 7 new stories · 2 open commitments"


def test_digest_says_how_many_stories_it_leaves_out() -> None:
    blocks = digest_blocks(finance_digest())
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Finance: customer stories, 3–9 Mar 2025"},
    }
    assert blocks[1]["elements"][0]["text"] == "7 new stories · 2 open commitments"
    assert blocks[-1]["elements"][0]["text"] == "and 4 more stories"
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert values == ["4211", "4211", "4212", "4212", "4213", "4213"]


def test_empty_digest_has_header_and_summary_only() -> None:
    empty = replace(finance_digest(), stories=(), total_in_period=0, open_commitments=0)
    blocks = digest_blocks(empty)
    assert [b["type"] for b in blocks] == ["header", "context"]
    assert blocks[1]["elements"][0]["text"] == "No new stories · no open commitments"


# 4. Slack's limits with long, emoji and right-to-left text


def test_long_story_is_cut_to_a_section_with_an_ellipsis() -> None:
    story = replace(refund_story(), text=LONG_COMMENT * 2)
    (text,) = sections(story_blocks(story))
    assert len(text) == SECTION_LIMIT
    assert text.endswith("…")
    assert not _ENTITY_START.search(text)


def test_twenty_long_stories_fit_fifty_blocks_with_a_closing_note() -> None:
    digest = many_stories_digest(20)
    blocks = digest_blocks(digest)
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= SECTION_LIMIT for t in sections(blocks))
    shown = [b for b in blocks if b["type"] == "actions"]
    assert len(shown) == 15
    assert blocks[-1]["elements"][0]["text"] == "and 5 more stories"
    assert HEBREW[:60] in sections(blocks)[0]


def test_digest_that_fits_shows_every_story_and_no_note() -> None:
    digest = many_stories_digest(15)
    blocks = digest_blocks(digest)
    assert len([b for b in blocks if b["type"] == "actions"]) == 15
    assert "more stor" not in "\n".join(texts(blocks))


def test_long_department_name_is_cut_to_the_header_limit() -> None:
    digest = replace(finance_digest(), department="Customer Operations & Billing " * 10)
    header = digest_blocks(digest)[0]["text"]["text"]
    assert len(header) <= HEADER_LIMIT
    assert header.endswith("…")


@pytest.mark.parametrize("text", [ARABIC * 60, HEBREW * 60, "😡🙏🏽🇩🇪👩\u200d💻" * 600, "<&>" * 1200])
def test_section_limit_holds_for_any_script(text: str) -> None:
    story = replace(refund_story(), title=text[:200], text=text)
    for blocks in (story_blocks(story), digest_blocks(replace(finance_digest(), stories=(story,) * 20))):
        assert len(blocks) <= MAX_BLOCKS
        assert all(len(t) <= SECTION_LIMIT for t in sections(blocks))


def test_reroute_modal_refuses_an_empty_or_oversized_menu() -> None:
    with pytest.raises(ValueError, match="no other department"):
        reroute_modal(1, [])
    with pytest.raises(ValueError, match="at most 100"):
        reroute_modal(1, [f"D{i}" for i in range(101)])


# 5. Properties: customer text never becomes a mention, a link or markup


def _assert_no_markup(payload: object) -> None:
    for text in texts(payload):
        for forbidden in FORBIDDEN:
            assert forbidden not in text, (forbidden, text)
        assert "<" not in text and ">" not in text, text
        assert "\x1b" not in text


@settings(deadline=None, max_examples=150)
@given(
    title=customer_text,
    text=customer_text,
    segment=customer_text,
    source=customer_text,
    theme=customer_text,
    reason=customer_text,
    note=customer_text,
)
def test_customer_text_never_reaches_block_kit_unescaped(
    title: str, text: str, segment: str, source: str, theme: str, reason: str, note: str
) -> None:
    story = replace(
        refund_story(),
        title=title,
        text=text,
        segment=segment or None,
        source=source,
        themes=(theme,),
        reasons=(reason,),
        departments=(theme,),
        permalink=None,
    )
    _assert_no_markup(story_blocks(story, note=note or None))
    _assert_no_markup(digest_blocks(replace(finance_digest(), stories=(story,) * 3)))
    _assert_no_markup([{"text": fallback_text(story)}])


def test_hostile_comment_reads_as_typed_and_pings_nobody() -> None:
    story = replace(refund_story(), title=HOSTILE[:80], text=HOSTILE, permalink=None)
    blocks = story_blocks(story)
    _assert_no_markup(blocks)
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;@U024BE7LH&gt;" in sections(blocks)[0]
