"""National identity numbers: US Social Security numbers and UK National Insurance numbers.

An SSN written with separators (123-45-6789, 123 45 6789) is taken on its shape (the same separator twice;
no block all zeros, no 666 area); nine bare digits only after "SSN" or "social security (number)", since
alone they are as likely an order number. An NI number is two prefix letters from the allowed set, six digits
(grouped or not) and a suffix A-D, any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stories.redaction.canonical import canonical
from stories.redaction.spans import Hit, scan

_SSN = re.compile(
    r"(?<![\w-])(?!000|666)\d{3}(?P<sep>[- ])(?!00)\d{2}(?P=sep)(?!0000)\d{4}(?![\w-]|\.\d)"
    r"|(?i:\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?)\s{0,2}[:#]?\s{0,3}(?:is\s+)?)"
    r"(?P<bare>(?!000|666)\d{9})(?!\w)"
)
_NINO = re.compile(
    r"(?<![^\W_])(?!(?:BG|GB|NK|KN|TN|NT|ZZ))[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"(?P<sep>[ -]?)\d{2}(?P=sep)\d{2}(?P=sep)\d{2}(?P=sep)[A-D](?![^\W_])",
    re.IGNORECASE,
)


def _ssn(match: re.Match[str]) -> Hit | None:
    start, end = match.span("bare") if match["bare"] else match.span()
    return Hit(start, end, canonical("ssn", match.string[start:end]))


def find_ssns(text: str) -> Iterator[Hit]:
    return scan(_SSN, text, _ssn)


def find_ni_numbers(text: str) -> Iterator[Hit]:
    return scan(_NINO, text, lambda m: Hit(m.start(), m.end(), canonical("national_id", m.group())))
