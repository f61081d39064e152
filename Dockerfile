# cxbot: one image, one process (`cxbot serve`): Slack, Teams, POST /ingest, /healthz, /metrics.
# Build: docker build -t cxbot .    Run: docker run -p 3000:3000 --env-file cxbot.env cxbot
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY stories ./stories
COPY storage ./storage
COPY teams ./teams
RUN python -m venv /opt/cxbot && /opt/cxbot/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/cxbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/cxbot.db
RUN useradd --system --uid 10001 --home-dir /data --create-home cxbot
COPY --from=build /opt/cxbot /opt/cxbot
USER cxbot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=4)"
# Migrate, then serve: the server refuses to start on a database that is behind.
CMD ["sh", "-c", "cxbot db upgrade && exec cxbot serve"]
