"""Sentiment quality on real reviews: plain VADER and cxbot's LexiconSentiment, in one run.

    python bench/quality_sentiment.py --data ../shared/data/clothing_reviews.csv

Labels come from star ratings: 1-2 negative, 3 neutral, 4-5 positive. Plain VADER uses its usual cut-offs
(compound >= 0.05 positive, <= -0.05 negative). Only the review text is scored (not the title), for both.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from stories.sentiment import LexiconSentiment

LABELS = ("negative", "neutral", "positive")
DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "clothing_reviews.csv"
HOW_TO_GET = (
    "The clothing reviews are the public 'Women's E-Commerce Clothing Reviews' data set (Kaggle, CC0). "
    "Save a CSV with at least the columns 'text' and 'rating' (1-5) and pass it with --data PATH."
)


def gold_label(rating: int) -> str:
    return "negative" if rating <= 2 else "neutral" if rating == 3 else "positive"


def load(path: Path) -> tuple[list[str], list[str]]:
    texts, gold = [], []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = (row.get("text") or "").strip()
            if not text or not row.get("rating"):
                continue
            texts.append(text)
            gold.append(gold_label(int(row["rating"])))
    return texts, gold


def report(name: str, predicted: Sequence[str], gold: Sequence[str], seconds: float) -> None:
    f1s, recalls = [], []
    for label in LABELS:
        tp = sum(p == label == g for p, g in zip(predicted, gold, strict=True))
        fp = sum(p == label != g for p, g in zip(predicted, gold, strict=True))
        fn = sum(g == label != p for p, g in zip(predicted, gold, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        recalls.append(recall)
    accuracy = sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)
    per_class = "  ".join(f"{label} {r:.3f}" for label, r in zip(LABELS, recalls, strict=True))
    print(
        f"{name:<18} accuracy {accuracy:.3f}  macro-F1 {sum(f1s) / len(f1s):.3f}  "
        f"recall: {per_class}  ({len(gold) / seconds:,.0f} texts/s)"
    )


def timed(label_of: Callable[[str], str], texts: Sequence[str]) -> tuple[list[str], float]:
    started = time.perf_counter()
    labels = [label_of(t) for t in texts]
    return labels, time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CSV with 'text' and 'rating' columns")
    parser.add_argument(
        "--tune", action="store_true", help="also search the neutral band (how its two thresholds were chosen)"
    )
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"No data at {args.data}. {HOW_TO_GET}")
        return 0
    texts, gold = load(args.data)
    if not texts:
        print(f"{args.data} has no rows with 'text' and 'rating'. {HOW_TO_GET}")
        return 0
    counts = ", ".join(f"{label} {gold.count(label)}" for label in LABELS)
    print(f"{len(texts)} reviews from {args.data.name} ({counts})")

    vader = SentimentIntensityAnalyzer()

    def plain(text: str) -> str:
        compound = vader.polarity_scores(text)["compound"]
        return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"

    ours = LexiconSentiment()
    labels, seconds = timed(plain, texts)
    report("plain VADER", labels, gold, seconds)
    labels, seconds = timed(lambda t: ours.analyze(t).label, texts)
    report("LexiconSentiment", labels, gold, seconds)
    if args.tune:
        tune(ours, texts, gold)
    return 0


def macro_f1(predicted: Sequence[str], gold: Sequence[str]) -> float:
    f1s = []
    for label in LABELS:
        tp = sum(p == label == g for p, g in zip(predicted, gold, strict=True))
        fp = sum(p == label != g for p, g in zip(predicted, gold, strict=True))
        fn = sum(g == label != p for p, g in zip(predicted, gold, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def tune(ours: LexiconSentiment, texts: Sequence[str], gold: Sequence[str]) -> None:
    """Grid-search the neutral band on the raw score; prints the best few by macro-F1."""
    scores = [ours.raw_score(t) for t in texts]
    raw = [0.0 if s is None else s for s in scores]
    results = []
    for low in range(-20, 50, 2):
        for high in range(0, 80, 2):
            if high <= low:
                continue
            predicted = [
                "neutral"
                if o is None
                else "positive"
                if s >= high / 100
                else "negative"
                if s <= low / 100
                else "neutral"
                for s, o in zip(raw, scores, strict=True)
            ]
            results.append((macro_f1(predicted, gold), low / 100, high / 100))
    for f1, low, high in sorted(results, reverse=True)[:5]:
        print(f"  band: negative <= {low:.2f}, positive >= {high:.2f}: macro-F1 {f1:.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
