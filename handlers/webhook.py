"""``POST /ingest``: one comment or a list, as JSON. Parsing only; the server wires auth and limits.

Accepted shapes: ``{"text": ...}``, ``[{"text": ...}, ...]`` or ``{"comments": [...]}``. Fields: text
(required), id, date (ISO 8601), nps (0-10), csat (1-5), segment, channel, language, source, fields (object
of strings for routing rules).
"""

from __future__ import annotations

import json
from typing import Any

from handlers.csv_import import parse_date
from stories.models import IncomingComment, InvalidComment
from stories.pipeline import validate

MAX_BODY = 1_048_576  # 1 MB
MAX_ITEMS = 1_000
_KNOWN = {"text", "id", "date", "nps", "csat", "segment", "channel", "language", "source", "fields"}


class WebhookError(ValueError):
    """Bad request: ``status`` and a message naming the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_body(body: bytes) -> list[IncomingComment]:
    if len(body) > MAX_BODY:
        raise WebhookError(413, f"body is {len(body)} bytes; the limit is {MAX_BODY} (1 MB): send smaller batches")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise WebhookError(400, "body is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise WebhookError(400, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:  # the decoder gives up on deep nesting (a few hundred KB of "[" is enough)
        raise WebhookError(400, "JSON nested too deeply; a comment is an object of plain fields") from None
    if isinstance(data, dict) and "comments" in data:
        data = data["comments"]
    items = data if isinstance(data, list) else [data]
    if not items:
        raise WebhookError(400, "no comments: send an object with a 'text' field or a list of them")
    if len(items) > MAX_ITEMS:
        raise WebhookError(413, f"{len(items)} comments in one request; the limit is {MAX_ITEMS}")
    return [_comment(item, index=i, many=len(items) > 1) for i, item in enumerate(items)]


def _comment(item: Any, *, index: int, many: bool) -> IncomingComment:
    where = f"comments[{index}]" if many else "body"
    if not isinstance(item, dict):
        raise WebhookError(400, f"{where}: expected an object with a 'text' field, got {type(item).__name__}")
    unknown = sorted(set(item) - _KNOWN)
    if unknown:
        raise WebhookError(400, f"{where}: unknown field(s) {unknown}; known fields are {sorted(_KNOWN)}")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise WebhookError(400, f"{where}.text: missing or empty; every comment needs its text")
    try:
        source = _optional_str(item, "source", where) or "webhook"
        fields = item.get("fields") or {}
        if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
            raise WebhookError(400, f"{where}.fields: must be an object of strings")
        comment = IncomingComment(
            text=text,
            source=source if source.startswith("webhook") else f"webhook:{source}"[:40],
            external_id=_optional_str(item, "id", where, allow_int=True),
            original_at=parse_date(_optional_str(item, "date", where)),
            segment=_optional_str(item, "segment", where),
            origin_channel=_optional_str(item, "channel", where),
            nps=_optional_int(item, "nps", where),
            csat=_optional_int(item, "csat", where),
            language=_optional_str(item, "language", where),
            fields=fields,
        )
        validate(comment)
        return comment
    except InvalidComment as exc:
        raise WebhookError(400, f"{where}.{exc.field}: {exc.message}") from None


def _optional_str(item: dict[str, Any], name: str, where: str, *, allow_int: bool = False) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise WebhookError(400, f"{where}.{name}: must be a string")
    return value.strip() or None


def _optional_int(item: dict[str, Any], name: str, where: str) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise WebhookError(400, f"{where}.{name}: must be a whole number")
    return value
