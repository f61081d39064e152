"""The platform-neutral core of cxbot.

A customer comment travels one way: redact -> summarise -> route -> plan deliveries -> dispatch.
Nothing here knows Slack, Teams, HTTP or SQL: storage and chat come in through the protocols in
:mod:`stories.ports`.
"""
