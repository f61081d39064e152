"""Golden payload files: a renderer's output compared with a reviewed JSON file under tests/payloads/.

Regenerate after an intended change with ``UPDATE_GOLDENS=1 python -m pytest tests/test_render_*.py`` and
review the diff like code.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads"
# Invisible format characters (word joiners, zero-width joiners...) are written as \uXXXX so a reviewer sees them.
_INVISIBLE = re.compile("[" + "".join(chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Cf") + "]")


def assert_matches_golden(name: str, payload: object) -> None:
    """``payload`` equals the JSON in tests/payloads/``name``; with UPDATE_GOLDENS=1 it is written there instead
    (and the test fails, so updating is never mistaken for passing)."""
    path = PAYLOADS / name
    if os.environ.get("UPDATE_GOLDENS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True)
        path.write_text(_INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n", encoding="utf-8")
        # Fail, so a run with UPDATE_GOLDENS left set can never pass: review the new file, then run again without it.
        raise AssertionError(f"{path} was written; review it, then run the tests without UPDATE_GOLDENS")
    assert path.exists(), f"{path} is missing; create it with UPDATE_GOLDENS=1 and review it"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert payload == expected, f"{name} differs from the golden file; if intended, regenerate with UPDATE_GOLDENS=1"
