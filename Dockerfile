# cxbot: one image, one process (`cxbot serve`): Slack, Teams, POST /ingest, /healthz, /metrics.
# Build: docker build -t cxbot .    Run with PostgreSQL: cp .env.example .env, edit it, then docker compose up
# Dependencies come from requirements.lock only (every one pinned, with hashes); the package itself adds none.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/cxbot
COPY requirements.lock ./
RUN /opt/cxbot/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY stories ./stories
COPY storage ./storage
COPY teams ./teams
RUN /opt/cxbot/bin/pip install --no-deps . && /opt/cxbot/bin/pip check

FROM python:3.11-slim
ENV PATH=/opt/cxbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/cxbot.db
RUN useradd --system --uid 10001 --home-dir /data --create-home cxbot
COPY --from=build /opt/cxbot /opt/cxbot
COPY --chmod=0755 docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=4)"
# `serve` (the default) migrates first: the server refuses to start on a database that is behind. Any other
# sub-command runs as given: docker run --env-file .env cxbot doctor
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["serve"]
