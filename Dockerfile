# ATTN bot image: slim Python, the project installed in a virtualenv, run as a non-root user.
#
# Docker cannot run on the machines this project is built and tested on, so this file has
# never been built there; tests/unit/test_deployment_files.py checks that every ATTN_*
# variable set here is a real setting, that the image runs as a non-root user and that its
# HEALTHCHECK is `attn healthcheck`.
#
#   docker build -t attn .
#   docker run --rm -e ATTN_BOT_TOKEN=... -e ATTN_REDIS_URL=... -e ATTN_DATABASE_URL=... attn

# Python 3.11: the version the test suite runs on, with prebuilt wheels for every dependency.
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/attn
COPY . .
RUN /opt/attn/bin/pip install .


FROM python:3.11-slim-bookworm

# The web server (webhook, web features, probes) listens on every interface inside the container (the load balancer
# reaches it over the compose network); the data folder is only used by embedded servers,
# which a container with ATTN_REDIS_URL and ATTN_DATABASE_URL set never starts.
ENV PATH=/opt/attn/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ATTN_LISTEN_HOST=0.0.0.0 \
    ATTN_LISTEN_PORT=8080 \
    ATTN_DATA_DIR=/var/lib/attn

RUN groupadd --system --gid 10001 attn \
    && useradd --system --uid 10001 --gid attn --home-dir /var/lib/attn --create-home \
        --shell /usr/sbin/nologin attn
COPY --from=build /opt/attn /opt/attn

USER attn
WORKDIR /var/lib/attn
EXPOSE 8080

# Exit 0 when Redis and PostgreSQL answer (needs ATTN_REDIS_URL and ATTN_DATABASE_URL).
HEALTHCHECK --interval=30s --timeout=15s --start-period=30s --retries=3 \
    CMD ["attn", "healthcheck"]

# `attn run` serves the webhook when ATTN_WEBHOOK_URL is set, else it polls (and serves the
# web features when ATTN_PUBLIC_URL is set); SIGTERM (what
# `docker stop` sends) stops it within its shutdown deadline.
ENTRYPOINT ["attn"]
CMD ["run"]
