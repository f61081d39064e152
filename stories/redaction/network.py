"""IP addresses: IPv6 (before IPv4, which it may embed) and IPv4, octets with leading zeros too (192.168.001.023).

Four dotted numbers of at most 255 read as an address: "1.2.3.4" cannot be told from a version number by its
shape. A version keeps its digits when it says so ("v1.2.3.4", "version 1.2.3.4", "build 10.0.19045.1") or
has a part over 255 (10.0.19045.3803).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from stories.redaction.canonical import ip_canonical
from stories.redaction.spans import Hit, scan

_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-F]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-F]{0,4})(?:%\w{1,16})?(?![\w:])",
    re.IGNORECASE,
)
_VERSION_BEFORE = re.compile(r"(?i)(?:\bv|\b(?:version|ver|build|release|firmware|ios|android)\s{1,2})\Z")


def _ipv4(match: re.Match[str]) -> Hit | None:
    octets = match.group().split(".")
    if any(int(octet) > 255 for octet in octets):
        return None
    before = match.string[max(0, match.start() - 12) : match.start()]
    if _VERSION_BEFORE.search(before):
        return None
    return Hit(match.start(), match.end(), ip_canonical(match.group()))


def _ipv6(match: re.Match[str]) -> Hit | None:
    try:
        ipaddress.ip_address(match.group().split("%", 1)[0])
    except ValueError:
        return None
    return Hit(match.start(), match.end(), ip_canonical(match.group()))


def find_ipv6(text: str) -> Iterator[Hit]:
    if "::" not in text and text.count(":") < 2:
        return iter(())
    return scan(_IPV6, text, _ipv6)


def find_ipv4(text: str) -> Iterator[Hit]:
    if "." not in text:
        return iter(())
    return scan(_IPV4, text, _ipv4)
