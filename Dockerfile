# Coulisses as a container image (docs/operator-guide.md, "Containers").
#   docker build -t coulisses .
#   docker run --rm coulisses coulisses --version
# One image, four roles: `web` (gunicorn), `worker`, `tasks` (the periodic tasks, hourly), `upgrade`
# (`coulisses db upgrade`, run once before the others start); or any `coulisses …` command.
# docs/deploy/compose.yaml runs them with PostgreSQL; docs/deploy/container-check.sh builds the image,
# starts the roles and checks them.
#
# The base: the official Python image from Docker Hub, or, without Docker Hub, the equivalent that
# docs/deploy/build-base-offline.sh builds from a Debian mirror:
#   docker build --build-arg BASE_IMAGE=coulisses-base:bookworm -t coulisses .
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

# pg_dump / pg_restore for `coulisses backup` and `restore` (Debian 12: PostgreSQL 15's; use a
# server of the same major version, or install the PGDG client of yours)
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# The code, installed into the image's Python (not a development .venv); .dockerignore keeps the
# checkout's .venv, instance/, tests and caches out.
COPY setup.cfg pyproject.toml README.md /src/
COPY platform /src/platform
COPY plugins /src/plugins
RUN pip install --no-cache-dir /src gunicorn \
    && rm -rf /src

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/coulisses --create-home \
        --shell /usr/sbin/nologin coulisses
COPY docs/deploy/container-entrypoint.sh /usr/local/bin/coulisses-entrypoint

ENV COULISSES_INSTANCE_PATH=/var/lib/coulisses \
    PROMETHEUS_MULTIPROC_DIR=/tmp/coulisses-metrics \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER coulisses
WORKDIR /var/lib/coulisses
VOLUME ["/var/lib/coulisses"]
EXPOSE 8000
# web: /health on the port it listens on (COULISSES_BIND); worker, tasks: running (the entrypoint)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["/usr/local/bin/coulisses-entrypoint", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/coulisses-entrypoint"]
CMD ["web"]
