"""`python -m bench` keeps working: the cheap benches run in --quick and come out as one table, each figure beside
its peer measured in the same run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_python_m_bench_quick_prints_one_table_with_each_figure_beside_its_peer() -> None:
    done = bench("--quick", "--only", "prompt_tokens")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith("machine: ") and "CPUs" in lines[1] and "load average" in lines[1]
    header = lines.index("| bench | figure | measured | bound or peer (same run) | goal | |")
    [row] = [line for line in lines[header + 2 :] if line.startswith("| ")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "prompt_tokens" and "bundled sample comments" in cells[1]
    measured, peer = float(cells[2].split()[0]), float(cells[3].split()[-2])
    ratio = float(cells[2].split("(")[1].rstrip("x)"))
    assert measured > peer > 0 and abs(ratio - measured / peer) / ratio < 0.01  # the ratio of the two shown
    assert cells[4] == "<= 1.5x" and cells[5] in ("met", "NOT met")


def test_an_unknown_bench_or_a_missing_data_folder_is_refused(tmp_path: Path) -> None:
    unknown = bench("--only", "nonsense")
    assert unknown.returncode == 2 and "invalid choice: 'nonsense'" in unknown.stderr
    missing = bench("--quick", "--only", "prompt_tokens", "--data", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr
