"""Messages as Teams really sends them, over HTTP: a formatted message's HTML in ``text`` (the new Teams client
wraps even plain typing in ``<p>``), ``&nbsp;`` and entities, other case, quotes around a department, ``/cx``.
A command is still a command, and an intake channel's comment is the words, never the markup."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Comment, Department
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import FINANCE, Server, World


def _finance_channel(cx: Server) -> str | None:
    with cx.app.engine.connect() as conn:
        return conn.scalar(select(Department.teams_channel).where(Department.name == "Finance & Billing"))


@pytest.mark.parametrize(
    "text",
    [
        "<p><at>cxbot</at> cx link finance</p>",
        "<div><div><at>cxbot</at>&nbsp;CX&nbsp; Link&nbsp;&nbsp;FINANCE</div></div>",
        "<at>cxbot</at> cx link &quot;Finance &amp; Billing&quot;",
        "<at>cxbot</at> cx link “finance”",
        "<at>cxbot</at> cx link &lt;finance&gt;",  # README's `cx link <department>` typed as shown
        "<at>cxbot</at> /cx link finance",
    ],
)
async def test_cx_link_as_a_teams_admin_types_it_links_the_channel(
    cx: Server, world: World, connector: FakeConnector, text: str
) -> None:
    assert (await cx.post(world.load("message_cx_link", text=text)))[0] == 200
    assert _finance_channel(cx) == FINANCE
    [answer] = connector.posts()
    assert "now receives Finance & Billing" in answer.payload_text()


async def test_a_formatted_intake_message_becomes_its_words_without_markup(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    html = (
        "<p>A customer called: my <strong>refund</strong> for invoice 4711 &amp; the fee</p>"
        "<ul><li>has <em>not</em> arrived</li></ul><p>nobody answers&nbsp;the phone "
        '<img alt="😠" itemtype="http://schema.skype.com/Emoji" src="https://x.test/e.png"> &lt;sigh&gt;</p>'
    )
    message = world.load("message_intake", text=html, textFormat="xml")
    message["attachments"] = [{"contentType": "text/html", "content": html}]
    assert (await cx.post(message))[0] == 200
    with cx.app.engine.connect() as conn:
        [comment] = conn.execute(select(Comment)).all()
    assert comment.redacted_text == (
        "A customer called: my refund for invoice 4711 & the fee - has not arrived nobody answers the phone 😠 <sigh>"
    )
    assert "Sent to Finance & Billing." in connector.posts()[0].payload_text()


async def test_a_card_posted_in_an_intake_channel_becomes_the_words_it_shows(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    """A survey response posted as an Adaptive Card (Teams Workflows): no ``text``, the words are in the card."""
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": "**New survey response** from [the web form](https://forms.x.test/r/9)"},
            {"type": "FactSet", "facts": [{"title": "Score", "value": "2"}, {"title": "Channel", "value": "Web"}]},
            {
                "type": "Container",
                "items": [
                    {
                        "type": "RichTextBlock",
                        "inlines": [{"type": "TextRun", "text": "My refund for invoice 4711 never came <at>x</at>"}],
                    }
                ],
            },
            {"type": "Input.Text", "id": "note", "placeholder": "not customer text"},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open in the survey tool", "url": "https://forms.x.test/r/9"}],
    }
    message = world.load("message_intake", text="")
    message["attachments"] = [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]
    assert (await cx.post(message))[0] == 200
    with cx.app.engine.connect() as conn:
        [comment] = conn.execute(select(Comment)).all()
    assert comment.redacted_text.splitlines() == [
        "New survey response from the web form (https://forms.x.test/r/9)",
        "Score: 2",
        "Channel: Web",
        "My refund for invoice 4711 never came @x",
    ]
    assert "Sent to Finance & Billing." in connector.posts()[0].payload_text()


async def test_the_welcome_in_a_team_says_to_mention_the_bot_by_the_name_teams_shows(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    """Without consent to read channel messages Teams delivers only messages that @mention the bot."""
    added = world.load("conversation_update_bot_added")
    added["recipient"]["name"] = "CX Stories"  # the tenant's name for the app
    assert (await cx.post(added))[0] == 200
    [hello] = connector.posts()
    assert "“@CX Stories cx link " in hello.payload_text()


async def test_a_quoted_reply_in_an_intake_channel_is_taken_in_without_the_quoted_message(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    """Teams puts the message replied to in a ``Reply`` blockquote; those words are another message's comment."""
    html = (
        '<blockquote itemscope="" itemtype="http://schema.skype.com/Reply" itemid="1700000000100">'
        '<strong itemprop="mri" itemid="8:orgid:d4a0b1c2">Dana Scully</strong>'
        '<span itemprop="time" itemid="1700000000100"></span>'
        '<p itemprop="preview">My refund for invoice 4711 has not arrived</p></blockquote>'
        '<p>Same customer again: the courier left the <a href="https://x.test/o/1">parcel</a> in the rain</p>'
    )
    assert (await cx.post(world.load("message_intake", text=html)))[0] == 200
    with cx.app.engine.connect() as conn:
        [comment] = conn.execute(select(Comment)).all()
    assert comment.redacted_text == (
        "Same customer again: the courier left the parcel (https://x.test/o/1) in the rain"
    )
