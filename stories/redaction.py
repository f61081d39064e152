"""Personal data out of customer text before anything stores, shows or sends it.

Each kind is replaced by a typed placeholder ([email], [phone], [card], [iban], [ip], [number]) so a reader
still sees that the customer gave a phone number, without the number. Kinds run in a fixed order: e-mail
first (its digits are not a phone), then IBAN and card numbers (checksummed, so they win over the looser
phone matcher), then IP addresses (v6 before v4, which v6 may embed), phones, and finally plain digit runs when configured.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable

import phonenumbers

from stories.models import Redacted

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
# Two letters, two check digits, then 11-30 letters/digits with optional single spaces (groups of 4).
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}", re.IGNORECASE)
# 13-19 digits, single spaces or dashes between them; not glued to other digits or a leading '+'.
_CARD = re.compile(r"(?<![\d+])\d(?:[ -]?\d){12,18}(?!\d)")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-F]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-F]{0,4})(?:%\w+)?(?![\w:])",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _iban_ok(compact: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, remainder 1 mod 97."""
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


class PiiRedactor:
    """Replaces e-mails, phones, payment cards, IBANs, IP addresses (and optionally long digit runs).

    ``default_region`` is the phonenumbers region for numbers written without a country code;
    ``digit_runs=N`` also hides any remaining run of at least N digits (order numbers, account ids).
    """

    def __init__(self, *, default_region: str = "US", digit_runs: int | None = None) -> None:
        if digit_runs is not None and digit_runs < 1:
            raise ValueError(f"digit_runs must be positive, got {digit_runs}")
        self._region = default_region.upper()
        self._digit_runs = re.compile(rf"\d{{{digit_runs},}}") if digit_runs else None

    def redact(self, text: str) -> Redacted:
        has_at = "@" in text
        has_digit = _DIGIT.search(text) is not None
        if not has_at and not has_digit and "::" not in text:
            return Redacted(text=text, counts={})  # the common case: nothing could match
        counts: Counter[str] = Counter()
        found: list[tuple[str, str]] = []
        if has_at:
            text = _replace(_EMAIL, text, "email", counts, found)
        if has_digit:
            text = _replace(_IBAN, text, "iban", counts, found, _iban_span)
            text = _replace(_CARD, text, "card", counts, found, _card_span)
        if ":" in text:
            text = _replace(_IPV6, text, "ip", counts, found, _ip_span)
        if has_digit and "." in text:
            text = _replace(_IPV4, text, "ip", counts, found, _ip_span)
        if has_digit:
            text = self._phones(text, counts, found)
            if self._digit_runs is not None:
                text = _replace(self._digit_runs, text, "number", counts, found)
        return Redacted(text=text, counts={kind: n for kind, n in counts.items() if n}, found=tuple(found))

    def _phones(self, text: str, counts: Counter[str], found: list[tuple[str, str]]) -> str:
        if _DIGIT.search(text) is None:
            return text
        parts: list[str] = []
        last = 0
        for match in phonenumbers.PhoneNumberMatcher(text, self._region):
            parts.append(text[last : match.start])
            parts.append("[phone]")
            last = match.end
            counts["phone"] += 1
            found.append(("phone", phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)))
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)


# A span check returns the (start, end) to replace inside a regex match, or None to keep the text.
_SpanCheck = Callable[[re.Match[str]], "tuple[int, int] | None"]


def _replace(
    pattern: re.Pattern[str],
    text: str,
    kind: str,
    counts: Counter[str],
    found: list[tuple[str, str]],
    check: _SpanCheck | None = None,
) -> str:
    """Replace every accepted match; a rejected match is searched again from its next character."""
    placeholder = f"[{kind}]"
    parts: list[str] = []
    last = position = 0
    while (match := pattern.search(text, position)) is not None:
        span = check(match) if check else match.span()
        if span is None:
            position = match.start() + 1
            continue
        parts.append(text[last : span[0]])
        parts.append(placeholder)
        found.append((kind, canonical(kind, text[span[0] : span[1]])))
        last = position = span[1]
        counts[kind] += 1
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


def canonical(kind: str, value: str) -> str:
    """One spelling per value, so the same e-mail or card typed two ways hashes alike (stories.identifiers)."""
    if kind == "email":
        return value.lower()
    if kind in ("card", "number"):
        return re.sub(r"\D", "", value)
    if kind == "iban":
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    if kind == "ip":
        return str(ipaddress.ip_address(value.split("%", 1)[0]))
    return value.strip()


def _card_span(match: re.Match[str]) -> tuple[int, int] | None:
    """The longest Luhn-valid card number at the start of the match, ending where a digit group ends."""
    raw, start = match.group(), match.start()
    ends = [i + 1 for i, char in enumerate(raw) if char.isdigit() and (i + 1 == len(raw) or not raw[i + 1].isdigit())]
    for end in reversed(ends):
        digits = re.sub(r"\D", "", raw[:end])
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            return start, start + end
    return None


def _iban_span(match: re.Match[str]) -> tuple[int, int] | None:
    """The longest prefix of the match that is a valid IBAN (trailing letters may belong to the next word)."""
    raw = match.group()
    positions = [i for i, char in enumerate(raw) if char != " "]
    compact = raw.replace(" ", "").upper()
    for length in range(len(compact), 14, -1):
        if _iban_ok(compact[:length]):
            return match.start(), match.start() + positions[length - 1] + 1
    return None


def _ip_span(match: re.Match[str]) -> tuple[int, int] | None:
    try:
        ipaddress.ip_address(match.group().split("%", 1)[0])
    except ValueError:
        return None
    return match.span()
