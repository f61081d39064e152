"""Entry points: Slack, Teams and the ingest webhook. They parse, authorise, call the core and render."""
