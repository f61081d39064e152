"""Fixed story and digest views shared by the renderer tests (Slack, Teams, terminal) and their golden files."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from stories.models import DigestView, StoryView

RECEIVED = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)

# Mentions, links and markup a customer might type, on purpose or by pasting.
HOSTILE = (
    "<!channel> <!here> <!everyone> <@U024BE7LH> <#C024BE7LR|general> <!subteam^S0614TZR7> "
    "<https://evil.example/login|Reset your password> <at>Everyone</at> **bold** [click](https://evil.example) "
    "{{DATE(2017-02-14T06:00:00Z, SHORT)}} ``` > quoted & 'quoted' \x1b[2J\x1b]0;pwned\x07\u202eevil"
)

# A long, real-looking complaint (3,000+ characters) as customers paste them into surveys.
LONG_COMMENT = (
    "I have been a customer for six years and I have never written one of these before, but the last three "
    "months have been a mess & I want someone to actually read this. In December our invoice doubled without "
    "warning. Nobody told us the plan had changed; the email about the 'new pricing' went to an address that "
    "belongs to someone who left the company in 2021, which your own account page still shows as the billing "
    "contact even though we updated it twice. When I called, the first agent said the change was <automatic> "
    "and could not be undone. The second agent promised a refund within five working days. That was on "
    "January 9th. On January 30th I called again and was told there was no record of the promise. "
) * 5 + "Please, just call me back. 😡🙏🏽"

ARABIC = "لم يصل المبلغ المسترد بعد ثلاثة أسابيع، وخدمة العملاء لا ترد على الهاتف."
HEBREW = "ההחזר עדיין לא הגיע אחרי שלושה שבועות, ואף אחד לא עונה בטלפון."


def refund_story() -> StoryView:
    return StoryView(
        story_id=4211,
        title="Refund promised in January still missing",
        text=(
            "A six-year customer says an agent promised a refund within five days on 9 Jan & nobody "
            "has a record of it. Their invoice doubled in December without notice."
        ),
        sentiment="negative",
        sentiment_score=-0.82,
        source="nps-survey",
        received_at=RECEIVED,
        departments=("Finance", "Support"),
        themes=("refunds", "billing"),
        nps=2,
        csat=None,
        segment="Enterprise",
        permalink="https://acme.slack.com/archives/C024BE91L/p1709544600000100",
        reasons=("keyword 'refund'", "score nps<=6"),
    )


def finance_digest() -> DigestView:
    stories = (
        refund_story(),
        StoryView(
            story_id=4212,
            title="ما زال الاسترداد معلقاً",
            text=ARABIC,
            sentiment="negative",
            sentiment_score=-0.61,
            source="email",
            received_at=RECEIVED + timedelta(days=1),
            departments=("Finance",),
            themes=("refunds",),
            csat=1,
            segment="SMB",
            reasons=("keyword 'refund'",),
        ),
        StoryView(
            story_id=4213,
            title="Invoice portal is finally easy 🎉",
            text="A customer thanks the team: the new invoice portal let them download a year of PDFs in one go.",
            sentiment="positive",
            sentiment_score=0.9,
            source="app-review",
            received_at=RECEIVED + timedelta(days=2),
            departments=("Finance",),
            nps=10,
            csat=5,
        ),
    )
    return DigestView(
        department="Finance",
        period_start=datetime(2025, 3, 3, tzinfo=UTC),
        period_end=datetime(2025, 3, 10, tzinfo=UTC),
        stories=stories,
        total_in_period=7,
        open_commitments=2,
    )


def many_stories_digest(count: int, *, text: str = LONG_COMMENT, title: str | None = None) -> DigestView:
    """``count`` stories with long texts, the worst a department's digest can hold."""
    base = refund_story()
    stories = tuple(
        replace(
            base,
            story_id=5000 + i,
            title=title if title is not None else f"Story {i}: {HEBREW[:60]}",
            text=text,
            segment="Enterprise" * 5,
            reasons=tuple(f"keyword 'refund{i}'" for _ in range(4)),
        )
        for i in range(count)
    )
    return replace(finance_digest(), stories=stories, total_in_period=count)
