"""Keyed hashes of the personal data that redaction removed.

Redaction never stores what it removes, yet "delete everything about jane@example.com" (GDPR art. 17) must find
every comment that carried it. Each removed value is kept only as an HMAC-SHA256 under a key from the
environment (``CX_HASH_KEY``): the same value always gives the same digest, and without the key a digest cannot
be tested against a guessed value. ``cxbot forget`` redacts the identifier it is given the same way, so the
canonical form (lower-case e-mail, E.164 phone, bare card digits) is decided in one place: the redactor.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

ID_KIND = "id"  # a customer id given by the source (comments.external_id)


class IdentifierHasher:
    """``digest(kind, value)``: hex HMAC-SHA256 of the canonical value, namespaced by its kind."""

    def __init__(self, *, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the identifier hash key must be at least 16 bytes")
        self._key = key

    def digest(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def digests(self, found: Iterable[tuple[str, str]]) -> tuple[str, ...]:
        """Sorted, without repeats: one row per distinct value a comment carried."""
        return tuple(sorted({self.digest(kind, value) for kind, value in found}))
