from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stories.models import SummaryInput
from stories.ports import Summarizer
from stories.summarize import OfflineSummarizer
from stories.summarize.frame import frame
from stories.summarize.offline import STORY_MAX, TITLE_MAX, headline, key_sentence, shorten
from stories.summarize.validate import unsupported

SUMMARIZER = OfflineSummarizer()


def one(text: str, **context: object) -> tuple[str, str]:
    item = SummaryInput(text=text, source=str(context.pop("source", "csv")), **context)  # type: ignore[arg-type]
    summary = SUMMARIZER.summarize([item])[0]
    assert summary.summarizer == "offline"
    return summary.title, summary.story


def test_is_a_summarizer_returning_one_summary_per_input_in_order() -> None:
    summarizer: Summarizer = OfflineSummarizer()
    assert summarizer.name == "offline"
    texts = ["The app crashes on login.", "Lovely staff in the Leeds store.", ""]
    summaries = summarizer.summarize([SummaryInput(text=t, source="csv") for t in texts])
    assert [s.title for s in summaries] == [
        "The app crashes on login",
        "Lovely staff in the Leeds store",
        "No written comment",
    ]


def test_story_keeps_what_happened_and_what_they_asked_for() -> None:
    text = (
        "@SouthwestAir tried to rebook online but it says that I have to pay $200 for difference in price. Please help"
    )
    title, story = one(text, source="twitter", sentiment="negative")
    assert story == (
        'A customer wrote on Twitter: "Tried to rebook online but it says that I have to pay $200 for difference '
        'in price. Please help"'
    )
    assert title == "It says that I have to pay $200 for difference in price"  # the problem, not the plea


def test_story_shows_the_sentence_with_the_words_routing_matched() -> None:
    text = (
        "The glass on the oven door shattered while I was cooking. We bought the oven in March. "
        "Nobody was hurt but it could have been a lot worse."
    )
    title, story = one(text, sentiment="negative", reasons=("keyword 'shattered'",))
    assert title == "The glass on the oven door shattered while I was cooking"
    assert "shattered" in story
    assert "Nobody was hurt but it could have been a lot worse." in story  # the impact
    title, _ = one(text, sentiment="negative", reasons=('phrase "bought the oven"',))
    assert title == "We bought the oven in March"  # whichever words routing quoted, the reader sees them


def test_the_routed_words_stay_in_view_when_their_sentence_is_long() -> None:
    text = "I " + "waited and waited for weeks " * 12 + "and then the screen cracked on the first day of use."
    _, story = one(text, reasons=("keyword 'cracked'",))
    assert len(story) <= STORY_MAX
    assert "cracked" in story


def test_impact_and_ask_join_what_happened_in_the_comments_order() -> None:
    text = (
        "I have been with you for years. My mortgage payment was applied to the wrong month. "
        "Now I have a late fee and my credit score dropped. Please reverse the fee."
    )
    _, story = one(text, source="webhook", reasons=("keyword 'mortgage'",))
    assert story == (
        'A customer wrote through our web form: "My mortgage payment was applied to the wrong month. Now I have a '
        'late fee and my credit score dropped. Please reverse the fee."'
    )


def test_greetings_handles_filler_and_repeated_words_are_tightened() -> None:
    title, story = one("Hi team!! @ShopCo so basically the the parcel arrived very very late!!! Thanks", source="slack")
    assert story == 'A customer wrote in Slack: "The parcel arrived very late!"'
    assert title == "The parcel arrived very late"
    _, story = one("The parcel came late. " * 5)
    assert story.count("The parcel came late.") == 1  # a repeated sentence is quoted once


def test_the_frame_reads_as_a_person_would_write_it() -> None:
    text = "The new invoice portal is confusing and I was charged twice."
    _, story = one(text, nps=3, segment="Enterprise", source="CSV survey", sentiment="negative")
    assert story == (
        "A customer wrote in a survey, NPS 3 (detractor), segment Enterprise: "
        '"The new invoice portal is confusing and I was charged twice."'
    )
    for source, place in [
        ("csv", "in a survey"),
        ("twitter", "on Twitter"),
        ("slack", "in Slack"),
        ("teams", "in Teams"),
        ("slack:manual", "in Slack, shared by a colleague"),
        ("email", "by e-mail"),
        ("trustpilot-reviews", "in a review"),
        ("kiosk", "through kiosk"),
    ]:
        _, story = one(text, source=source)
        assert story.startswith(f"A customer wrote {place}: "), (source, story)
        assert "via" not in story


def test_a_comment_in_another_language_is_quoted_as_written_and_says_its_language() -> None:
    text = "Bonjour, la livraison est arrivée avec deux semaines de retard et le carton était écrasé."
    title, story = one(text, language="fr", nps=2)
    assert story == (
        'A customer wrote in French in a survey, NPS 2 (detractor): "La livraison est arrivée avec deux semaines de '
        'retard et le carton était écrasé."'
    )
    assert title == "La livraison est arrivée avec deux semaines de retard et le carton était écrasé"
    _, story = one("Das Paket kam zu spät.", language="de-AT")
    assert story.startswith("A customer wrote in German in a survey:")
    _, story = one("The parcel came late.", language="en-GB")
    assert "English" not in story  # English is what a story is written in: nothing to say


def test_context_is_only_what_we_know() -> None:
    _, story = one("Delivery was quick and the driver was kind.", csat=5)
    assert story == 'A customer wrote in a survey, CSAT 5/5: "Delivery was quick and the driver was kind."'


def test_praise_picks_the_praising_sentence_when_sentiment_is_positive() -> None:
    text = "Ordered on Monday. The fitting room staff were wonderful and so helpful! Parking was a bit tight."
    assert key_sentence(text, sentiment="positive") == "The fitting room staff were wonderful and so helpful!"


def test_complaint_picks_the_complaining_sentence_when_sentiment_is_negative() -> None:
    text = "I love your brand and your lovely shops. Sadly the jacket ripped after a week and support ignored me."
    assert key_sentence(text, sentiment="negative") == ("Sadly the jacket ripped after a week and support ignored me.")


def test_every_word_of_the_story_comes_from_the_comment_or_the_framing() -> None:
    text = "Checkout froze twice; I gave up and bought elsewhere. Shame, the prices were good. Fix it please!"
    title, story = one(text, nps=2, segment="SMB", sentiment="negative")
    framing = set("a customer wrote in survey nps detractor segment smb 2".split())
    comment_words = {w.lower() for w in re.findall(r"\w+", text)}
    for word in re.findall(r"\w+", story + " " + title):
        assert word.lower() in comment_words | framing, word


@given(text=st.text(max_size=400), language=st.sampled_from([None, "fr", "en", "xx"]))
@settings(max_examples=200, deadline=None)
def test_no_story_holds_a_number_name_link_or_mention_the_comment_does_not(text: str, language: str | None) -> None:
    item = SummaryInput(text=text, source="csv", nps=4, language=language)
    summary = SUMMARIZER.summarize([item])[0]
    allowed = frame(source="csv", nps=4, csat=None, segment=None, language=language)
    assert unsupported(f"{summary.title}\n{summary.story}", comment=text, allowed=allowed) == []


def test_title_is_the_sentence_or_the_clause_that_names_the_problem() -> None:
    assert (
        headline("the delivery was late, and the box was crushed") == "The delivery was late, and the box was crushed"
    )
    assert headline("however, the staff were rude to my mother") == "The staff were rude to my mother"
    long = "I went to the shop on the high street on Saturday afternoon with my two children, and the staff were rude"
    assert headline(long) == "The staff were rude"
    assert headline(long, terms=("children",)) == long[: long.index(",")]  # the clause with the routed word


def test_long_sentence_is_trimmed_on_a_word_boundary_with_ellipsis() -> None:
    sentence = "The " + " ".join(["terrible", "awful"] * 30) + " service."
    title, story = one(sentence)
    assert len(title) <= TITLE_MAX
    assert len(story) <= STORY_MAX
    assert title.endswith("…")
    assert story.endswith('…"')
    assert "terrib…" not in story  # never cut inside a word


def test_shorten_cuts_text_without_spaces_where_it_must() -> None:
    assert shorten("あ" * 100, 10) == "あ" * 9 + "…"
    assert shorten("short", 10) == "short"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_comment_gets_a_story_that_says_so(text: str) -> None:
    title, story = one(text, nps=9)
    assert title == "No written comment"
    assert story == "A customer left no written comment in a survey, NPS 9 (promoter)."


def test_emoji_and_right_to_left_text_are_kept() -> None:
    title, story = one("😡😡 המשלוח הגיע באיחור של שבועיים והקופסה הייתה מעוכה. شكرا")
    assert title == "😡😡 המשלוח הגיע באיחור של שבועיים והקופסה הייתה מעוכה"
    assert "😡😡 המשלוח" in story
    _, story = one("👍👍👍")
    assert story == 'A customer wrote in a survey: "👍👍👍"'


def test_long_context_fields_cannot_push_the_story_over_its_limit() -> None:
    _, story = one("Fine.", source="x" * 500, segment="y" * 500, nps=10, csat=5)
    assert len(story) <= STORY_MAX
    assert '"Fine."' in story


def test_large_comment_is_summarised_within_limits() -> None:
    """Its time is bench/steps.py's (a benchmark, not a test: a loaded machine must not fail the suite)."""
    text = "The parcel came late and the box was crushed. " * 2300 + "Worst service I have ever had!"
    assert len(text) > 100_000
    title, story = one(text, sentiment="negative")
    assert title == "The parcel came late and the box was crushed"
    assert story.endswith('"The parcel came late and the box was crushed. … Worst service I have ever had!"')
    assert len(story) <= STORY_MAX


def test_ten_thousand_comments_each_get_a_summary() -> None:
    """Their time is bench/steps.py's (about 0.5 s on a quiet machine)."""
    items = [
        SummaryInput(
            text=f"Order {i} arrived late and the support team never answered my emails. Not happy.", source="csv"
        )
        for i in range(10_000)
    ]
    summaries = OfflineSummarizer().summarize(items)
    assert len(summaries) == 10_000
    assert all(s.summarizer == "offline" and s.title for s in summaries)


@given(text=st.text(max_size=600), nps=st.one_of(st.none(), st.integers(0, 10)), segment=st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_any_text_yields_a_title_and_story_within_limits(text: str, nps: int | None, segment: str) -> None:
    summary = SUMMARIZER.summarize([SummaryInput(text=text, source="slack", nps=nps, segment=segment)])[0]
    assert 0 < len(summary.title) <= TITLE_MAX
    assert 0 < len(summary.story) <= STORY_MAX
    assert summary == SUMMARIZER.summarize([SummaryInput(text=text, source="slack", nps=nps, segment=segment)])[0]


def test_a_long_complaint_gets_its_opening_and_a_title_from_what_the_quote_leaves_out() -> None:
    text = (
        "I took out a personal loan with your company in the spring of last year to cover a car repair. "
        "For months I paid on time by automatic transfer from my checking account without any trouble. "
        "In October your website stopped accepting my card, and the phone line kept me on hold for hours. "
        "You then charged me a late fee and reported the payment as late to the credit bureaus. "
        "I have screenshots of every attempt to pay and the confirmation emails from your own system. "
        "Please remove the late fee and correct what you told the credit bureaus."
    )
    title, story = one(text, sentiment="negative")
    assert len(story) <= STORY_MAX and len(title) <= TITLE_MAX
    assert '"I took out a personal loan with your company' in story  # what happened comes first
    assert "You then charged me a late fee" in story  # how it affected them
    assert not title.startswith("Please")  # a title names the problem, not the plea
    quoted = story.split('"', 1)[1]
    assert title.rstrip("…") not in quoted  # the title adds what the quote could not hold
    assert title.casefold().rstrip("…") in text.casefold()  # and is still the customer's words


def test_room_left_in_a_story_takes_the_next_sentence_cut_on_a_word() -> None:
    text = (
        "The courier left my parcel in the rain outside the building. "
        "Everything inside the box was soaked through, including the printed documents and the two cotton shirts "
        "that I had ordered for a wedding on the following weekend in another city, and nobody from your support "
        "team has answered any of my three emails about it since then."
    )
    _, story = one(text, sentiment="negative")
    assert story.startswith(
        'A customer wrote in a survey: "The courier left my parcel in the rain outside the building.'
    )
    assert story.endswith('…"') and len(story) <= STORY_MAX
