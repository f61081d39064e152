#!/bin/sh
# The image's entry point: `cxbot ARGS`, with the database migrated first when ARGS is `serve` (idempotent).
set -e
if [ "${1:-serve}" = "serve" ]; then
  cxbot db upgrade
fi
exec cxbot "$@"
