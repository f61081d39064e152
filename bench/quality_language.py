"""Language detection on real English text: how often a comment is given a wrong language, or none.

    python bench/quality_language.py --data ../shared/data

The shared sets are all English, so every language other than "en" is a wrong guess; "none" means the text
was too short or the guess too unsure (stories.language.LangidDetector's bounds) and the comment stays without
a language, which no language rule matches. The other languages are checked by tests/test_language.py on
sentences written for it.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stories.language import LangidDetector

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
FILES = (("clothing_reviews.csv", "text"), ("banking77_test.csv", "text"), ("loan_complaints.csv", "narrative"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the shared CSV files")
    args = parser.parse_args()
    detector = LangidDetector()
    print("Shared 2-core machine, other engineers' work running: times are indicative only.")
    for name, column in FILES:
        path = args.data / name
        if not path.exists():
            print(f"{name}: not found, skipped")
            continue
        with path.open(newline="", encoding="utf-8") as handle:
            texts = [row[column] for row in csv.DictReader(handle)]
        started = time.perf_counter()
        found = Counter(detector.detect(text) for text in texts)
        seconds = time.perf_counter() - started
        wrong = sum(n for code, n in found.items() if code not in {"en", None})
        print(
            f"{name}: {len(texts)} texts, en {found['en']}, none {found[None]}, another language {wrong} "
            f"({', '.join(f'{c} {n}' for c, n in found.most_common() if c not in {'en', None}) or '-'}); "
            f"{seconds * 1000 / len(texts):.2f} ms per text"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
