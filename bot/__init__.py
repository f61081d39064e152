"""Wiring: settings, configuration loading, the aiohttp server, the scheduler and the CLI."""
