"""Phone numbers: Google's libphonenumber (the ``phonenumbers`` port) for every configured region, then a
fallback for phone-shaped digit groups that the library does not accept.

The library reads a number written without a country code by one region's rules, so each region the company
names gets its own pass (numbers with a country code are found by the first); it also rejects numbers that
are not allocated (the 555 exchange, French numbers under GB rules). The fallback takes the shapes people
write numbers in, whatever the digits: 415-555-2181, (212) 555 8858, 650.253.0000, 06 12 34 56 78,
01 42 68 53 00, +33 6 12 34 56 78. Unseparated digit runs are left to ``digit_runs``: alone they are as
likely an order number.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence

import phonenumbers

from stories.redaction.canonical import phone_canonical
from stories.redaction.spans import Hit, scan

_E164 = phonenumbers.PhoneNumberFormat.E164


# A stretch of the characters a phone number is written with (the library's own punctuation: dashes of every
# width, spaces, brackets, dots, slashes, tildes, 'x' for extensions), starting with '+', a bracket or a digit.
_PUNCT = "\\-x\u2010-\u2015\u2212\u30fc\uff0d-\uff0f \u00a0\u00ad\u200b\u2060\u3000()\uff08\uff09\uff3b\uff3d.\\[\\]/~\u2053\u223c\uff5e"
_STRETCH = re.compile(rf"[+\uff0b(\[\uff08\uff3b\d][\d{_PUNCT}+]*\d")
_CONTEXT = 2  # the library looks at the characters next to a number (a letter glued to it rejects it)
# Longer stretches are tables or noise, not one number, and the library's cost grows with their digit groups
# (it parses many splits of each), about 4 ms per 40 characters of "1 1 1 ...": they are left to the
# fallback shapes. A known miss: an unseparated national number inside such a stretch (digit_runs catches it).
_STRETCH_MAX = 200


# The library parses many splits of each stretch (about 0.1 ms a stretch in pure Python, holding the GIL that
# the server's event loop needs). Real comments hold a handful of stretches (the most in 2,827 long loan
# complaints: one); a pasted log or table holds hundreds. Past this many in one pass, a stretch with 7+ digits
# is taken as a phone without asking the library: more redacted, never less, and the time stays bounded.
_LIBRARY_STRETCHES = 100
# Dates are the common digit stretch in real text, and German rules read "02.03.2024" as a number in Gelsenkirchen.
_DATE = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(?:\d{4}|\d{2})|\d{4}([./-])(\d{1,2})\4(\d{1,2})")


def _is_date(raw: str) -> bool:
    """Day, month and year (either order, 2- or 4-digit year; or year first) with a day and month that exist."""
    match = _DATE.fullmatch(raw)
    if match is None:
        return False
    first, second = (match[1], match[3]) if match[1] else (match[5], match[6])
    low, high = sorted((int(first), int(second)))
    return 1 <= low <= 12 and high <= 31


def find_library_phones(text: str, region: str, *, regions: Sequence[str] = ()) -> Iterator[Hit]:
    """The library's matcher (leniency VALID) over each stretch of phone characters holding 6+ digits.

    ``regions``: every configured region; a number written without its country code is also recorded as it reads
    under each of them (``national_spellings``)."""
    asked = 0
    for stretch in _STRETCH.finditer(text):
        raw = stretch.group()
        digits = sum(char.isdigit() for char in raw)
        if len(raw) > _STRETCH_MAX or digits < 6 or _is_date(raw):
            continue
        if asked >= _LIBRARY_STRETCHES:
            if digits >= 7:
                yield Hit(stretch.start(), stretch.end(), phone_canonical(raw))
            continue
        asked += 1
        offset = max(0, stretch.start() - _CONTEXT)
        window = text[offset : stretch.end() + _CONTEXT]
        # max_tries: the library gives up after 65,535 candidates by default; a window is small anyway.
        for match in phonenumbers.PhoneNumberMatcher(window, region, max_tries=sys.maxsize):
            if _plausible(match.raw_string, region):
                number = phonenumbers.format_number(match.number, _E164)
                also = national_spellings(match.raw_string, regions) if regions else ()
                yield Hit(match.start + offset, match.end + offset, number, also)


def _plausible(raw: str, region: str) -> bool:
    """Whether a number the library accepts is written the way people write phone numbers.

    The library takes short numbers without their trunk prefix under some regions (German rules accept "38-30-40",
    body measurements, and "1681 15", a legal citation). A number written without a country code must have at
    least seven digits and, where the region dials a trunk '0' (GB, DE, FR, ...), start with it."""
    if raw.startswith(("+", "\uff0b", "00")):
        return True
    if sum(char.isdigit() for char in raw) < 7:
        return False
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata is None or metadata.national_prefix != "0" or raw.lstrip("( ").startswith("0")


_SEP = r"[ .\-]"
_FALLBACK = re.compile(
    r"(?<![\w+.,/:-])(?:"
    rf"(?P<intl>(?:\+|00)[1-9]\d{{0,3}}(?:{_SEP}?\(0\))?(?:{_SEP}\(?\d{{1,6}}\)?){{1,6}}|\+[1-9]\d{{7,14}})"
    rf"|(?P<nanp>\(\d{{3}}\)[ .\-]?\d{{3}}{_SEP}\d{{4}}|\d{{3}}(?P<s>{_SEP})\d{{3}}(?P=s)\d{{4}})"
    rf"|(?P<trunk>\(?0\d{{1,4}}\)?(?:{_SEP}\d{{2,4}}){{1,4}})"
    r")(?![\w+]|[.,/:-]\d)"
)


def _fallback_hit(match: re.Match[str], regions: Sequence[str]) -> Hit | None:
    raw = match.group()
    digits = sum(char.isdigit() for char in raw)
    if match["intl"]:
        if not 8 <= digits <= 15:
            return None
        return Hit(match.start(), match.end(), phone_canonical("+" + raw[2:] if raw.startswith("00") else raw))
    if match["nanp"]:
        return Hit(match.start(), match.end(), phone_canonical("+1" + raw))
    if not 9 <= digits <= 12:
        return None
    spellings = national_spellings(raw, regions)
    return Hit(match.start(), match.end(), spellings[0] if spellings else re.sub(r"\D", "", raw), spellings[1:])


def national_spellings(raw: str, regions: Sequence[str]) -> tuple[str, ...]:
    """E.164 under each region where a number written without its country code could exist, in the regions'
    order; empty for a number written with one (it has a single spelling).

    "07911 654321" is not an allocated UK range, so the library accepts it under German rules only; the customer
    who asks to be forgotten writes "+44 7911 654321". Recording every reading lets either spelling find it."""
    if raw.lstrip("( ").startswith(("+", "\uff0b", "00")):
        return ()
    spellings: list[str] = []
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            spellings.append(phonenumbers.format_number(number, _E164))
    return tuple(dict.fromkeys(spellings))


def find_fallback_phones(text: str, regions: Sequence[str]) -> Iterator[Hit]:
    return scan(_FALLBACK, text, lambda match: _fallback_hit(match, regions))
