"""Prompt tokens per comment sent to the language model, beside the comments' own tokens, in the same run.

A batch of comments (up to OPENAI_BATCH_SIZE, 25 by default, as many as fit 12,000 characters) goes to the model as one request: the system prompt, the
JSON schema of the answer (``response_format``) and the user message holding the comments as JSON with their
context fields (source, NPS, sentiment, language, the words that routed them). Per comment, that request costs
(system + schema + user message) / comments in the batch tokens; its own text costs what it costs. Goal: at most 1.5x.

Tokens are counted the same way on both sides, by an approximation of the GPT tokenisers' pre-tokenisation (no
tokeniser file can be downloaded here): a word with its leading space is one token, a number one token per three
digits, a run of punctuation one token, a line break one token. Real BPE splits rare long words further, on both
sides alike; the ratio is the figure, not the counts.

    python bench/prompt_tokens.py                     # the bundled sample comments
    python bench/prompt_tokens.py --data ../shared/data/clothing_reviews.csv --batch 8
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Row, ratio_row
from bot.config import load_config
from bot.demo import sample_csv
from handlers.csv_import import read_csv
from stories.models import SummaryInput
from stories.routing import Router
from stories.sentiment import LexiconSentiment
from stories.summarize.llm import RESPONSE_FORMAT, SYSTEM_PROMPT, plan_batches, user_message

GOAL = 1.5
BATCH = 25  # OPENAI_BATCH_SIZE's default
_TOKEN = re.compile(r"'(?:s|t|re|ve|m|ll|d)\b| ?[^\W\d_]+|\d{1,3}| ?[^\w\s]+|\n| +(?=\S)| +")


def tokens(text: str) -> int:
    """Approximate GPT tokens (see the module docstring)."""
    return len(_TOKEN.findall(text))


def load_texts(data: Path | None) -> list[str]:
    if data is not None:
        with data.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            column = next(c for c in ("text", "narrative", "comment") if c in (reader.fieldnames or []))
            return [row[column] for row in reader if row.get(column)]
    return [c.text for c in read_csv(sample_csv(), name="sample").comments()]


def inputs(texts: list[str]) -> list[SummaryInput]:
    """The comments as the pipeline hands them to the summariser: with sentiment and the routing reasons."""
    router, sentiment = Router(load_config(None)), LexiconSentiment()
    found = []
    for text in texts:
        label = sentiment.analyze(text).label
        routing = router.route(text=text, nps=None, csat=None, sentiment=label, source="csv", segment=None, fields={})
        reasons = tuple(r.reason for r in routing.routes)
        found.append(SummaryInput(text=text, source="csv", sentiment=label, language="en", reasons=reasons))
    return found


def measure(texts: list[str], *, batch: int) -> tuple[float, float]:
    """``(prompt tokens per comment, the comments' own tokens per comment)``, over every batch as the summariser
    plans them (``plan_batches``: up to ``batch`` comments, as many as fit its characters)."""
    fixed = tokens(SYSTEM_PROMPT) + tokens(json.dumps(RESPONSE_FORMAT))
    items = inputs(texts)
    prompt = own = 0
    for planned in plan_batches([item.text for item in items], size=batch):
        chunk = items[planned.start : planned.stop]
        prompt += fixed + tokens(user_message(chunk))
        own += sum(tokens(item.text) for item in chunk)
    return prompt / len(items), own / len(items)


def rows(*, quick: bool, data: Path | None, pg: str | None) -> list[Row]:
    """For ``python -m bench``: on the bundled samples, and on the clothing reviews and loan complaints with
    ``--data``."""
    sets: list[tuple[str, list[str]]] = [("bundled sample comments", load_texts(None))]
    if data is not None:
        sets += [(name, load_texts(data / name)) for name in ("clothing_reviews.csv", "loan_complaints.csv")]
    found = []
    for name, texts in sets:
        texts = texts[:400] if quick else texts
        per_comment, own = measure(texts, batch=BATCH)
        found.append(
            ratio_row(
                "prompt_tokens",
                f"prompt tokens per comment, batches of up to {BATCH}, {name} ({len(texts):,})",
                per_comment,
                own,
                unit="tokens",
                peer_name="the comment's own",
                goal=GOAL,
            )
        )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="a CSV with a text, narrative or comment column")
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args()
    texts = load_texts(args.data)
    per_comment, own = measure(texts, batch=args.batch)
    fixed = tokens(SYSTEM_PROMPT) + tokens(json.dumps(RESPONSE_FORMAT))
    print(f"{len(texts)} comments, batches of {args.batch}; system prompt + schema {fixed} tokens per request")
    print(f"prompt tokens per comment {per_comment:.0f}, the comments' own {own:.0f}: {per_comment / own:.2f}x")
    print(f"goal <= {GOAL}x: {'met' if per_comment / own <= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
