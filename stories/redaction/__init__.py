"""Personal data out of customer text before anything stores, shows or sends it.

Each kind is replaced by a typed placeholder ([email], [phone], [card], [iban], [ip], [ssn], [national id],
[date of birth], [name], [number]) so a reader still sees that the customer gave a phone number, without the
number. One module per kind; :mod:`stories.redaction.redactor` runs them in order.
"""

from stories.redaction.canonical import canonical
from stories.redaction.redactor import DEFAULT_REGIONS, PiiRedactor
from stories.redaction.spans import PLACEHOLDERS

__all__ = ["DEFAULT_REGIONS", "PLACEHOLDERS", "PiiRedactor", "canonical"]
