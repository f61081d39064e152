"""The loop told back: when a commitment closes, the people who passed the customer's comment on hear what came
of it, and so does the CX team.

Who hears what (:func:`loop_deliveries`):

- done: everyone who raised the story (its :class:`stories.models.Origin` rows): a reply in the intake message's
  thread when it came from an intake channel, a direct message to whoever sent it with the message shortcut or
  ``/cx story``; and one line in the CX team's channel (the default department's, on each platform it has one).
- dropped: the people who raised it are not told (a drop is often a duplicate or a re-plan, and "nobody will act"
  is not news they can use); the CX team's channel hears it only when the drop leaves the story with no open or
  done commitment, since then nobody is following the customer's comment up any more.

Every message is planned from one neutral :class:`stories.views.LoopClosed` and worded by :func:`loop_text`, the
same on Slack and Teams; keys name the commitment and the recipient, so closing twice (a retried click, a ✅
after the Done button) tells nobody twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Literal

from stories.models import Origin
from stories.outbox import Outgoing
from stories.presentation import truncate
from stories.views import LoopClosed

Audience = Literal["raiser", "cx_team"]
WHAT = 300  # characters of the commitment quoted


def origin_address(origin: Origin, user_or_channel: str) -> str:
    """A channel or user id as the notifier finds it: a Slack id with its workspace when known (``T0ACME/C0FIN``
    selects that workspace's token); Teams ids as they are."""
    if origin.platform == "slack" and origin.workspace:
        return f"{origin.workspace}/{user_or_channel}"
    return user_or_channel


def loop_text(view: LoopClosed, *, to: Audience) -> str:
    """What the loop says, plain text (renderers escape it). The same words on every platform."""
    story = f"“{view.story_title}” (story #{view.story_id})"
    who = view.owner_name or "A colleague"
    where = f" in {view.department}" if view.department else ""
    what = truncate(view.what, WHAT)
    if view.state == "dropped":
        return (
            f"{who}{where} dropped their follow-up on {story}: {what}. Nobody is following this customer's comment "
            "up now; pick it up or pass it to another department."
        )
    if to == "raiser":
        return (
            f"Update on the customer comment you passed on, {story}: {who}{where} followed up: {what}. "
            "Thank you for passing it on."
        )
    told = []
    if view.threads:
        told.append(_count(view.threads, "intake thread"))
    if view.direct:
        told.append(_count(view.direct, "person who sent it in", "people who sent it in"))
    heard = f" Told {' and '.join(told)}." if told else " It came in with no chat message to answer."
    return f"Loop closed on {story}: {who}{where} followed up: {what}.{heard}"


def loop_deliveries(
    *,
    view: LoopClosed,
    origins: Iterable[Origin],
    cx_channels: Mapping[str, str],
    commitment_id: int,
    story_id: int,
    others_open_or_done: bool,
) -> list[Outgoing]:
    """What goes out when commitment ``commitment_id`` closes (see the module docstring for who hears what).

    ``cx_channels`` is the CX team's ``platform -> channel``; ``others_open_or_done``: the story has another
    commitment still open or done (a drop then leaves the customer followed up).
    """
    if view.state == "dropped":
        if others_open_or_done:
            return []
        return _cx_lines(view, cx_channels, key=f"loop:{commitment_id}:dropped", story_id=story_id)
    replies: dict[str, Outgoing] = {}
    direct: dict[str, Outgoing] = {}
    raiser = loop_text(view, to="raiser")
    for origin in origins:
        if origin.via == "channel" and origin.channel:
            key = f"loop:{commitment_id}:thread:{origin.platform}:{origin.channel}:{origin.thread or ''}"
            replies.setdefault(
                key,
                Outgoing(
                    key=key,
                    kind="reply",
                    platform=origin.platform,
                    channel=origin_address(origin, origin.channel),
                    story_id=story_id,
                    payload={"text": raiser, "thread": origin.thread} if origin.thread else {"text": raiser},
                ),
            )
        else:
            key = f"loop:{commitment_id}:dm:{origin.platform}:{origin.sender}"
            direct.setdefault(
                key,
                Outgoing(
                    key=key,
                    kind="dm",
                    platform=origin.platform,
                    channel=origin_address(origin, origin.sender),
                    story_id=story_id,
                    payload={"text": raiser},
                ),
            )
    counted = dataclasses.replace(view, threads=len(replies), direct=len(direct))
    cx = _cx_lines(counted, cx_channels, key=f"loop:{commitment_id}:cx", story_id=story_id)
    return [*replies.values(), *direct.values(), *cx]


def _cx_lines(view: LoopClosed, cx_channels: Mapping[str, str], *, key: str, story_id: int) -> list[Outgoing]:
    text = loop_text(view, to="cx_team")
    return [
        Outgoing(
            key=f"{key}:{platform}:{channel}",
            kind="text",
            platform=platform,
            channel=channel,
            story_id=story_id,
            payload={"text": text},
        )
        for platform, channel in sorted(cx_channels.items())
        if channel
    ]


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"
