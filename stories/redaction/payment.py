"""Payment cards (Luhn) and IBANs (ISO 13616 mod 97), written compact or grouped with spaces, dashes or dots.

Checksums decide, not shapes: a 16-digit order number that fails Luhn stays, a card typed 4111.1111.1111.1111
goes. Both patterns match a bounded number of characters, so a scan is linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stories.redaction.spans import Hit, scan

# 13-19 digits starting with four together (every card scheme groups its first four), then one space, dash or
# dot allowed between any two; not glued to other digits, a '+' or a dot.
_CARD = re.compile(r"(?<![\d+.])\d{4}(?:[ .-]?\d){9,15}(?!\d)")
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
# Two letters, two check digits, then 11-30 letters/digits with optional single separators.
_IBAN = re.compile(r"(?<![^\W\d_])[A-Z]{2}\d{2}(?:[ .-]?[A-Z0-9]){11,30}", re.IGNORECASE)


def _luhn_prefixes(digits: str) -> list[bool]:
    """``result[n]``: do the first n digits pass Luhn? One pass: which digits are doubled depends only on the
    prefix length's parity, so two running totals (one per parity) answer every prefix."""
    totals = [0, 0]  # totals[p]: sum when the digits at even indexes are doubled iff p == 1
    result = [False]
    for index, char in enumerate(digits):
        value = ord(char) - 48
        even = index % 2 == 0
        totals[0] += value if even else _DOUBLED[value]
        totals[1] += _DOUBLED[value] if even else value
        # For length n = index + 1 the last digit is undoubled: even indexes undoubled iff index is even.
        result.append(totals[0 if even else 1] % 10 == 0)
    return result


def _card(match: re.Match[str]) -> Hit | None:
    """The longest Luhn-valid card number at the start of the match, ending where a digit group ends.

    Dots are group separators only between groups of at least three digits (so 3.14159265358979 is a number,
    not a card)."""
    raw, start = match.group(), match.start()
    if "." in raw and any(len(group) < 3 for group in re.split(r"[ .-]", raw)[:-1]):
        return None
    digits: list[str] = []
    ends: list[tuple[int, int]] = []  # (index in raw after a group's last digit, digits so far)
    for index, char in enumerate(raw):
        if char.isdigit():
            digits.append(char)
            if index + 1 == len(raw) or not raw[index + 1].isdigit():
                ends.append((index + 1, len(digits)))
    compact = "".join(digits)
    valid = _luhn_prefixes(compact)
    for end, count in reversed(ends):
        if 13 <= count <= 19 and valid[count]:
            return Hit(start, start + end, compact[:count])
    return None


def find_cards(text: str) -> Iterator[Hit]:
    return scan(_CARD, text, _card)


def _iban_prefix_lengths(compact: str) -> Iterator[int]:
    """Lengths L (15-34) for which ``compact[:L]`` passes mod 97, longest first, in one pass over it.

    ISO 13616 moves the first four characters to the end, reads letters as 10-35 and takes the number mod 97;
    the remainder of each prefix of the rest is kept as it grows, and the four moved characters appended."""
    head = compact[:4]
    head_digits = "".join(str(int(c, 36)) for c in head)
    head_value = int(head_digits)
    head_scale = 10 ** len(head_digits)
    remainder = 0
    valid: list[int] = []
    for length in range(5, len(compact) + 1):
        for digit in str(int(compact[length - 1], 36)):
            remainder = (remainder * 10 + ord(digit) - 48) % 97
        if length >= 15 and (remainder * head_scale + head_value) % 97 == 1:
            valid.append(length)
    return reversed(valid)


def _iban(match: re.Match[str]) -> Hit | None:
    """The longest prefix of the match that is a valid IBAN (trailing letters may belong to the next word)."""
    raw = match.group()
    positions = [i for i, char in enumerate(raw) if char.isalnum()]
    compact = "".join(raw[i] for i in positions).upper()
    for length in _iban_prefix_lengths(compact):
        return Hit(match.start(), match.start() + positions[length - 1] + 1, compact[:length])
    return None


def find_ibans(text: str) -> Iterator[Hit]:
    return scan(_IBAN, text, _iban)
