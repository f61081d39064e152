"""cxbot as README installs it (`pip install .`, a wheel), not as the tests import it (an editable checkout).

A file the code reads at run time but the wheel leaves out works in every other test and fails on the first
admin's machine: `cxbot slack-app create` once crashed with FileNotFoundError for manifest.yaml. The wheel is
built from a copy made as git checks out without symlinks (Windows, core.symlinks=false), where the manifest,
then a symlink, became a file holding the path "../../manifest.yaml".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCAL = (".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "*.db*")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip install .` would install, unpacked into a folder that goes first on sys.path."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # a clean copy: pip builds in the tree, and a stale build/ would hide a missing file
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(*LOCAL))
    for link in [p for p in source.rglob("*") if p.is_symlink()]:
        # as git checks a symlink out without symlinks (Windows, core.symlinks=false): a file holding its target
        target = os.readlink(link)
        link.unlink()
        link.write_text(target, encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("cxbot-*.whl")
    site = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def _cxbot(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys, bot.cli; assert bot.cli.__file__.startswith(sys.argv[1]), bot.cli.__file__; "
    code += "sys.argv = ['cxbot', *sys.argv[2:]]; sys.exit(bot.cli.main())"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CX_", "SLACK_", "MICROSOFT_", "OPENAI_"))}
    env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, "-c", code, str(site), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_slack_app_create_reads_its_manifest_when_installed(installed: Path, tmp_path: Path) -> None:
    done = _cxbot(installed, "slack-app", "create", "--url", "https://cx.example.org", "--dry-run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    assert manifest["settings"]["event_subscriptions"]["request_url"] == "https://cx.example.org/slack/events"


def test_the_wheel_carries_the_manifest_the_repository_has(installed: Path) -> None:
    packaged = installed / "handlers" / "slack" / "manifest.yaml"
    assert packaged.read_bytes() == (ROOT / "handlers" / "slack" / "manifest.yaml").read_bytes()
