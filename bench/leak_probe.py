"""Leak probe: seeded personal data of every kind, in every field, through both ways in; then every cell read back.

Each probe is one comment carrying one generated value (nothing here is real data) of one kind in one field:
text, segment, a custom field (``fields.notes``), channel, source or id. Every (kind, field) pair goes in
twice, with its own value each time: through ``cxbot import`` (a CSV file; ``--source`` for the source field)
and through ``POST /ingest`` (JSON, over HTTP to the server ``cxbot serve`` builds), on a fresh SQLite database.
Then every cell of every table is searched for every spelling of every value (as written, canonical, digits
only; compared with the cell's letters and digits alone, so separators cannot hide one), and the leaks are counted per kind and field: cells that still hold the value.

    python bench/leak_probe.py            # prints the kind x field table; exit 1 if anything leaked

Fields other than the text are redacted by another change (issue 12, point 2); until it lands they leak here.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import string
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import inspect, select  # noqa: E402

FIELDS = ("text", "segment", "fields", "channel", "source", "id")
TOKEN = "probe-ingest-token-0123456789"
RNG = random.Random(20261202)


def _digits(n: int) -> str:
    return "".join(RNG.choice(string.digits) for _ in range(n))


def _letters(n: int) -> str:
    return "".join(RNG.choice(string.ascii_lowercase) for _ in range(n))


def _luhn(body: str) -> str:
    for check in string.digits:
        total = 0
        for position, char in enumerate(reversed(body + check)):
            value = int(char) * (2 if position % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return body + check
    raise AssertionError


def _iban() -> str:
    bban = "WEST" + _digits(14)
    numeric = "".join(str(int(c, 36)) for c in bban + "GB00")
    return f"GB{98 - int(numeric) % 97:02d}{bban}"


@dataclass(frozen=True)
class Value:
    written: str  # as placed in the field
    spellings: tuple[str, ...]  # any of these in a cell is a leak (compared case-insensitively)


def _only_digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def email() -> Value:
    local = f"probe.{_letters(8)}"
    return Value(f"{local}@example.com", (f"{local}@example.com", local))


def spelled_email() -> Value:
    local = f"probe{_letters(8)}"
    return Value(f"{local} at example dot com", (local,))


def phone_gb() -> Value:
    number = f"07911 {_digits(6)}"
    return Value(number, (number, _only_digits(number), _only_digits(number)[1:]))


def phone_us_555() -> Value:
    number = f"415-555-{_digits(4)}"
    return Value(number, (number, _only_digits(number)))


def phone_fr() -> Value:
    number = "06 " + " ".join(_digits(2) for _ in range(4))
    return Value(number, (number, _only_digits(number), _only_digits(number)[1:]))


def phone_intl() -> Value:
    number = f"+49 30 {_digits(7)}"
    return Value(number, (number, _only_digits(number), _only_digits(number)[2:]))


def card() -> Value:
    digits = _luhn("4" + _digits(14))
    return Value(".".join(digits[i : i + 4] for i in range(0, 16, 4)), (digits,))


def iban() -> Value:
    compact = _iban()
    return Value("-".join(compact[i : i + 4] for i in range(0, len(compact), 4)), (compact, compact[8:]))


def ip() -> Value:
    octets = [10, RNG.randint(100, 255), RNG.randint(100, 255), RNG.randint(100, 255)]
    written = ".".join(f"{o:03d}" for o in octets)
    return Value(written, (written, ".".join(map(str, octets))))


def ssn() -> Value:
    written = f"{RNG.randint(100, 599)}-{RNG.randint(10, 99)}-{RNG.randint(1000, 9999)}"
    return Value(written, (written, _only_digits(written)))


def ni_number() -> Value:
    digits = _digits(6)
    written = f"AB {digits[:2]} {digits[2:4]} {digits[4:]} C"
    return Value(written, (written, f"AB{digits}C"))


def date_of_birth() -> Value:
    day, month, year = RNG.randint(13, 28), RNG.randint(1, 12), RNG.randint(1931, 1989)
    return Value(
        f"born on {day:02d}/{month:02d}/{year}", (f"{day:02d}/{month:02d}/{year}", f"{year}-{month:02d}-{day:02d}")
    )


def name() -> Value:
    last = "Vor" + _letters(7)
    return Value(f"My name is Ilse {last.capitalize()}", (last,))


KINDS: dict[str, Callable[[], Value]] = {
    "email": email,
    "email spelled out": spelled_email,
    "phone GB": phone_gb,
    "phone US 555": phone_us_555,
    "phone FR": phone_fr,
    "phone +49": phone_intl,
    "card": card,
    "IBAN": iban,
    "IPv4": ip,
    "SSN": ssn,
    "NI number": ni_number,
    "date of birth": date_of_birth,
    "name": name,
}


@dataclass(frozen=True)
class Probe:
    kind: str
    field: str
    way: str
    value: Value
    number: int

    def comment(self) -> dict[str, object]:
        """As /ingest takes it; the CSV row is made from the same dict."""
        v = self.value.written
        return {
            "id": v if self.field == "id" else f"probe-{self.way}-{self.number}",
            "text": f"Probe {self.number}: the parcel came late. {v if self.field == 'text' else ''}".strip(),
            "segment": v if self.field == "segment" else "Consumer",
            "channel": v if self.field == "channel" else "web",
            "source": v if self.field == "source" else f"probe-{self.way}",
            "fields": {"notes": v if self.field == "fields" else "none"},
        }


def make_probes() -> list[Probe]:
    probes = []
    for way in ("import", "ingest"):
        for kind, make in KINDS.items():
            for field in FIELDS:
                probes.append(Probe(kind, field, way, make(), len(probes)))
    return probes


def run_import(probes: list[Probe], folder: Path) -> None:
    """``cxbot import``, one file per source (the source is a command-line option, not a column)."""
    from bot.cli import main as cli

    by_source: dict[str, list[dict[str, object]]] = defaultdict(list)
    for probe in probes:
        comment = probe.comment()
        by_source[str(comment["source"])].append(comment)
    for n, (source, comments) in enumerate(by_source.items()):
        path = folder / f"probe{n}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "text", "segment", "channel", "notes"])
            for c in comments:
                writer.writerow([c["id"], c["text"], c["segment"], c["channel"], c["fields"]["notes"]])  # type: ignore[index]
        if cli(["import", str(path), "--source", source]) != 0:
            raise SystemExit(f"cxbot import failed for {path}")


async def run_ingest(probes: list[Probe]) -> None:
    """``POST /ingest`` on the server ``cxbot serve`` builds, in this process on a free port."""
    from bot.app import build
    from bot.server import create_web_app
    from bot.settings import Settings

    app = build(Settings())
    runner = web.AppRunner(create_web_app(app), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session:
            for start in range(0, len(probes), 50):
                body = json.dumps([p.comment() for p in probes[start : start + 50]])
                async with session.post(
                    f"http://127.0.0.1:{port}/ingest",
                    data=body,
                    headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
                ) as answer:
                    result = await answer.json()
                    if answer.status != 200:
                        raise SystemExit(f"/ingest answered {answer.status}: {result}")
    finally:
        await runner.cleanup()


def _compact(text: str) -> str:
    """Lower case, letters and digits only: "4111.1111" and "4111 1111" are the same leak."""
    return "".join(c for c in text.lower() if c.isalnum())


def scan(database_url: str, probes: list[Probe]) -> dict[tuple[str, str, str], int]:
    """Cells holding any spelling of each probe's value, keyed by (way, kind, field)."""
    from storage.db import make_engine

    engine = make_engine(database_url)
    spellings = [(_compact(s), probe) for probe in probes for s in probe.value.spellings]
    leaks: dict[tuple[str, str, str], int] = defaultdict(int)
    with engine.connect() as conn:
        metadata_tables = inspect(conn).get_table_names()
        from sqlalchemy import MetaData, Table

        meta = MetaData()
        for table_name in metadata_tables:
            table = Table(table_name, meta, autoload_with=conn)
            for row in conn.execute(select(table)):
                for cell in row:
                    if cell is None or isinstance(cell, int | float):
                        continue
                    text = cell.decode("utf-8", "replace") if isinstance(cell, bytes) else str(cell)
                    compact, digits = _compact(text), _only_digits(text)
                    seen = set()
                    for spelling, probe in spellings:
                        if probe.number not in seen and spelling in (digits if spelling.isdigit() else compact):
                            seen.add(probe.number)
                            leaks[(probe.way, probe.kind, probe.field)] += 1
    engine.dispose()
    return leaks


def main() -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    probes = make_probes()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'probe.db'}"
        os.environ.update({"DATABASE_URL": url, "CX_INGEST_TOKEN": TOKEN, "LOG_LEVEL": "WARNING"})
        from bot.cli import main as cli

        if cli(["db", "upgrade"]) != 0:
            raise SystemExit("cxbot db upgrade failed")
        run_import([p for p in probes if p.way == "import"], Path(folder))
        asyncio.run(run_ingest([p for p in probes if p.way == "ingest"]))
        leaks = scan(url, probes)

    print(f"Leak probe: {len(probes)} comments, {len(KINDS)} kinds x {len(FIELDS)} fields x 2 ways in")
    print("Cells still holding a seeded value (any spelling), `cxbot import` / `POST /ingest`:\n")
    print("| kind | " + " | ".join(FIELDS) + " | total |")
    print("|---|" + "---|" * (len(FIELDS) + 1))
    total = 0
    for kind in KINDS:
        cells = []
        row_total = 0
        for field in FIELDS:
            a, b = leaks.get(("import", kind, field), 0), leaks.get(("ingest", kind, field), 0)
            row_total += a + b
            cells.append(f"{a} / {b}")
        total += row_total
        print(f"| {kind} | " + " | ".join(cells) + f" | {row_total} |")
    text_total = sum(n for (_, _, field), n in leaks.items() if field == "text")
    print(f"\nleaking cells: {total} in all; {text_total} from the comment text")
    return 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
