"""The container files agree with the code (no Docker engine runs here, so this is what checks them): the
Dockerfile, compose.yaml, .env.example, the lock file, the package's `cxbot` script, the server's routes and README.

When a dependency is added to pyproject.toml, regenerate the lock with :data:`LOCK_COMMAND`; when a setting is added
to bot/settings.py, add it to .env.example."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestServer
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pydantic import TypeAdapter

from bot.cli import build_parser
from bot.server import create_web_app
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
LOCK_COMMAND = "uv pip compile pyproject.toml --python-version 3.11 --universal --generate-hashes -o requirements.lock"
LOCK_INSTALL = "pip install --require-hashes -r requirements.lock"
SETTINGS = {name.upper(): field for name, field in Settings.model_fields.items()}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _instruction(name: str, text: str) -> list[str]:
    """Every ``NAME ...`` instruction's arguments, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.+)$", joined, flags=re.M)]


def _env_example() -> dict[str, str]:
    """``NAME=value`` of .env.example, commented (``# NAME=value``: the default kept) or not."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return dict(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.M))


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    listed = _env_example()
    assert not set(SETTINGS) - set(listed), f"add {sorted(set(SETTINGS) - set(listed))} to .env.example"
    assert not set(listed) - set(SETTINGS), f"{sorted(set(listed) - set(SETTINGS))} in .env.example are no settings"


def test_env_example_shows_each_default_as_the_settings_have_it() -> None:
    """A commented line "keeps the default shown", so the shown value must be the default."""
    for name, field in SETTINGS.items():
        if field.default is None:
            continue
        shown = TypeAdapter(field.annotation).validate_python(_env_example()[name])
        assert shown == field.default, (
            f".env.example shows {name}={_env_example()[name]}, the default is {field.default}"
        )


def test_compose_runs_cxbot_on_postgresql_once_it_is_healthy() -> None:
    services = _compose()["services"]
    cxbot, postgres = services["cxbot"], services["postgres"]
    assert cxbot["build"] == "." and cxbot["env_file"] == ".env"
    environment = cxbot["environment"]
    assert set(environment) <= set(SETTINGS), f"{set(environment) - set(SETTINGS)} are not cxbot settings"
    url = environment["DATABASE_URL"]
    assert url.startswith("postgresql://") and "@postgres:5432/" in url
    assert cxbot["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["image"].startswith("postgres:")
    ports = [str(p).rsplit(":", 1)[1] for p in cxbot["ports"]]
    assert ports == [environment["PORT"]] == [str(Settings.model_fields["port"].default)]
    config_mount = next(v for v in cxbot["volumes"] if v.startswith("./config:"))
    assert _env_example()["CX_CONFIG"].startswith(config_mount.split(":")[1] + "/")


def test_dockerfile_is_multi_stage_non_root_and_installs_only_the_lock_file() -> None:
    dockerfile = _dockerfile()
    stages = _instruction("FROM", dockerfile)
    assert len(stages) == 2 and stages[0].endswith(" AS build") and "COPY --from=build" in dockerfile
    assert all(s.startswith("python:3.11") for s in stages)  # the Python the lock file is made for
    [user] = _instruction("USER", dockerfile)
    assert user not in ("root", "0")
    commands = [c.strip() for run in _instruction("RUN", dockerfile) for c in run.split("&&")]
    installs = [re.sub(r"^\S*pip install", "pip install", c) for c in commands if re.match(r"\S*pip install", c)]
    # Everything from the lock file, hashes checked; then cxbot itself, adding nothing unpinned.
    assert installs == [LOCK_INSTALL, "pip install --no-deps ."]
    assert "COPY requirements.lock" in dockerfile


def test_the_image_runs_the_packages_cxbot_script_and_migrates_before_serving() -> None:
    dockerfile = _dockerfile()
    assert "cxbot" in PYPROJECT["project"]["scripts"]
    [entrypoint] = _instruction("ENTRYPOINT", dockerfile)
    [cmd] = _instruction("CMD", dockerfile)
    assert entrypoint == '["docker-entrypoint.sh"]' and cmd == '["serve"]'
    assert build_parser().parse_args(["serve"]).command == "serve"
    script = (ROOT / "docker-entrypoint.sh").read_text(encoding="utf-8")
    assert os.access(ROOT / "docker-entrypoint.sh", os.X_OK)
    lines = [line.strip() for line in script.splitlines() if line.strip() and not line.startswith("#")]
    assert lines.index("cxbot db upgrade") < lines.index('exec cxbot "$@"')
    [exposed] = _instruction("EXPOSE", dockerfile)
    assert exposed == str(Settings.model_fields["port"].default)
    assert re.search(rf"\bPORT={exposed}\b", " ".join(_instruction("ENV", dockerfile)))


def test_the_entrypoint_migrates_for_serve_only_and_passes_arguments_on(tmp_path: Path) -> None:
    """Run docker-entrypoint.sh with a stand-in `cxbot` that records its arguments."""
    record = tmp_path / "calls"
    stand_in = tmp_path / "cxbot"
    stand_in.write_text(f'#!/bin/sh\necho "$@" >> {shlex.quote(str(record))}\n', encoding="utf-8")
    stand_in.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    for args in ([], ["serve", "--port", "8080"], ["doctor"]):
        subprocess.run(["sh", str(ROOT / "docker-entrypoint.sh"), *args], env=env, check=True)
    assert record.read_text().splitlines() == ["db upgrade", "", "db upgrade", "serve --port 8080", "doctor"]


@pytest.fixture
def database_url(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "cxbot.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


async def test_the_healthcheck_command_passes_against_a_running_server(app) -> None:  # type: ignore[no-untyped-def]
    [healthcheck] = _instruction("HEALTHCHECK", _dockerfile())
    command = healthcheck.split(" CMD ", 1)[1]
    assert command.startswith("python -c ")
    code = shlex.split(command)[2]
    assert "/healthz" in code
    server = TestServer(create_web_app(app), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        env = {**os.environ, "PORT": str(server.port)}
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", code], env=env, timeout=30)
        assert done.returncode == 0
    finally:
        await server.close()
    env = {**os.environ, "PORT": str(server.port)}  # the server has stopped: the same command fails
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", code], env=env, capture_output=True)
    assert done.returncode != 0


def _locked() -> dict[str, tuple[str, int]]:
    """canonical name -> (pinned version, number of hashes)."""
    text = LOCK.read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2] if text.startswith("#") else text)
    locked = {}
    for entry in entries:
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;\\]+)", entry)
        if match:
            locked[canonicalize_name(match.group(1))] = (match.group(2), entry.count("--hash=sha256:"))
    return locked


def test_the_lock_file_pins_every_dependency_in_pyproject_with_hashes() -> None:
    locked = _locked()
    assert len(locked) > 50
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        names = [requirement.name] + [f"{requirement.name}-{extra}" for extra in requirement.extras]
        for name in names:
            pinned = locked.get(canonicalize_name(name))
            assert pinned is not None, f"{name} is not in requirements.lock; regenerate it: {LOCK_COMMAND}"
            assert requirement.specifier.contains(pinned[0], prereleases=True), (
                f"requirements.lock pins {name}=={pinned[0]}, pyproject asks {requirement.specifier}; "
                f"regenerate it: {LOCK_COMMAND}"
            )
    assert all(hashes > 0 for _, hashes in locked.values()), "every pin needs its hashes (--generate-hashes)"


def test_the_lock_file_says_how_it_was_made_and_readme_installs_from_it() -> None:
    assert LOCK_COMMAND in LOCK.read_text(encoding="utf-8").splitlines()[1]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert LOCK_COMMAND in readme and LOCK_INSTALL in readme
    assert "docker compose up" in readme and "cp .env.example .env" in readme


def test_every_file_the_dockerfile_copies_from_the_build_context_exists() -> None:
    """`docker compose up --build` stops at a COPY of a file that moved (manifest.yaml, now in handlers/slack)."""
    sources = []
    for arguments in _instruction("COPY", _dockerfile()):
        parts = [p for p in arguments.split() if not p.startswith("--")]
        if "--from=" not in arguments:
            sources += parts[:-1]
    assert sources, "no COPY found"
    missing = [s for s in sources if not (ROOT / s).exists()]
    assert missing == [], f"the Dockerfile copies {missing}, which the repository does not have"
