# Paygod, standalone by default: the kernel on SQLite under /data, one process.
# Distributed mode: see docker-compose.yml (PostgreSQL, Redis, NATS, API, worker, relay).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
RUN python -m venv /opt/paygod \
    && /opt/paygod/bin/pip install --upgrade pip \
    && /opt/paygod/bin/pip install . \
    && /opt/paygod/bin/python -m compileall -q /opt/paygod/lib/python3.11/site-packages/paygod

FROM python:3.11-slim
RUN groupadd --system --gid 10001 paygod \
    && useradd --system --uid 10001 --gid paygod --home-dir /data --shell /usr/sbin/nologin paygod \
    && mkdir -p /data /packs \
    && chown paygod:paygod /data /packs
COPY --from=build /opt/paygod /opt/paygod
ENV PATH=/opt/paygod/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PAYGOD_HOME=/data \
    PAYGOD_PACKS=/packs \
    PAYGOD_HOST=0.0.0.0 \
    PAYGOD_PORT=8080
USER paygod
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PAYGOD_PORT', '8080'), timeout=2).read()"]
ENTRYPOINT ["paygod"]
CMD ["serve"]
