"""The promises about the repository itself: CI runs README's test command, the Dockerfile ships every package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text, flags=re.S)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = next(c for c in readme_commands() if "tests/check.py" in c)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


def test_readme_demo_command_sets_up_its_own_environment() -> None:
    demo = next(c for c in readme_commands() if "cxbot demo" in c)
    assert demo.startswith("python3 -m venv ")


# README's POSIX commands on Windows (cmd): a venv's programs in Scripts\, Python as `py`, double quotes, and the
# install folder of Getting started's step 1 under C:\.
WINDOWS = (
    ("python3 ", "py "),
    ("/opt/cxbot/bin/", "C:\\cxbot\\venv\\Scripts\\"),
    ("/opt/cxbot", "C:\\cxbot\\venv"),
    ("/bin/", "\\Scripts\\"),
    ("'", '"'),
)


def windows(command: str) -> str:
    for posix, theirs in WINDOWS:
        command = command.replace(posix, theirs)
    return command


def test_each_virtual_environment_command_in_readme_has_its_windows_form_beside_it() -> None:
    """An admin on Windows met `.venv/bin/...`, which is `.venv\\Scripts\\...` there; a POSIX command changed
    without its Windows form fails here."""
    text = (ROOT / "README.md").read_text()
    posix = [c for c in readme_commands() if "/bin/" in c]
    posix += re.findall(r"`(python3 -m venv [^`]+)`", text)
    assert len(posix) == 3  # the demo, the tests, Getting started's install
    for command in posix:
        assert f"`{windows(command)}`" in text, windows(command)


def test_dockerfile_copies_every_package_and_migrates_before_serving() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        assert re.search(rf"^COPY {package} \./{package}$", dockerfile, flags=re.M), package
    assert 'ENTRYPOINT ["docker-entrypoint.sh"]' in dockerfile  # migrates, then serves (tests/test_container.py)
    assert re.search(r"^USER (?!root)", dockerfile, flags=re.M)
