"""Prompt tokens per comment sent to the language model, beside the comments' own tokens, in the same run.

A batch of comments goes to the model as one request, planned as the summariser plans it (``plan_batches``: within
12,000 characters of comments and an answer no longer than OPENAI_BATCH_SIZE's, 25 by default, longest stories;
short comments get short stories, so more of them share a request): the system prompt, the JSON schema of the
answer (``response_format``) and the user message holding the comments as JSON rows with their context fields
(source, NPS, language, the words that routed them). Per comment, that request costs (system + schema + user
message) / comments in the batch tokens; its own text costs what it costs. Goal: at most 1.5x.

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
from stories.summarize.validate import STORY_MAX, TITLE_MAX

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
    plans them (``plan_batches``)."""
    per_comment, own, _ = breakdown(texts, batch=batch)
    return per_comment, own


def answer_tokens(texts: list[str]) -> int:
    """The answer a request asks for, at its longest: each title and story as long as its limit and its comment
    allow (the model keeps the comment's words), in the schema's JSON."""
    entries = [
        {
            "index": i,
            "title": t[:TITLE_MAX],
            "what_happened": t[:STORY_MAX],
            "impact": "",
            "ask": "",
            "translated": False,
        }
        for i, t in enumerate(texts)
    ]
    return tokens(json.dumps({"stories": entries}))


def largest_answers(texts: list[str], *, batch: int) -> tuple[int, int]:
    """``(the largest answer among the planned requests, the answer to ``batch`` comments of the longest kind)``,
    in tokens: short comments share a request only as far as their answers stay that short."""
    planned = plan_batches(texts, size=batch)
    longest = ("word " * STORY_MAX)[:STORY_MAX]
    return max(answer_tokens(texts[b.start : b.stop]) for b in planned), answer_tokens([longest] * batch)


def breakdown(texts: list[str], *, batch: int) -> tuple[float, float, int]:
    """``measure``'s two figures and the number of requests."""
    fixed = tokens(SYSTEM_PROMPT) + tokens(json.dumps(RESPONSE_FORMAT))
    items = inputs(texts)
    prompt = own = 0
    planned = plan_batches([item.text for item in items], size=batch)
    for batch_range in planned:
        chunk = items[batch_range.start : batch_range.stop]
        prompt += fixed + tokens(user_message(chunk))
        own += sum(tokens(item.text) for item in chunk)
    return prompt / len(items), own / len(items), len(planned)


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
                f"prompt tokens per comment, OPENAI_BATCH_SIZE {BATCH}, {name} ({len(texts):,})",
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
    per_comment, own, requests = breakdown(texts, batch=args.batch)
    fixed = tokens(SYSTEM_PROMPT) + tokens(json.dumps(RESPONSE_FORMAT))
    print(
        f"{len(texts)} comments, OPENAI_BATCH_SIZE {args.batch}: {requests} requests ({len(texts) / requests:.1f} a request)"
    )
    print(f"system prompt + schema {fixed} tokens a request: {fixed * requests / len(texts):.1f} a comment")
    largest, longest = largest_answers(texts, batch=args.batch)
    print(f"largest answer asked for {largest} tokens (at most); {args.batch} of the longest stories: {longest}")
    print(f"prompt tokens per comment {per_comment:.0f}, the comments' own {own:.0f}: {per_comment / own:.2f}x")
    print(f"goal <= {GOAL}x: {'met' if per_comment / own <= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
