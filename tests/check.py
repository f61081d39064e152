"""The whole test suite: lint, format, layer contracts, types, then pytest (SQLite, and PostgreSQL when
CX_TEST_DATABASE_URL is set). README's test command runs this file; so does .ci/run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

STEPS = [
    ("ruff lint", [str(BIN / "ruff"), "check", "."]),
    ("ruff format", [str(BIN / "ruff"), "format", "--check", "."]),
    ("import contracts", [str(BIN / "lint-imports")]),
    ("mypy (stories, storage)", [sys.executable, "-m", "mypy"]),
    ("pytest", [sys.executable, "-m", "pytest", *sys.argv[1:]]),
]


def main() -> int:
    for name, cmd in STEPS:
        print(f"== {name}", flush=True)
        if subprocess.call(cmd, cwd=ROOT) != 0:
            print(f"FAILED: {name}", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
