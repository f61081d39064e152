"""`cxbot serve` on a port another process holds: one line naming the port and the fix, not a traceback.

Found by trying cxbot as a new admin (a second `cxbot serve` in another terminal printed an OSError traceback
after a line that said it was listening)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def test_a_port_in_use_is_one_line_naming_the_port_and_the_fix(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CX_", "SLACK_", "MICROSOFT_", "DATABASE_URL"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cxbot.db'}"
    cxbot = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*cxbot, "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True)
    with socket.socket() as held:
        held.bind(("0.0.0.0", 0))
        held.listen()
        port = held.getsockname()[1]
        done = subprocess.run(
            [*cxbot, "serve", "--port", str(port)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 1
    assert f"cxbot serve: port {port} is already in use" in done.stderr and "--port N or PORT" in done.stderr
    assert "Traceback" not in done.stderr
    assert "listening on port" not in done.stderr
