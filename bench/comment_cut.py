"""How much a very long comment costs the one redaction step, beside the longest comment kept.

``python bench/comment_cut.py``: :func:`stories.redacted_comment.redact_comment` on texts of 20,000 characters
(the longest kept, the peer) and of 100 KB and 1 MB (cut to 20,000), each made of sentences holding an e-mail
address, a phone number and digits (the redactor's slow paths), with the redactor of the bundled example
configuration. Only the first 21,000 characters are redacted, so the long ones should cost about what the peer
costs. Median of 5 runs each, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

from stories.identifiers import IdentifierHasher
from stories.models import IncomingComment
from stories.redacted_comment import MAX_KEPT, redact_comment
from stories.redaction import PiiRedactor

SENTENCE = "Order 48213377 late again, mail me at jane.doe@example.com or call +44 20 7946 0958 please. "


def text_of(length: int) -> str:
    return (SENTENCE * (length // len(SENTENCE) + 1))[:length]


def timed(text: str, *, redactor: PiiRedactor, hasher: IdentifierHasher, runs: int) -> float:
    comment = IncomingComment(text=text, source="bench")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        redact_comment(comment, redactor=redactor, hasher=hasher)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    redactor = PiiRedactor(default_region="GB", digit_runs=8)
    hasher = IdentifierHasher(key=b"bench key of sixteen bytes")
    peer = timed(text_of(MAX_KEPT), redactor=redactor, hasher=hasher, runs=args.runs)
    print(f"| comment | characters | redact_comment (median of {args.runs}) | / the longest kept |")
    print("|---|---|---|---|")
    print(f"| the longest kept (peer) | {MAX_KEPT:,} | {peer * 1000:.0f} ms | 1.00x |")
    for label, length in (("100 KB", 100_000), ("1 MB", 1_000_000)):
        took = timed(text_of(length), redactor=redactor, hasher=hasher, runs=args.runs)
        print(f"| {label}, cut | {length:,} | {took * 1000:.0f} ms | {took / peer:.2f}x |")


if __name__ == "__main__":
    main()
