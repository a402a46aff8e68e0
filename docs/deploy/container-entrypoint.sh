#!/bin/sh
# The container's entrypoint (Dockerfile): `web`, `worker`, `tasks`, `upgrade`, or a command.
set -eu

case "${1:-web}" in
  web)
    # gunicorn's workers add up their request counters in this folder (/metrics); empty at each start
    if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
      rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    fi
    # threads: the screens and the agents waiting for scans and jobs (long polling) hold a thread, not a worker
    exec gunicorn --workers "${COULISSES_WEB_WORKERS:-4}" --worker-class gthread --threads "${COULISSES_WEB_THREADS:-8}" --bind "${COULISSES_BIND:-0.0.0.0:8000}" \
      --access-logfile - --error-logfile - --timeout 120 --graceful-timeout 60 \
      'coulisses.web.app:create_app()'
    ;;
  worker)
    exec coulisses worker
    ;;
  tasks)
    # the due periodic tasks, every hour (a task that fails is reported; the loop goes on)
    while true; do
      coulisses tasks run --due || echo "coulisses tasks: a task failed (see above)" >&2
      sleep "${COULISSES_TASKS_INTERVAL:-3600}"
    done
    ;;
  upgrade)
    exec coulisses db upgrade
    ;;
  *)
    exec "$@"
    ;;
esac
