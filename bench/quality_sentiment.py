"""Sentiment quality on real reviews: plain VADER and cxbot's LexiconSentiment, in one run.

    python bench/quality_sentiment.py --data ../shared/data/clothing_reviews.csv

Labels come from star ratings: 1-2 negative, 3 neutral, 4-5 positive (or a ``label`` column). The neutral band of
LexiconSentiment was chosen with ``--tune``: on a random half of the clothing reviews (seed 14) together with
bench/data/short_posts.csv (48 short posts written for cxbot), each counting the same; the other half of the
reviews is reported apart, as the figure no threshold saw. Plain VADER uses its usual cut-offs
(compound >= 0.05 positive, <= -0.05 negative). Only the review text is scored (not the title), for both.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bench.report import Row
from stories.sentiment import LexiconSentiment

LABELS = ("negative", "neutral", "positive")
SPLIT_SEED = 14  # the rows of --data chosen to tune the band (--tune); the other half is reported apart
OWN_POSTS = Path(__file__).resolve().parent / "data" / "short_posts.csv"  # 48 short posts written for cxbot
DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "clothing_reviews.csv"
HOW_TO_GET = (
    "The clothing reviews are the public 'Women's E-Commerce Clothing Reviews' data set (Kaggle, CC0). "
    "Save a CSV with at least the columns 'text' and 'rating' (1-5) and pass it with --data PATH."
)


def gold_label(rating: int) -> str:
    return "negative" if rating <= 2 else "neutral" if rating == 3 else "positive"


LABEL_COLUMNS = ("label", "sentiment", "airline_sentiment")


def load(path: Path) -> tuple[list[str], list[str]]:
    """Rows with ``text`` and either ``rating`` (1-5) or a label column (negative/neutral/positive)."""
    texts, gold = [], []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = (row.get("text") or "").strip()
            label = next((row[c].strip().lower() for c in LABEL_COLUMNS if row.get(c)), None)
            if not text or not (row.get("rating") or label in LABELS):
                continue
            texts.append(text)
            gold.append(label if label in LABELS else gold_label(int(row["rating"])))
    return texts, gold


def figures(predicted: Sequence[str], gold: Sequence[str]) -> tuple[float, float]:
    """(accuracy, macro-F1)."""
    accuracy = sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)
    return accuracy, macro_f1(predicted, gold)


def rows(*, quick: bool, data: Path | None, pg: str | None) -> list[Row]:
    """For ``python -m bench --data DIR``: LexiconSentiment on the clothing reviews beside plain VADER, in the same
    run (the data README's floor: accuracy 0.504, macro-F1 0.362)."""
    if data is None:
        return []
    texts, gold = load(data / "clothing_reviews.csv")
    vader = SentimentIntensityAnalyzer()

    def plain(text: str) -> str:
        compound = vader.polarity_scores(text)["compound"]
        return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"

    ours = LexiconSentiment()
    theirs_acc, theirs_f1 = figures([plain(t) for t in texts], gold)
    ours_acc, ours_f1 = figures([ours.analyze(t).label for t in texts], gold)
    size = f"clothing reviews ({len(texts):,})"
    return [
        Row(
            "quality_sentiment",
            f"accuracy, {size}",
            f"{ours_acc:.3f}",
            f"plain VADER {theirs_acc:.3f}",
            "> VADER (floor 0.504)",
            ours_acc > theirs_acc,
        ),
        Row(
            "quality_sentiment",
            f"macro-F1, {size}",
            f"{ours_f1:.3f}",
            f"plain VADER {theirs_f1:.3f}",
            "> VADER (floor 0.362)",
            ours_f1 > theirs_f1,
        ),
    ]


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
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="CSV with 'text' and 'rating' (1-5) or 'label' columns"
    )
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
    if args.data.name != DEFAULT_DATA.name:
        return 0  # the band was chosen on half of the clothing reviews only
    dev = set(random.Random(SPLIT_SEED).sample(range(len(texts)), len(texts) // 2))
    held = [i for i in range(len(texts)) if i not in dev]
    held_gold = [gold[i] for i in held]
    print(f"the half not used to choose the band ({len(held)} rows, seed {SPLIT_SEED}):")
    held_texts = [texts[i] for i in held]
    report("  plain VADER", *timed(plain, held_texts)[:1], held_gold, timed(plain, held_texts)[1])
    labels, seconds = timed(lambda t: ours.analyze(t).label, held_texts)
    report("  LexiconSentiment", labels, held_gold, seconds)
    if args.tune:
        own_texts, own_gold = load(OWN_POSTS)
        tune(
            ours,
            [([texts[i] for i in sorted(dev)], [gold[i] for i in sorted(dev)]), (own_texts, own_gold)],
        )
    return 0


def macro_f1(predicted: Sequence[str], gold: Sequence[str]) -> float:
    f1s = []
    for label in LABELS:
        tp = sum(p == label == g for p, g in zip(predicted, gold, strict=True))
        fp = sum(p == label != g for p, g in zip(predicted, gold, strict=True))
        fn = sum(g == label != p for p, g in zip(predicted, gold, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def tune(ours: LexiconSentiment, sets: Sequence[tuple[Sequence[str], Sequence[str]]]) -> None:
    """Grid-search the neutral band on the raw score; the mean macro-F1 over the sets (each kind of text counts
    the same, however many rows it has); prints the best few."""
    scored = [([ours.raw_score(t) for t in texts], gold) for texts, gold in sets]
    results = []
    for low in range(-20, 50, 2):
        for high in range(0, 80, 2):
            if high <= low:
                continue
            f1s = []
            for scores, gold in scored:
                predicted = [
                    "neutral"
                    if s is None
                    else "positive"
                    if s >= high / 100
                    else "negative"
                    if s <= low / 100
                    else "neutral"
                    for s in scores
                ]
                f1s.append(macro_f1(predicted, gold))
            results.append((sum(f1s) / len(f1s), low / 100, high / 100))
    for f1, low, high in sorted(results, reverse=True)[:5]:
        print(f"  band: negative <= {low:.2f}, positive >= {high:.2f}: mean macro-F1 {f1:.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
