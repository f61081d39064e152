"""teams/manifest.json and `cxbot teams-package`: the manifest's required fields, the bot id and the commands
match the code, and the icons are what handlers/teams/icons.py draws."""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.cli import main
from handlers.teams import icons
from handlers.teams.package import PLACEHOLDER, SOURCE, command_lists
from stories.commands import COMMANDS

APP_ID = "2f1c6d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _manifest() -> dict:
    return json.loads((SOURCE / "manifest.json").read_text(encoding="utf-8"))


def _decode_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, RGBA rows without filter bytes) of an 8-bit RGBA PNG whose rows use filter 0."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        at += 12 + length
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 6)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * 4 + 1
    assert all(raw[row * stride] == 0 for row in range(height))
    return width, height, b"".join(raw[row * stride + 1 : (row + 1) * stride] for row in range(height))


def test_the_manifest_has_the_fields_teams_requires() -> None:
    manifest = _manifest()
    version = manifest["manifestVersion"]
    assert tuple(int(p) for p in version.split(".")) >= (1, 17)
    assert (
        manifest["$schema"]
        == f"https://developer.microsoft.com/json-schemas/teams/v{version}/MicrosoftTeams.schema.json"
    )
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert GUID.match(manifest["id"])
    developer = manifest["developer"]
    assert developer["name"]
    for url in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert developer[url].startswith("https://")
    assert 0 < len(manifest["name"]["short"]) <= 30 and len(manifest["name"]["full"]) <= 100
    assert 0 < len(manifest["description"]["short"]) <= 80 and len(manifest["description"]["full"]) <= 4000
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", manifest["accentColor"])
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    [bot] = manifest["bots"]
    assert bot["scopes"] == ["team", "groupChat", "personal"]
    assert GUID.match(bot["botId"])
    rsc = {p["name"] for p in manifest["authorization"]["permissions"]["resourceSpecific"]}
    assert rsc == {"ChannelMessage.Read.Group", "ChatMessage.Read.Chat"}  # intake channels and chats
    assert manifest["webApplicationInfo"]["id"] == manifest["id"]


def test_the_manifests_commands_are_the_command_table() -> None:
    [bot] = _manifest()["bots"]
    assert bot["commandLists"] == command_lists()
    team = [c["title"] for c in bot["commandLists"][0]["commands"]]
    words = list(dict.fromkeys(spec.name.split()[0] for spec in COMMANDS if "teams" in spec.platforms))
    assert team == [f"cx {word}" for word in words if word != "home"][:10]  # each word once; `cx help` lists all
    assert "cx link" in team  # the admin's way to wire a channel stays offered
    for command_list in bot["commandLists"]:
        assert len(command_list["commands"]) <= 10
        for command in command_list["commands"]:
            assert len(command["title"]) <= 32 and 0 < len(command["description"]) <= 128


def test_teams_package_writes_a_zip_with_the_bot_id_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    output = tmp_path / "cxbot-teams.zip"
    assert main(["teams-package", "--output", str(output)]) == 0
    with zipfile.ZipFile(output) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert archive.read("color.png") == (SOURCE / "color.png").read_bytes()
        assert archive.read("outline.png") == (SOURCE / "outline.png").read_bytes()
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["webApplicationInfo"]["id"] == APP_ID
    assert PLACEHOLDER not in json.dumps(manifest)
    assert "wrote" in capsys.readouterr().out


def test_teams_package_without_an_app_id_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["teams-package", "--output", str(tmp_path / "x.zip")]) == 2
    assert "MICROSOFT_APP_ID" in capsys.readouterr().err
    monkeypatch.setenv("MICROSOFT_APP_ID", "not-a-guid")
    assert main(["teams-package", "--output", str(tmp_path / "x.zip")]) == 2
    assert not (tmp_path / "x.zip").exists()


def test_the_icons_are_the_right_size_and_the_outline_is_white_on_transparent() -> None:
    width, height, _ = _decode_png((SOURCE / "color.png").read_bytes())
    assert (width, height) == (192, 192)
    width, height, pixels = _decode_png((SOURCE / "outline.png").read_bytes())
    assert (width, height) == (32, 32)
    rgba = [pixels[i : i + 4] for i in range(0, len(pixels), 4)]
    assert all(p[3] == 0 or p[:3] == b"\xff\xff\xff" for p in rgba)
    opaque = sum(1 for p in rgba if p[3] > 0)
    assert 0.05 * len(rgba) < opaque < 0.6 * len(rgba)  # a drawing, neither empty nor a filled square


def test_the_committed_icons_are_what_the_code_draws() -> None:
    assert (SOURCE / "color.png").read_bytes() == icons.color_icon()
    assert (SOURCE / "outline.png").read_bytes() == icons.outline_icon()


def test_teams_package_takes_the_developer_pages_and_refuses_plain_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    output = tmp_path / "cxbot-teams.zip"
    pages = ["--website-url", "https://cx.acme.test/", "--privacy-url", "https://cx.acme.test/privacy"]
    pages += ["--terms-url", "https://cx.acme.test/terms", "--developer-name", "Acme CX"]
    assert main(["teams-package", "--output", str(output), *pages]) == 0
    with zipfile.ZipFile(output) as archive:
        developer = json.loads(archive.read("manifest.json"))["developer"]
    assert developer == {
        "name": "Acme CX",
        "websiteUrl": "https://cx.acme.test/",
        "privacyUrl": "https://cx.acme.test/privacy",
        "termsOfUseUrl": "https://cx.acme.test/terms",
    }
    assert "note:" not in capsys.readouterr().err
    assert main(["teams-package", "--output", str(tmp_path / "x.zip"), "--privacy-url", "http://cx.acme.test"]) == 2
    assert "developer.privacyUrl must be an https:// address" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()
    assert main(["teams-package", "--output", str(output)]) == 0
    assert "--website-url, --privacy-url, --terms-url not given" in capsys.readouterr().err


def test_teams_package_url_fills_valid_domains_and_developer_pages_and_names_the_messaging_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from handlers.teams.package import MESSAGES_PATH
    from handlers.teams.wiring import ROUTE

    assert MESSAGES_PATH == ROUTE
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    output = tmp_path / "cxbot-teams.zip"
    args = [
        "teams-package",
        "--output",
        str(output),
        "--url",
        "https://cx.acme.test/",
        "--terms-url",
        "https://acme.test/t",
    ]
    assert main(args) == 0
    with zipfile.ZipFile(output) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["validDomains"] == ["cx.acme.test"]
    assert manifest["developer"]["websiteUrl"] == "https://cx.acme.test/"
    assert manifest["developer"]["privacyUrl"] == "https://cx.acme.test/"
    assert manifest["developer"]["termsOfUseUrl"] == "https://acme.test/t"
    assert "example.com" not in json.dumps(manifest) and PLACEHOLDER not in json.dumps(manifest)
    captured = capsys.readouterr()
    assert "messaging endpoint to https://cx.acme.test/api/messages" in captured.out
    assert "--website-url, --privacy-url not given: they point at https://cx.acme.test/" in captured.err
    assert main(["teams-package", "--output", str(tmp_path / "x.zip"), "--url", "http://cx.acme.test"]) == 2
    assert "--url must be the https:// address" in capsys.readouterr().err


def test_teams_package_version_can_be_raised_for_an_update_and_must_be_semver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Teams takes an uploaded app's new package only with a higher version; the committed one is 1.0.0."""
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    output = tmp_path / "cxbot-teams.zip"
    assert main(["teams-package", "--output", str(output)]) == 0
    assert "App version 1.0.0: to update an app already uploaded" in capsys.readouterr().out
    assert main(["teams-package", "--output", str(output), "--version", "1.0.1"]) == 0
    with zipfile.ZipFile(output) as archive:
        assert json.loads(archive.read("manifest.json"))["version"] == "1.0.1"
    for bad in ("1.1", "v1.0.1", "1.0.01", "1.0.0-beta"):
        assert main(["teams-package", "--output", str(tmp_path / "x.zip"), "--version", bad]) == 2
        assert "--version must be three numbers" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()
