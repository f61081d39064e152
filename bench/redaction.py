"""Redaction time at 100 KB and 1 MB: does it grow linearly, on adversarial and on real-looking text?

Texts (all generated here, seeded; none is real customer data unless --data is given):

- adversarial, one per family: '@' marks among long words and dots; digits among separators and brackets;
  digits, separators, '@' and letters mixed at random (the phone library's worst case: many short stretches
  of phone characters); words that start a match ("at", "dot", "my name is", "Thanks,", "born on", capitals);
- real-looking: the bundled sample comments (or the `text` column of --data FILE) with an e-mail, a phone
  number, a card, a date of birth or a self-introduction seeded into every fifth comment.

Beside each text, the same text with every '@' and digit removed (the fast path for most kinds), timed in the
same run. Goal: time(1 MB) within 12x of time(100 KB). Each figure is the fastest of --repeat runs.

    python bench/redaction.py                  # all texts, 100 KB and 1 MB
    python bench/redaction.py --data ../shared/data/loan_complaints.csv --only real
    python bench/redaction.py --count ../shared/data/clothing_reviews.csv   # what is found in real text, by kind
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Row, ratio_row
from bot.demo import sample_csv
from handlers.csv_import import read_csv
from stories.redaction import PiiRedactor

SIZES = (100_000, 1_000_000)
GOAL = 12.0


def _random_text(alphabet: str, size: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(size))


def _pieces(pieces: list[str], size: int, seed: int) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    length = 0
    while length < size:
        piece = rng.choice(pieces)
        out.append(piece)
        length += len(piece)
    return "".join(out)[:size]


def at_marks(size: int) -> str:
    words = ["a" * 200, "x.y", "@", "@@", "name@", "@host", "a.b.c.d", "first.last", " ", "@x.", ".com"]
    return _pieces(words, size, 1)


def digit_runs(size: int) -> str:
    return _random_text("0123456789 -.()/+", size, 2)


def mixed(size: int) -> str:
    return _random_text("0123456789 -.()+@a", size, 3)


def words(size: int) -> str:
    pieces = [" at ", " dot ", "[at]", "my name is ", "My Name Is ", "this is ", "I'm ", "Thanks,\n", "Regards, ",
              "born on ", "DOB ", "Jane ", "Smith ", "from ", "and ", "\n", ". "]  # fmt: skip
    return _pieces(pieces, size, 4)


def real_looking(texts: list[str]) -> Callable[[int], str]:
    seeds = [
        "Reach me at jane.doe{i}@example.com.",
        "Call 07911 {i:06d} after six.",
        "My card 4111 1111 1111 1111 was charged twice.",
        "I was born on 14/03/1985, see my account.",
        "My name is Agnieszka Wróblewska and nobody called back.",
        "Thanks,\nTom Baker",
        "Try (212) 555 8858 or +33 6 12 34 56 78.",
    ]

    def build(size: int) -> str:
        rng = random.Random(5)
        out: list[str] = []
        length = i = 0
        while length < size:
            comment = rng.choice(texts)
            if i % 5 == 0:
                comment = f"{comment} {seeds[i // 5 % len(seeds)].format(i=i)}"
            out.append(comment)
            length += len(comment) + 1
            i += 1
        return "\n".join(out)[:size]

    return build


_AT_AND_DIGITS = re.compile(r"[@\d]")


def fastest(redactor: PiiRedactor, text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        redactor.redact(text)
        best = min(best, time.perf_counter() - started)
    return best


def load_texts(data: Path | None) -> list[str]:
    if data is not None:
        with data.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            column = next(c for c in ("text", "narrative", "comment") if c in (reader.fieldnames or []))
            return [row[column] for row in reader if row.get(column)]
    return [c.text for c in read_csv(sample_csv(), name="sample").comments()]


def count_found(files: list[Path]) -> int:
    """Placeholders put into real text, by kind: where the text holds no personal data, each is a false positive."""
    redactor = PiiRedactor(regions=["GB", "US", "DE", "FR"])
    for path in files:
        texts = load_texts(path)
        counts: dict[str, int] = {}
        for text in texts:
            for kind, _ in redactor.redact(text).found:
                counts[kind] = counts.get(kind, 0) + 1
        print(f"{path.name}: {len(texts):,} texts, found {counts or 'nothing'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="CSV with a text/narrative/comment column for the real-looking text")
    parser.add_argument("--only", nargs="*", help="families to run (at, digits, mixed, words, real)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--count", nargs="+", type=Path, help="CSV files: print what is found in each, by kind")
    args = parser.parse_args()
    if args.count:
        return count_found(args.count)

    families: dict[str, Callable[[int], str]] = {
        "at": at_marks,
        "digits": digit_runs,
        "mixed": mixed,
        "words": words,
        "real": real_looking(load_texts(args.data)),
    }
    redactor = PiiRedactor(regions=["GB", "US", "DE", "FR"], digit_runs=8)  # the bundled example's settings
    print("Redaction time, fastest of", args.repeat, "runs (2 shared cores; other engineers' work running)\n")
    print("| text | 100 KB | 1 MB | 1 MB / 100 KB | without '@' and digits: 100 KB | 1 MB | ratio | goal <= 12x |")
    print("|---|---|---|---|---|---|---|---|")
    failed = False
    for name, make in families.items():
        if args.only and name not in args.only:
            continue
        times, bare = [], []
        for size in SIZES:
            text = make(size)
            times.append(fastest(redactor, text, args.repeat))
            bare.append(fastest(redactor, _AT_AND_DIGITS.sub("", text), args.repeat))
        ratio, bare_ratio = times[1] / times[0], bare[1] / bare[0]
        ok = ratio <= GOAL
        failed |= not ok
        print(
            f"| {name} | {times[0]:.3f} s | {times[1]:.2f} s | {ratio:.1f}x | {bare[0]:.3f} s | {bare[1]:.2f} s | "
            f"{bare_ratio:.1f}x | {'met' if ok else 'NOT MET'} |",
            flush=True,
        )
    return 1 if failed else 0


def rows(*, quick: bool, data: Path | None, pg: str | None) -> list[Row]:
    """For ``python -m bench``: each text's time at ten times the size beside its time at the smaller size (linear
    growth is 10x; the goal allows 12x)."""
    sizes = (20_000, 200_000) if quick else SIZES
    families: dict[str, Callable[[int], str]] = {
        "at": at_marks,
        "digits": digit_runs,
        "mixed": mixed,
        "words": words,
        "real": real_looking(load_texts(data / "loan_complaints.csv" if data else None)),
    }
    if quick:  # the fast families only: the digit-heavy ones take seconds a size
        families = {name: families[name] for name in ("at", "words", "real")}
    redactor = PiiRedactor(regions=["GB", "US", "DE", "FR"], digit_runs=8)
    found = []
    for name, make in families.items():
        small, large = (fastest(redactor, make(size), 3 if quick else 2) for size in sizes)
        found.append(
            ratio_row(
                "redaction",
                f"{name} text, {sizes[1] // 1000:,} KB vs {sizes[0] // 1000:,} KB",
                large,
                small,
                unit="s",
                peer_name=f"{sizes[0] // 1000:,} KB",
                goal=GOAL,
            )
        )
    return found


if __name__ == "__main__":
    raise SystemExit(main())
