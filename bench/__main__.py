"""Every benchmark, one table: ``python -m bench [--quick] [--only NAME ...] [--data DIR] [--pg URL]``.

Each figure stands beside its bound or peer measured in the same run (a bare server, the executemany bound, the
rate limit's minimum, bare SQL, the comments' own tokens, the smaller text, plain VADER, the data README's
floors). ``--quick`` runs smaller sizes (each row says the size that ran); ``--data DIR`` adds the quality figures
on the shared data sets (and real text where a bench can use it); ``--pg URL`` adds PostgreSQL (``/cx actions``
needs it); ``--verbose`` also prints each bench's own tables. The machine and its load are printed with the table:
figures from a shared, loaded machine are indicative.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Row, quiet, table

# name -> what it measures (each is bench/NAME.py, whose rows() gives its lines of the table)
BENCHES = {
    "slack_ack": "Slack ack p50/p99 under load vs a bare aiohttp server",
    "pipeline": "ingest throughput vs the steps bare + executemany",
    "pacing": "paced Slack posts vs the rate limit's minimum",
    "actions": "`/cx actions` pages at 1,000,000 commitments vs bare SQL (PostgreSQL)",
    "prompt_tokens": "prompt tokens per comment vs the comments' own",
    "redaction": "redaction time at 10x the size vs the smaller size (linear growth)",
    "steps": "single steps at sizes that once were slow vs the bounds tests used to assert",
    "quality_sentiment": "sentiment vs plain VADER (--data)",
    "quality_routing": "routing vs a plain learner and the data README's floors (--data)",
    "quality_stories": "what a story keeps vs the first 280 characters (--data)",
}


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (each row says which ran)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), metavar="NAME", help=", ".join(BENCHES))
    parser.add_argument("--data", type=Path, help="folder with the shared data sets (../shared/data)")
    parser.add_argument("--pg", default=os.environ.get("CX_TEST_DATABASE_URL"), help="PostgreSQL URL")
    parser.add_argument("--verbose", action="store_true", help="also print each bench's own output")
    args = parser.parse_args(argv)
    if args.data is not None and not args.data.is_dir():
        parser.error(f"--data {args.data}: not a folder; pass the folder holding the shared CSV files")

    names = args.only or list(BENCHES)
    print(f"python -m bench{' --quick' if args.quick else ''}: {', '.join(names)}")
    print(f"machine: {machine()}", flush=True)
    rows: list[Row] = []
    started = time.perf_counter()
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        begun = time.perf_counter()
        with quiet() as output:
            found = module.rows(quick=args.quick, data=args.data, pg=args.pg)
        if args.verbose:
            print(output.getvalue())
        rows += found
        print(f"  {name}: {len(found)} rows in {time.perf_counter() - begun:.0f} s", file=sys.stderr, flush=True)
    print()
    print(table(rows))
    print(f"\n{time.perf_counter() - started:.0f} s in all; load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
