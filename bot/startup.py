"""What ``cxbot serve`` says when it starts: each platform and route, on or off, and why, in a few lines.

The lines name settings, never their values (tokens stay out of logs).
"""

from __future__ import annotations

from bot.settings import Settings


def startup_lines(settings: Settings) -> list[str]:
    """One line per platform or route: ``slack: off (set ...)``, ``ingest: on (POST /ingest)``, ..."""
    if settings.slack_client_id:
        mode = "Socket Mode" if settings.slack_app_token else "POST /slack/events"
        slack = f"on, several workspaces through OAuth (GET /slack/install, {mode})"
    elif settings.slack_bot_token:
        slack = "on, one workspace (" + ("Socket Mode" if settings.slack_app_token else "POST /slack/events") + ")"
    else:
        slack = (
            "off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for one workspace, or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET for OAuth; /slack/events answers 404)"
        )
    if settings.microsoft_app_id:
        teams = f"on (POST /api/messages, Bot Framework authentication, {settings.microsoft_app_type})"
    elif settings.cx_teams_emulator:
        teams = "on without authentication (CX_TEAMS_EMULATOR: POST /api/messages, a Bot Framework Emulator on this machine only)"
    else:
        teams = (
            "off (set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD, or CX_TEAMS_EMULATOR=true for a local Emulator; "
            "/api/messages answers 503)"
        )
    ingest = "on (POST /ingest, bearer token)" if settings.cx_ingest_token else "off (set CX_INGEST_TOKEN)"
    summariser = (
        f"language model {settings.openai_model}" if settings.openai_model else "offline (set OPENAI_MODEL for a model)"
    )
    return [
        f"slack: {slack}",
        f"teams: {teams}",
        f"ingest: {ingest}",
        f"summaries: {summariser}",
        "health: GET /healthz (liveness), GET /readyz (readiness: database, migrations, departments), GET /metrics",
    ]
