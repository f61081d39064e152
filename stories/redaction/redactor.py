"""The redactor: every kind of personal data, in a fixed order, each replaced by its typed placeholder.

Order matters where kinds overlap: e-mails first (their digits are not a phone), then the checksummed
numbers (IBAN, card), national ids and dates of birth (before the looser phone shapes), IP addresses (v6 before
v4, which v6 may embed), phones by the library then by shape, names, and plain digit runs last.

Every step is linear in the text (tests/test_redaction_time.py measures it on adversarial input): no pattern
can backtrack over more than a bounded stretch, and kinds whose marks ('@', digits) are absent are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stories.models import Redacted
from stories.redaction.birth import find_dates_of_birth
from stories.redaction.email import find_emails, find_spelled_emails
from stories.redaction.names import find_names
from stories.redaction.national_id import find_ni_numbers, find_ssns
from stories.redaction.network import find_ipv4, find_ipv6
from stories.redaction.payment import find_cards, find_ibans
from stories.redaction.phone import find_fallback_phones, find_library_phones
from stories.redaction.spans import Hit, Tally

DEFAULT_REGIONS = ("US", "GB", "DE", "FR")
_DIGIT = re.compile(r"\d")


class PiiRedactor:
    """Replaces e-mails, phones, cards, IBANs, IPs, SSNs, NI numbers, dates of birth, introduced names.

    ``regions``: phonenumbers regions for numbers written without a country code, in order of preference
    (the first also decides how an ambiguous date of birth reads); ``default_region`` is the older spelling
    of a single first region, kept working: it goes first, before ``regions``. ``digit_runs=N`` also hides
    any remaining run of at least N digits (order numbers, account ids).
    """

    def __init__(
        self,
        *,
        regions: Sequence[str] | None = None,
        default_region: str | None = None,
        digit_runs: int | None = None,
    ) -> None:
        if digit_runs is not None and digit_runs < 1:
            raise ValueError(f"digit_runs must be positive, got {digit_runs}")
        chosen = [*([default_region] if default_region else []), *(regions if regions is not None else DEFAULT_REGIONS)]
        self.regions = tuple(dict.fromkeys(region.upper() for region in chosen))
        if not self.regions:
            raise ValueError("regions must name at least one region, e.g. ['US', 'GB']")
        self._digit_runs = re.compile(rf"\d{{{digit_runs},}}") if digit_runs else None

    def redact(self, text: str) -> Redacted:
        tally = Tally()
        if "@" in text:
            text = tally.apply(text, "email", find_emails(text))
        text = tally.apply(text, "email", find_spelled_emails(text))
        if _DIGIT.search(text) is not None:
            text = tally.apply(text, "iban", find_ibans(text))
            text = tally.apply(text, "card", find_cards(text))
            text = tally.apply(text, "ssn", find_ssns(text))
            text = tally.apply(text, "national_id", find_ni_numbers(text))
            text = tally.apply(text, "date_of_birth", find_dates_of_birth(text, region=self.regions[0]))
            text = tally.apply(text, "ip", find_ipv6(text))
            text = tally.apply(text, "ip", find_ipv4(text))
            for region in self.regions:
                text = tally.apply(text, "phone", find_library_phones(text, region, regions=self.regions))
            text = tally.apply(text, "phone", find_fallback_phones(text, self.regions))
            if self._digit_runs is not None:
                runs = (Hit(m.start(), m.end(), m.group()) for m in self._digit_runs.finditer(text))
                text = tally.apply(text, "number", runs)
        elif ":" in text:
            text = tally.apply(text, "ip", find_ipv6(text))
        text = tally.apply(text, "name", find_names(text))
        return Redacted(text=text, counts=dict(tally.counts), found=tuple(tally.found))
