"""The digest in a terminal: the same words as in chat, and no escape sequence from a comment reaches the screen."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from bot.terminal import digest_text, print_digest
from tests.render_examples import ARABIC, HOSTILE, finance_digest, refund_story

BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_digest_text_reads_like_the_chat_message() -> None:
    story = replace(refund_story(), reasons=(), themes=(), text="Refund late.\nStill waiting & angry.")
    digest = replace(finance_digest(), stories=(story,), total_in_period=1, open_commitments=1)
    assert digest_text(digest) == (
        "Finance: customer stories, 3–9 Mar 2025\n"
        "1 new story · 1 open commitment\n"
        "\n"
        "1. Refund promised in January still missing\n"
        "   Refund late.\n"
        "   Still waiting & angry.\n"
        "   Story #4211 · NPS 2 (detractor) · Sentiment: negative · Source: nps-survey · Segment: Enterprise"
        " · Received 4 Mar 2025 · Sent to: Finance, Support\n"
        "   Original message: https://acme.slack.com/archives/C024BE91L/p1709544600000100\n"
        "   [I'll follow up]  [Not for us]\n"
    )


def test_digest_text_numbers_every_story_and_counts_the_rest() -> None:
    text = digest_text(finance_digest())
    assert "\n1. Refund promised in January still missing\n" in text
    assert "\n2. ما زال الاسترداد معلقاً\n" in text
    assert f"   {ARABIC}\n" in text
    assert "\n3. Invoice portal is finally easy 🎉\n" in text
    assert "   Why here: keyword 'refund'; score nps<=6\n" in text
    assert text.endswith("\nand 4 more stories\n")
    assert text.count("[I'll follow up]  [Not for us]") == 3


def test_comment_escape_sequences_never_reach_the_terminal() -> None:
    hostile = replace(refund_story(), title="Boom\x1b]0;owned\x07 \x9b31m", text=HOSTILE + "\x1b[31mred\x1b[0m")
    digest = replace(finance_digest(), stories=(hostile,))
    text = digest_text(digest)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text and "\u202e" not in text
    assert "Boom]0;owned 31m" in text  # the printable rest is shown as typed
    assert "<!channel> <!here>" in text and "<at>Everyone</at> **bold**" in text


def test_printed_digest_keeps_rich_markup_and_control_characters_literal_out() -> None:
    story = replace(refund_story(), title="[bold red]Refund[/bold red] :smile:", text=HOSTILE)
    digest = replace(finance_digest(), stories=(story,))
    plain = io.StringIO()
    print_digest(Console(file=plain, width=200, force_terminal=False, color_system=None), digest)
    shown = plain.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown
    assert "[bold red]Refund[/bold red] :smile:" in shown
    assert "and 6 more stories" in shown

    styled = io.StringIO()
    print_digest(Console(file=styled, width=200, force_terminal=True, color_system="truecolor"), digest)
    out = styled.getvalue()
    assert "\x1b[2J" not in out and "\x1b]0;" not in out and "\x07" not in out
    assert "[bold red]Refund[/bold red]" in out


@settings(deadline=None, max_examples=150)
@given(title=st.text(max_size=40), text=st.text(max_size=200), segment=st.text(max_size=20))
def test_no_control_character_survives_any_comment(title: str, text: str, segment: str) -> None:
    story = replace(refund_story(), title=title, text=text, segment=segment or None)
    shown = digest_text(replace(finance_digest(), stories=(story,)))
    for ch in shown:
        assert ch in "\n\t" or unicodedata.category(ch) != "Cc", repr(ch)
        assert ch not in BIDI_CONTROLS, repr(ch)
