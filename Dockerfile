# One image for the dashboard (`listening serve`) and the scheduler (`listening schedule`).
# docker-compose.yml runs both against a real MongoDB; see docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LISTENING_DATA=/var/lib/listening

WORKDIR /app
# Dependencies first, so a code change does not reinstall them; [scale]: crawls shared through Redis.
COPY pyproject.toml README.md ./
RUN mkdir -p listening crawlers && touch listening/__init__.py crawlers/__init__.py \
    && pip install ".[scale]" && pip uninstall -y listening-centre && rm -rf listening crawlers build *.egg-info
COPY listening ./listening
COPY crawlers ./crawlers
# A plain install: the dashboard, the demo config and the crawlers ship inside the package.
RUN pip install --no-deps . && rm -rf build *.egg-info

# Run as a plain user; the data folder (rejects, heartbeat, the embedded store when no
# MONGO_URI is set) is the only place it writes.
RUN useradd --create-home --uid 10001 listening \
    && mkdir -p "$LISTENING_DATA" && chown listening "$LISTENING_DATA"
USER listening
VOLUME ["/var/lib/listening"]
EXPOSE 8501
# Both services stop on SIGTERM: the scheduler lets running jobs finish or stop cleanly.
STOPSIGNAL SIGTERM
CMD ["listening", "serve", "--host", "0.0.0.0"]
