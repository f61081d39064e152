"""``POST /ingest``: one comment or a list, as JSON. Parsing only; the server wires auth, content type and limits.

Accepted shapes: ``{"text": ...}``, ``[{"text": ...}, ...]`` or ``{"comments": [...]}``. Fields: text
(required), id, date (ISO 8601), nps (0-10), csat (1-5), segment, channel, language, source, fields (object
of strings for routing rules).

A batch is taken in item by item: a malformed item is refused with its index, its field and the fix, and the
others are still taken in. A sender that retries the whole batch therefore makes progress (the good items are
duplicates the second time, the bad ones are refused again with the same reason) instead of being stuck behind
one bad item. Only a body that is not a batch at all (not JSON, too large, too many items) is refused whole.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from handlers.csv_import import parse_date
from stories.models import IncomingComment, InvalidComment
from stories.pipeline import validate

MAX_BODY = 1_048_576  # 1 MB
MAX_ITEMS = 1_000
MAX_DIGITS = 30  # a JSON integer with more digits is kept as its text (Python refuses int() over 4,300 digits)
MAX_FIELDS = 50  # entries in an item's ``fields``
MAX_FIELD_LENGTH = 1_000  # characters in one of their keys or values
_KNOWN = {"text", "id", "date", "nps", "csat", "segment", "channel", "language", "source", "fields"}
# Letters that render as nothing (Hangul fillers, the braille blank); with format, control and separator
# characters (zero-width space, joiners, BOM, bidi marks) they make a text that looks empty.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_BLANK_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


class WebhookError(ValueError):
    """A body that cannot be read as a batch: ``status`` and a message naming the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class ItemError:
    """One refused item: its position in the request, the field at fault (None: the item itself), the message."""

    index: int
    field: str | None
    message: str  # starts with where it is: ``comments[3].nps: must be 0-10, got 11``


@dataclass
class Batch:
    """The items that can be taken in (with their positions in the request) and those refused."""

    comments: list[IncomingComment] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    rejected: list[ItemError] = field(default_factory=list)
    many: bool = False

    @property
    def received(self) -> int:
        return len(self.comments) + len(self.rejected)

    def where(self, index: int) -> str:
        return f"comments[{index}]" if self.many else "body"


@dataclass(frozen=True, slots=True)
class _LongNumber:
    """A JSON integer too long to be a score: kept as text, refused by whichever field it lands in."""

    digits: str


class _Refused(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _parse_int(text: str) -> int | _LongNumber:
    return int(text) if len(text) <= MAX_DIGITS else _LongNumber(text)


def _parse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON; send numbers as numbers")


def parse_body(body: bytes) -> Batch:
    """Read the request body; raises :class:`WebhookError` only when the body as a whole cannot be read."""
    if len(body) > MAX_BODY:
        raise WebhookError(413, f"body is {len(body)} bytes; the limit is {MAX_BODY} (1 MB): send smaller batches")
    try:
        # utf-8-sig: a leading byte order mark (PowerShell's UTF-8, some .NET senders) is ignored, as RFC 8259 allows
        data = json.loads(body.decode("utf-8-sig"), parse_int=_parse_int, parse_constant=_parse_constant)
    except UnicodeDecodeError:
        raise WebhookError(400, "body is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise WebhookError(400, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:  # the decoder gives up on deep nesting (a few hundred KB of "[" is enough)
        raise WebhookError(400, "JSON nested too deeply; a comment is an object of plain fields") from None
    except ValueError as exc:  # NaN / Infinity (see _parse_constant)
        raise WebhookError(400, f"invalid JSON: {exc}") from None
    if isinstance(data, dict) and "comments" in data:
        if set(data) != {"comments"} or not isinstance(data["comments"], list):
            raise WebhookError(400, "body.comments: must be a list of comments, and the only key beside it")
        data = data["comments"]
    items = data if isinstance(data, list) else [data]
    if not items:
        raise WebhookError(400, "no comments: send an object with a 'text' field or a list of them")
    if len(items) > MAX_ITEMS:
        raise WebhookError(413, f"{len(items)} comments in one request; the limit is {MAX_ITEMS}")
    batch = Batch(many=isinstance(data, list))
    for index, item in enumerate(items):
        where = batch.where(index)
        try:
            batch.comments.append(_comment(item, where=where))
            batch.indexes.append(index)
        except _Refused as exc:
            name = f"{where}.{exc.field}" if exc.field else where
            batch.rejected.append(ItemError(index, exc.field, f"{name}: {exc.message}"))
    return batch


def _comment(item: Any, *, where: str) -> IncomingComment:
    if not isinstance(item, dict):
        raise _Refused(None, f"expected an object with a 'text' field, got {_kind(item)}")
    unknown = sorted(set(item) - _KNOWN)
    if unknown:
        shown = ", ".join(_quoted(name) for name in unknown[:10])
        raise _Refused(None, f"unknown field(s) [{shown}]; known fields are {sorted(_KNOWN)}")
    text = item.get("text")
    if text is None or (isinstance(text, str) and not text.strip()):
        raise _Refused("text", "missing or empty; every comment needs its text")
    if not isinstance(text, str):
        raise _Refused("text", f"must be a string, got {_kind(text)}")
    _check_unicode("text", text)
    if not _visible(text):
        raise _Refused("text", "has no visible characters (only spaces, zero-width or control characters)")
    source = _optional_str(item, "source") or "webhook"
    comment = IncomingComment(
        text=text,
        source=source if source.startswith("webhook") else f"webhook:{source}"[:40],
        external_id=_optional_str(item, "id", allow_int=True),
        original_at=_date(_optional_str(item, "date")),
        segment=_optional_str(item, "segment"),
        origin_channel=_optional_str(item, "channel"),
        nps=_optional_int(item, "nps"),
        csat=_optional_int(item, "csat"),
        language=_optional_str(item, "language"),
        fields=_fields(item.get("fields")),
    )
    try:
        validate(comment)
    except InvalidComment as exc:
        raise _Refused(exc.field, exc.message) from None
    return comment


def _date(value: str | None) -> Any:
    try:
        return parse_date(value)
    except InvalidComment as exc:
        raise _Refused(exc.field, exc.message) from None


def _fields(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _Refused("fields", 'must be an object of strings, e.g. {"product": "oven"}')
    if len(value) > MAX_FIELDS:
        raise _Refused("fields", f"has {len(value)} entries; the limit is {MAX_FIELDS}")
    for key, text in value.items():
        for part in (key, text):
            _check_unicode("fields", part)
            if len(part) > MAX_FIELD_LENGTH:
                raise _Refused("fields", f"an entry is {len(part)} characters; the limit is {MAX_FIELD_LENGTH}")
            if "\x00" in part:
                raise _Refused("fields", "contains a NUL character (\\u0000); remove it")
    return dict(value)


def _optional_str(item: dict[str, Any], name: str, *, allow_int: bool = False) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if allow_int and isinstance(value, _LongNumber):
        return value.digits
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise _Refused(name, f"must be a string, got {_kind(value)}")
    _check_unicode(name, value)
    return value.strip() or None


def _optional_int(item: dict[str, Any], name: str) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, _LongNumber):
        raise _Refused(name, f"is a number of {len(value.digits.lstrip('-'))} digits; send a small whole number")
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 3:
        return int(value)  # "7": form tools and Zapier send every answer as text; the range is checked later
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refused(name, f"must be a whole number, got {_kind(value)}")
    return value


def _check_unicode(name: str, value: str) -> None:
    """JSON may carry lone surrogates (``"\\ud800"``); no database column can store them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _Refused(
            name,
            f"contains a lone surrogate (\\u{ord(value[exc.start]):04x}) at character {exc.start}; send valid Unicode",
        ) from None


def _visible(text: str) -> bool:
    """Whether any character would show: stops at the first that does (the first, for nearly every comment)."""
    return any(
        not ch.isspace() and ch not in _BLANK_LETTERS and unicodedata.category(ch) not in _BLANK_CATEGORIES
        for ch in text
    )


def _kind(value: Any) -> str:
    if isinstance(value, _LongNumber):
        return f"a number of {len(value.digits)} digits"
    if isinstance(value, bool):
        return "true/false"
    kinds = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _quoted(name: str) -> str:
    """A field name as it can be shown back safely: at most 40 characters, non-ASCII escaped."""
    shown = name[:40].encode("ascii", "backslashreplace").decode("ascii")
    return f"'{shown}'" + ("..." if len(name) > 40 else "")
