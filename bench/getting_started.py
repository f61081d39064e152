"""README's Getting started, the steps a machine does, timed: ``python bench/getting_started.py [--no-install]``.

Runs offline: a fake Slack (tests/fakes/slack_api.py, a real HTTP server on 127.0.0.1) stands in for Slack, with
an app configuration token, the bundled example's channels and cxbot invited to each. Each step runs the
installed ``cxbot`` script as an admin would, in a fresh folder, and prints its time beside the time README
states. The human steps (clicking Install in Slack, copying tokens, inviting the bot) are not timed here.

1. install: a fresh venv, ``pip install --require-hashes -r requirements.lock``, ``pip install --no-deps .``
   (``--no-install`` uses the ``cxbot`` beside this Python instead, and skips the step);
2. ``cxbot slack-app create --url https://cx.example.org --token xoxe.xoxp-...`` against the fake;
3. ``cxbot db upgrade`` on a new SQLite file;
4. ``cxbot doctor`` (every check ok against the fake);
5. ``cxbot serve``: start to ``GET /readyz`` 200;
6. the first story: ``POST /ingest`` of an urgent comment to its first ``chat.postMessage`` at the fake.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import yaml  # noqa: E402

from tests.fakes.slack_api import FakeSlackApi  # noqa: E402

CONFIG_TOKEN = "xoxe.xoxp-1-getting-started"
BOT_TOKEN = "xoxb-getting-started"
INGEST_TOKEN = "getting-started-ingest-token"
URGENT = "I was charged twice for my order and my lawyer will hear about it."  # urgent: posted at once, any hour
# What README's Getting started states for each step (measured by this bench at load 2-3; keep them in step).
README_SAYS = {
    "install": "36-40 s",
    "slack-app create": "1.0-1.4 s",
    "db upgrade": "1.1-2.0 s",
    "doctor": "1.2-2.0 s",
    "serve to /readyz": "1.5-2.6 s",
    "first /ingest to post": "0.6-1.0 s",
}
_SETTINGS = ("CX_", "DB_", "SLACK_", "OPENAI_", "MICROSOFT_", "DATABASE_URL", "PORT", "LOG_")


def example_channels() -> list[str]:
    """The Slack channel names the bundled example configuration uses (the fake has each, with cxbot in it)."""
    config = yaml.safe_load((ROOT / "bot" / "data" / "cxbot.example.yaml").read_text(encoding="utf-8"))
    names = [d["slack_channel"] for d in config["departments"]] + list(config["intake"]["slack_channels"])
    names += [config.get("kudos_slack_channel"), (config.get("kudos") or {}).get("praise_slack_channel")]
    return sorted({n.removeprefix("#") for n in names if n})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(args: list[str], *, env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Run a command to its end (in a thread: the fake answers on this loop meanwhile); its time and output."""
    started = time.perf_counter()
    done = await asyncio.to_thread(subprocess.run, args, env=env, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return took, done.stdout


async def install(work: Path) -> tuple[float, Path]:
    venv = work / "venv"
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    env = dict(os.environ)
    took = (await run([sys.executable, "-m", "venv", str(venv)], env=env, cwd=work))[0]
    took += (await run([*pip, "--require-hashes", "-r", str(ROOT / "requirements.lock")], env=env, cwd=work))[0]
    took += (await run([*pip, "--no-deps", str(ROOT)], env=env, cwd=work))[0]
    return took, venv / "bin" / "cxbot"


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-install", action="store_true", help="use the cxbot beside this Python; skip step 1")
    options = parser.parse_args(argv)
    times: dict[str, float | None] = {}

    async with FakeSlackApi(tokens=[BOT_TOKEN]) as slack:
        slack.config_tokens.add(CONFIG_TOKEN)
        for n, name in enumerate(example_channels()):
            slack.channels[f"C0GS{n:06d}"] = name
            slack.members.add(f"C0GS{n:06d}")
        with tempfile.TemporaryDirectory(prefix="cxbot-getting-started-") as folder:
            work = Path(folder)
            if options.no_install:
                times["install"], cxbot = None, Path(sys.executable).parent / "cxbot"
            else:
                times["install"], cxbot = await install(work)
            env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_SETTINGS)}
            env |= {"SLACK_API_URL": slack.base_url, "DATABASE_URL": f"sqlite:///{work / 'cxbot.db'}"}

            url = "https://cx.example.org"
            took, out = await run(
                [str(cxbot), "slack-app", "create", "--url", url, "--token", CONFIG_TOKEN], env=env, cwd=work
            )
            times["slack-app create"] = took
            secret = re.search(r"SLACK_SIGNING_SECRET=(\S+)", out)
            assert secret, out
            env |= {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": secret[1], "CX_INGEST_TOKEN": INGEST_TOKEN}

            times["db upgrade"] = (await run([str(cxbot), "db", "upgrade"], env=env, cwd=work))[0]
            times["doctor"] = (await run([str(cxbot), "doctor"], env=env, cwd=work))[0]

            port = free_port()
            log = (work / "serve.log").open("w")
            started = time.perf_counter()
            server = subprocess.Popen(
                [str(cxbot), "serve", "--port", str(port)], env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                base = f"http://127.0.0.1:{port}"
                async with aiohttp.ClientSession() as http:
                    times["serve to /readyz"] = await ready(http, f"{base}/readyz", started, server)
                    before = len(slack.calls_to("chat.postMessage"))
                    started = time.perf_counter()
                    async with http.post(
                        f"{base}/ingest",
                        json={"text": URGENT, "id": "getting-started-1"},
                        headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
                    ) as answer:
                        assert answer.status == 200, await answer.text()
                    await slack.wait_for("chat.postMessage", count=before + 1, timeout=60)
                    times["first /ingest to post"] = time.perf_counter() - started
            finally:
                server.terminate()  # and wait off the loop: stopping, cxbot may still call the fake on this loop
                await asyncio.to_thread(server.wait, 60)
                log.close()

    print(f"{'step':<24}{'measured':>11}   README says")
    for step, said in README_SAYS.items():
        took = times.get(step)
        print(f"{step:<24}{'skipped' if took is None else f'{took:.1f} s':>11}   {said}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load}")
    return 0


async def ready(http: aiohttp.ClientSession, url: str, started: float, server: subprocess.Popen[bytes]) -> float:
    """Seconds from starting ``cxbot serve`` to its first ``/readyz`` 200."""
    while True:
        if server.poll() is not None:
            raise SystemExit(f"cxbot serve stopped ({server.returncode}) before it was ready")
        try:
            async with http.get(url) as answer:
                if answer.status == 200:
                    return time.perf_counter() - started
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
