"""How much of a comment its story keeps, and whether it invents anything: real text, one run.

    python bench/quality_stories.py --data ../shared/data

A TF-IDF (1-2-grams, sublinear, min_df 2) + logistic regression (C=10; this reproduces the data README's
floors) is trained on full comments (two folds, seed 9) and asked to
recognise each held-out comment's label from shorter texts made of it: the full comment (ceiling), its first
280 characters (the floor a story must reach), one random sentence (what a story that keeps nothing in
particular keeps), and cxbot's offline story (title + story, as a reader sees it). Beside it, in the same run,
faithfulness: numbers, names, links and @-mentions in the stories that the comment does not hold
(stories.summarize.validate.unsupported; the frame's own words count as ours).

Data (not shipped; see ../shared/data/README.md): loan_complaints.csv (label: issue), clothing_reviews.csv
(labels: rating band 1-2/3/4-5, and department), banking77_test.csv (label: category). Comments go through
the pipeline's own sentiment (the summariser's tie-breaker) but not redaction: the public sets are already
scrubbed, and redaction would change the text the classifier sees for every variant alike.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bench.report import Row
from stories.models import SummaryInput
from stories.sentiment import LexiconSentiment
from stories.summarize.frame import frame
from stories.summarize.offline import OfflineSummarizer
from stories.summarize.sentences import split
from stories.summarize.validate import unsupported

SEED = 9
DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@dataclass(frozen=True)
class Task:
    name: str
    file: str
    text: Callable[[dict[str, str]], str]
    label: Callable[[dict[str, str]], str]
    source: str


def _band(row: dict[str, str]) -> str:
    rating = int(row["rating"])
    return "1-2" if rating <= 2 else "3" if rating == 3 else "4-5"


TASKS = (
    Task("loan complaints: issue", "loan_complaints.csv", lambda r: r["narrative"], lambda r: r["issue"], "csv"),
    Task("clothing reviews: rating band", "clothing_reviews.csv", lambda r: r["text"], _band, "review"),
    Task(
        "clothing reviews: department", "clothing_reviews.csv", lambda r: r["text"], lambda r: r["department"], "review"
    ),
    Task("BANKING77: category", "banking77_test.csv", lambda r: r["text"], lambda r: r["category"], "chat"),
)


def load(path: Path, task: Task) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text, label = (task.text(row) or "").strip(), (task.label(row) or "").strip()
            if text and label:
                texts.append(text)
                labels.append(label)
    return texts, labels


def stories(texts: Sequence[str], *, source: str) -> tuple[list[str], list[int], float]:
    """Title + story per text, the number of unsupported tokens per story, and seconds taken."""
    sentiment = LexiconSentiment()
    summarizer = OfflineSummarizer()
    items = [SummaryInput(text=t, source=source, sentiment=sentiment.analyze(t).label) for t in texts]
    started = time.perf_counter()
    summaries = summarizer.summarize(items)
    seconds = time.perf_counter() - started
    shown, invented = [], []
    for item, summary in zip(items, summaries, strict=True):
        shown.append(f"{summary.title}. {summary.story}")
        allowed = frame(source=item.source, nps=None, csat=None, segment=None, language=None)
        invented.append(len(unsupported(f"{summary.title}. {summary.story}", comment=item.text, allowed=allowed)))
    return shown, invented, seconds


def random_sentence(text: str, rng: random.Random) -> str:
    sentences = split(text) or [text]
    return rng.choice(sentences)


def folds(n: int) -> list[tuple[list[int], list[int]]]:
    order = list(range(n))
    random.Random(SEED).shuffle(order)
    half = n // 2
    a, b = order[:half], order[half:]
    return [(a, b), (b, a)]


def accuracy_by_variant(texts: list[str], labels: list[str], variants: dict[str, list[str]]) -> dict[str, float]:
    correct: Counter[str] = Counter()
    for train, test in folds(len(texts)):
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        model = LogisticRegression(max_iter=2000, C=10)
        model.fit(vectorizer.fit_transform([texts[i] for i in train]), [labels[i] for i in train])
        for name, shown in variants.items():
            predicted = model.predict(vectorizer.transform([shown[i] for i in test]))
            correct[name] += sum(p == labels[i] for p, i in zip(predicted, test, strict=True))
    return {name: correct[name] / len(texts) for name in variants}


def run(task: Task, data: Path) -> dict[str, float]:
    """Prints the task's figures; returns the accuracy by variant (empty when the file is missing)."""
    path = data / task.file
    if not path.exists():
        print(f"{task.name}: {path} not found, skipped")
        return {}
    texts, labels = load(path, task)
    rng = random.Random(SEED)
    shown, invented, seconds = stories(texts, source=task.source)
    variants = {
        "full comment": texts,
        "first 280 characters": [t[:280] for t in texts],
        "random sentence": [random_sentence(t, rng) for t in texts],
        "story (title + story)": shown,
    }
    scores = accuracy_by_variant(texts, labels, variants)
    majority = Counter(labels).most_common(1)[0][1] / len(labels)
    print(f"\n{task.name}: {len(texts)} comments, {len(set(labels))} labels, majority {majority:.3f}")
    for name, value in scores.items():
        print(f"  {name:<24} {value:.3f}")
    stories_with = sum(1 for n in invented if n)
    print(
        f"  faithfulness: {sum(invented)} unsupported numbers/names/links/mentions in {stories_with} of "
        f"{len(shown)} stories; offline summariser {seconds * 1000 / len(texts):.2f} ms per comment"
    )
    lengths = sorted(len(s) for s in shown)
    print(f"  story length (title + story) median {lengths[len(lengths) // 2]} characters")
    return scores


def rows(*, quick: bool, data: Path | None, pg: str | None) -> list[Row]:
    """For ``python -m bench --data DIR``: how well a story lets a reader tell a complaint's issue, beside its first
    280 characters (the data README's floor, 0.382, measured again in the same run). Loan complaints only."""
    if data is None:
        return []
    scores = run(TASKS[0], data)
    story, first = scores["story (title + story)"], scores["first 280 characters"]
    return [
        Row(
            "quality_stories",
            "loan complaints: issue told from the offline story",
            f"{story:.3f}",
            f"first 280 characters {first:.3f}",
            ">= first 280 characters",
            story >= first,
        )
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the shared CSV files")
    parser.add_argument("--only", help="run only tasks whose name contains this text")
    args = parser.parse_args(argv)
    print("Shared 2-core machine, other engineers' work running: the per-comment time is indicative only.")
    for task in TASKS:
        if args.only and args.only.casefold() not in task.name.casefold():
            continue
        run(task, args.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
