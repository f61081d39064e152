"""Customer text as Slack mrkdwn: data, never markup.

Slack reads ``&``, ``<`` and ``>`` as control characters: ``<!channel>``, ``<!here>``, ``<@U123>``,
``<#C123>``, ``<!subteam^S1>`` and ``<https://evil|click>`` all start with ``<``, and a line starting with
``>`` is a quote. Escaping the three (as Slack documents) makes every one of them plain text.

Decisions:

- The formatting characters ``*``, ``_``, ``~`` and backticks are left alone. Slack has no way to escape
  them, they cannot notify anyone or hide a link, and each text object is formatted on its own, so a stray
  ``*`` in a comment can at worst embolden part of that comment. Inserting invisible characters to stop it
  would corrupt copy, paste and search.
- Every text object holding customer text is sent with ``verbatim: true`` (see :func:`text_object`): without
  it Slack links bare URLs and channel names and parses some bare mentions by itself.
- Control characters and bidi overrides are dropped first (:func:`stories.presentation.clean_text`).
"""

from __future__ import annotations

import re

from slack_sdk.models.blocks import MarkdownTextObject

from stories.actors import SLACK_USER_ID
from stories.presentation import clean_text, web_link
from stories.presentation import truncate as _truncate

# A mention as Slack writes it in message text: ``<@U0123ABCD>`` or ``<@U0123ABCD|ana>`` (id, label).
MENTION = re.compile(rf"<@({SLACK_USER_ID})(?:\|([^>]*))?>")

SECTION_LIMIT = 3000  # characters in a section's text (Block Kit)
LINK_LIMIT = 600  # a link's mrkdwn (escaped URL and label); longer ones are left out, not cut
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPE_RE = re.compile("[&<>]")
_ENTITY = re.compile("&(?:amp|lt|gt);")


def escape(text: str) -> str:
    """``text`` with Slack's control characters escaped, so it reads exactly as typed."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group()], text)


def truncate(text: str, limit: int) -> str:
    """Escaped mrkdwn cut to at most ``limit`` characters with an ellipsis, never inside ``&amp;``/``&lt;``/``&gt;``.

    Escape first, then truncate: the limit is Slack's, which counts the escaped text.
    """
    return _truncate(text, limit, atomic=_ENTITY)


def safe(text: str, limit: int = SECTION_LIMIT) -> str:
    """Customer text, cleaned, escaped and cut to ``limit``: the one way customer text enters mrkdwn."""
    return truncate(escape(clean_text(text)), limit)


def link(url: str | None, label: str) -> str | None:
    """A ``<url|label>`` link for an http(s) URL, or None for anything else (``javascript:``, ``slack://``,
    an address longer than :data:`LINK_LIMIT` once escaped...)."""
    web = web_link(url)
    if web is None:
        return None
    linked = f"<{escape(web).replace('|', '%7C')}|{escape(label)}>"
    return linked if len(linked) <= LINK_LIMIT else None


def text_object(text: str) -> MarkdownTextObject:
    """A mrkdwn text object that Slack does not auto-link or auto-mention (``verbatim``)."""
    return MarkdownTextObject(text=text, verbatim=True)
