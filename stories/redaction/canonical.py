"""One spelling per value, so the same e-mail or card typed two ways hashes alike (stories.identifiers).

``cxbot forget`` redacts the identifier it is given and uses what the redactor found, so a value found in a
sentence and the same value given alone must come out the same: e-mail lower-case, phone E.164, card, SSN and
digit runs bare digits, IBAN and NI number upper compact, IP in ipaddress's form, date of birth ISO, name
case-folded with single spaces.
"""

from __future__ import annotations

import ipaddress
import re

import phonenumbers

_NON_DIGIT = re.compile(r"\D")
_NON_ALNUM = re.compile(r"[\W_]")
_SPACES = re.compile(r"\s+")


def canonical(kind: str, value: str) -> str:
    if kind == "email":
        return value.strip().lower()
    if kind in ("card", "number", "ssn"):
        return _NON_DIGIT.sub("", value)
    if kind in ("iban", "national_id"):
        return _NON_ALNUM.sub("", value).upper()
    if kind == "ip":
        return ip_canonical(value)
    if kind == "phone":
        return phone_canonical(value)
    if kind == "name":
        return _SPACES.sub(" ", value).strip().casefold()
    return value.strip()


def ip_canonical(value: str) -> str:
    """ipaddress's spelling; IPv4 octets written with leading zeros (192.168.001.023) read as decimal."""
    address = value.split("%", 1)[0]
    if "." in address and ":" not in address:
        address = ".".join(str(int(octet)) for octet in address.split("."))
    return str(ipaddress.ip_address(address))


def phone_canonical(value: str) -> str:
    """E.164 when the number carries its country code; otherwise the digits alone (the region is unknown)."""
    if value.lstrip().startswith("+"):
        try:
            return phonenumbers.format_number(phonenumbers.parse(value, None), phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
    return _NON_DIGIT.sub("", value)
