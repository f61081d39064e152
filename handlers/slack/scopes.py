"""Which bot scopes cxbot needs, derived from what it does: the Web API methods it calls, the events it
subscribes to, and its slash command and shortcut. manifest.yaml declares exactly :data:`BOT_SCOPES`;
tests/slack/test_manifest.py finds every Web API method the code calls and checks it against
:data:`METHOD_SCOPES`, both ways, so a new call cannot ship without its scope (as ``files_upload_v2`` once did
without ``files:write``, failing with ``missing_scope`` in a real workspace).

Scopes are as Slack's method reference lists them for bot tokens; where a method's scope depends on the kind of
conversation, the kinds cxbot uses (public and private channels; the app's own DMs, read to find its own post
after a crash) are listed.
"""

from __future__ import annotations

# slack_sdk method name (as the code calls it) -> the bot scopes it needs; () when Slack needs none.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat_postMessage": ("chat:write",),  # stories, digests, replies, notes; DMs land in the Messages tab
    "chat_update": ("chat:write",),  # a story's card after a follow-up or a correction; a digest after an erasure
    "chat_delete": ("chat:write",),  # erasure (cxbot forget): the bot's own messages about a forgotten comment
    "chat_postEphemeral": ("chat:write",),  # answers only the person sees
    "chat_getPermalink": (),  # the link to an intake message
    # find our post after a crash: in a channel, a private channel, or the app's direct messages with a person
    "conversations_history": ("channels:history", "groups:history", "im:history"),
    "conversations_replies": ("channels:history", "groups:history"),  # the same in a thread
    "conversations_open": ("im:write",),  # the direct-message conversation a DM went to, to look in it
    "conversations_list": ("channels:read", "groups:read"),  # channel names in the configuration -> ids
    "conversations_info": ("channels:read", "groups:read"),  # cxbot doctor: is the bot in each channel
    "auth_test": (),  # cxbot doctor: whose token, and (x-oauth-scopes) what it may do
    "apps_manifest_create": (),  # cxbot slack-app create; an app configuration token, never the bot's
    "files_upload_v2": ("files:write",),  # the weekly pattern chart
    "users_info": ("users:read",),  # names and timezones (due dates are the person's local days)
    "usergroups_users_list": ("usergroups:read",),  # CX team and manager user groups
    "views_open": (),  # the follow-up modal
    "views_publish": (),  # the App Home tab
}

# Event subscriptions (manifest settings.event_subscriptions.bot_events) -> the scopes Slack requires for them.
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_home_opened": (),
    "message.channels": ("channels:history",),  # intake in public channels
    "message.groups": ("groups:history",),  # intake in private channels
    "message.im": ("im:history",),  # a plain reply in the bot's DM: the pulse answer
    "reaction_added": ("reactions:read",),
    "reaction_removed": ("reactions:read",),
}

# The /cx slash command and the "Send to CX stories" message shortcut.
COMMAND_SCOPES: tuple[str, ...] = ("commands",)

BOT_SCOPES: tuple[str, ...] = tuple(
    sorted(
        {scope for scopes in METHOD_SCOPES.values() for scope in scopes}
        | {scope for scopes in EVENT_SCOPES.values() for scope in scopes}
        | set(COMMAND_SCOPES)
    )
)
