from __future__ import annotations

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from stories.models import Sentiment
from stories.ports import SentimentAnalyzer
from stories.sentiment import LexiconSentiment

ANALYZER = LexiconSentiment()
VADER = SentimentIntensityAnalyzer()


def label(text: str) -> str:
    return ANALYZER.analyze(text).label


def test_is_a_sentiment_analyzer() -> None:
    analyzer: SentimentAnalyzer = LexiconSentiment()
    assert analyzer.analyze("Great service, thank you!").label == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "The support agent sorted it out in five minutes. Brilliant service, thank you!",
        "Well made and it arrived early. I ordered another for my sister.",
        "True to size, well made, and it arrived early.",
    ],
)
def test_clear_praise_is_positive(text: str) -> None:
    result = ANALYZER.analyze(text)
    assert result.label == "positive"
    assert result.score > 0


@pytest.mark.parametrize(
    "text",
    [
        "The parcel never arrived and nobody answers my emails. I want a refund.",
        "Cheaply made, the seams ripped after one wash.",
        "I was on hold for an hour and the agent was rude.",
    ],
)
def test_clear_complaints_are_negative(text: str) -> None:
    result = ANALYZER.analyze(text)
    assert result.label == "negative"
    assert result.score < 0


@pytest.mark.parametrize(
    "text",
    [
        "Pretty print. Runs small and the fabric is itchy, so I am sending it back.",
        "The box looked nice. I was looking forward to it. It was flimsy and I returned it.",
        "Lovely colour, shame it runs large and looks boxy. Going back.",
    ],
)
def test_retail_complaints_plain_vader_misses_are_negative(text: str) -> None:
    assert VADER.polarity_scores(text)["compound"] >= 0.05  # plain VADER calls these positive
    assert label(text) == "negative"


def test_turn_of_thought_after_however_outweighs_the_opening() -> None:
    praise_first = "The staff were friendly and helpful. However, the order was late, damaged and missing a part."
    complaint_first = "The order was late, damaged and missing a part. However, the staff were friendly and helpful."
    assert ANALYZER.analyze(praise_first).score < ANALYZER.analyze(complaint_first).score
    assert label(praise_first) == "negative"


def test_long_comment_is_judged_by_its_balance_not_one_word() -> None:
    text = (
        "I love this brand. The jacket arrived two weeks late. The zip broke on day one. "
        "The sleeves are too short. Customer service never replied."
    )
    assert VADER.polarity_scores(text)["compound"] > 0  # one "love" tips plain VADER
    assert label(text) == "negative"


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "Order 12345.", "The package came on Tuesday."])
def test_empty_or_contentless_text_is_neutral(text: str) -> None:
    result = ANALYZER.analyze(text)
    assert result == Sentiment(label="neutral", score=0.0)


def test_score_sign_agrees_with_label() -> None:
    for text in [
        "Okay I guess.",
        "Not bad at all, decent value.",
        "It is fine but the sizing is a little off.",
        "Absolutely fantastic!",
        "Terrible, awful, never again.",
    ]:
        result = ANALYZER.analyze(text)
        assert -1 <= result.score <= 1
        if result.label == "positive":
            assert result.score > 0, text
        if result.label == "negative":
            assert result.score < 0, text


def test_neutral_band_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="neutral band"):
        LexiconSentiment(positive_from=0.1, negative_to=0.2)


def test_wider_band_makes_mild_praise_neutral() -> None:
    mild = "It is nice enough."
    assert label(mild) == "positive"
    assert LexiconSentiment(positive_from=0.9, negative_to=-0.9).analyze(mild).label == "neutral"


@pytest.mark.parametrize(
    "text",
    [
        "I didn't authorize this payment, please help.",
        "I still haven't received my refund.",
        "Can't get through to anyone and my card was declined again.",
        "Flight cancelled, stranded in Chicago overnight.",
        "You charged me twice and lost my bag.",
    ],
)
def test_service_complaints_without_sentiment_words_are_negative(text: str) -> None:
    assert label(text) == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "Great, another delay.",
        "Love being on hold for an hour.",
        "Thanks a lot for losing my bag.",
        "Wonderful, cancelled again.",
    ],
)
def test_praise_that_introduces_a_failure_is_sarcasm(text: str) -> None:
    assert VADER.polarity_scores(text)["compound"] > 0  # plain VADER reads the praise
    assert label(text) == "negative"


@pytest.mark.parametrize(
    "text",
    ["What time does the flight to Denver board?", "Please let me know when my card arrives."],
)
def test_questions_and_requests_are_neutral(text: str) -> None:
    assert label(text) == "neutral"


def test_thanks_for_help_stays_positive() -> None:
    assert label("Thanks for the quick help today, the agent sorted my booking.") == "positive"
