"""Leak count of a seeded probe: each kind of personal data in each field, over ``POST /ingest`` and ``cxbot import``.

``python bench/field_probe.py``: for every text field a source can fill (text, id, segment, channel, source, a
`fields` name, a `fields` value) and every kind the redactor covers (e-mail, phone, card, IBAN, IP), one comment
carries that kind's seeded value in that field; the probe goes in once through ``POST /ingest`` (the real aiohttp
server, over HTTP) and once through ``cxbot import`` (a CSV file), into a fresh SQLite database. Then every cell of
every table is read, and each seeded value counted where it survives (as typed, or its digits with other
separators). The figure is leaks / seeded values; the peer, in the same run, is the same probe with the redaction
step bypassed (the values as sent), which shows the scan finds what is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.app import App, build
from bot.importer import import_csv
from bot.server import create_web_app
from bot.settings import Settings
from storage.db import make_engine, upgrade
from storage.models import Base

TOKEN = "field-probe-token"
KINDS = {
    "email": "probe.{n}@example.com",
    "phone": "+44 20 7946 09{n:02d}",
    "card": None,  # a Luhn-valid number of its own per probe, below
    "iban": None,  # a checksum-valid IBAN of its own per probe, below
    "ip": "203.0.113.{n}",
}


def card(n: int) -> str:
    body = f"4{n:014d}"
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    digits = body + str((10 - total % 10) % 10)
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


def iban(n: int) -> str:
    bban = f"WEST{n:014d}"
    numeric = int("".join(str(int(c, 36)) for c in bban + "GB00"))
    compact = f"GB{98 - numeric % 97:02d}{bban}"
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


# The language is a tag (en, pt-BR), refused otherwise, so it carries nothing to leak; dates and scores are not text.
FIELDS = ["text", "id", "segment", "channel", "source", "field_name", "field_value"]


def seeded(kind: str, n: int) -> str:
    if kind == "card":
        return card(n)
    if kind == "iban":
        return iban(n)
    return KINDS[kind].format(n=n)  # type: ignore[union-attr]


def probes(way: str) -> list[tuple[dict[str, Any], str]]:
    """(comment, seeded value) for each field x kind; the value sits in one field, the rest are plain."""
    result = []
    n = 10 if way == "ingest" else 50
    for field in FIELDS:
        for kind in KINDS:
            n += 1
            value = seeded(kind, n)
            comment: dict[str, Any] = {"text": f"Refund {way} {n} late", "id": f"{way}-{n}", "nps": 5}
            if field == "text":
                comment["text"] += f", reach me at {value}"
            elif field == "id":
                comment["id"] = value
            elif field == "field_name":
                comment["fields"] = {f"contact {value}": "yes"}
            elif field == "field_value":
                comment["fields"] = {"contact": value}
            else:
                comment[field] = value
            result.append((comment, value))
    return result


def leaked(value: str, cells: list[str]) -> bool:
    digits = re.sub(r"[\s().+-]", "", value)
    return any(
        value.lower() in c.lower() or (len(digits) >= 7 and digits in re.sub(r"[\s().+-]", "", c)) for c in cells
    )


def cells_of(app: App) -> list[str]:
    out = []
    with app.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out += [json.dumps(v, default=str, ensure_ascii=False) for row in conn.execute(select(table)) for v in row]
    return out


async def ingest(app: App, comments: list[dict[str, Any]]) -> None:
    server = TestServer(create_web_app(app), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            for comment in comments:  # one by one: a value that breaks one item must not hide the others
                async with session.post(
                    str(server.make_url("/ingest")), json=comment, headers={"Authorization": f"Bearer {TOKEN}"}
                ) as response:
                    if response.status != 200:
                        raise SystemExit(f"/ingest refused a probe: {response.status} {await response.text()}")
    finally:
        await server.close()


def import_file(app: App, comments: list[dict[str, Any]], folder: Path) -> None:
    names = sorted({k for c in comments for k in (c.get("fields") or {})})
    columns = ["text", "id", "segment", "channel", "language", "nps", *names]
    for source in sorted({c.get("source", "csv") for c in comments}):  # one file per source (--source)
        path = folder / f"probe-{abs(hash(source))}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for c in comments:
                if c.get("source", "csv") == source:
                    fields = c.get("fields") or {}
                    writer.writerow([fields.get(col, c.get(col, "")) for col in columns])
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import_csv(app, path, source=source, post_old=True)


def run(*, bypass: bool) -> tuple[int, int, list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'probe.db'}"
        upgrade(make_engine(url))
        app = build(Settings(database_url=url, cx_ingest_token=TOKEN))  # type: ignore[arg-type]
        if bypass:
            import stories.pipeline as pipeline_module
            from stories.redacted_comment import RedactedComment

            def as_sent(self, comment):  # type: ignore[no-untyped-def]
                key = f"{comment.source}:id:{comment.external_id}"
                return RedactedComment(comment=comment, dedupe_key=key, identifiers=(), counts={})

            pipeline_module.Pipeline.redact = as_sent  # type: ignore[method-assign]
        try:
            by_way = {"ingest": probes("ingest"), "import": probes("import")}
            asyncio.run(ingest(app, [c for c, _ in by_way["ingest"]]))
            import_file(app, [c for c, _ in by_way["import"]], Path(folder))
            cells = cells_of(app)
            seeds = [(way, value, i) for way, items in by_way.items() for i, (_, value) in enumerate(items)]
            misses = [
                f"{way}: {FIELDS[i // len(KINDS)]} {list(KINDS)[i % len(KINDS)]}"
                for way, value, i in seeds
                if leaked(value, cells)
            ]
            return len(misses), len(seeds), misses
        finally:
            app.close()


def main() -> None:
    leaks, seeds, misses = run(bypass=False)
    peer_leaks, peer_seeds, peer_misses = run(bypass=True)
    print("| probe | seeded values | found in a table cell |")
    print("|---|---|---|")
    print(f"| cxbot (every field through the one redaction step) | {seeds} | {leaks} |")
    print(f"| peer: the same probe with redaction bypassed | {peer_seeds} | {peer_leaks} |")
    for miss in misses:
        print(f"  leaked: {miss}")
    for miss in peer_misses:
        print(f"  peer, found: {miss}")


if __name__ == "__main__":
    main()
