#!/bin/sh
# The container's entrypoint (Dockerfile): `web`, `worker`, `tasks`, `upgrade`, `healthcheck` (the
# image's HEALTHCHECK), or a command.
set -eu

case "${1:-web}" in
  web)
    # gunicorn's workers add up their request counters in this folder (/metrics); empty at each start
    if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
      rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    fi
    # no gunicorn access log: Coulisses logs each request itself (request id, operator, duration; JSON
    # with COULISSES_LOG_FORMAT=json), and not /health, which the HEALTHCHECK calls every 30 s.
    # threads: the screens and the agents waiting for scans and jobs (long polling) hold a thread, not a worker
    exec gunicorn --workers "${COULISSES_WEB_WORKERS:-4}" --worker-class gthread --threads "${COULISSES_WEB_THREADS:-8}" \
      --bind "${COULISSES_BIND:-0.0.0.0:8000}" --error-logfile - --timeout 120 --graceful-timeout 60 \
      'coulisses.web.app:create_app()'
    ;;
  worker)
    exec coulisses worker
    ;;
  tasks)
    # the due periodic tasks, every hour (a task that fails is reported; the loop goes on). SIGTERM
    # (docker stop): the tasks running finish, then the loop stops (give it time: stop_grace_period).
    interval=${COULISSES_TASKS_INTERVAL:-3600}
    stopping=0
    sleeper=
    trap 'stopping=1; [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null || true' TERM INT
    while [ "$stopping" = 0 ]; do
      if coulisses tasks run --due; then
        echo "coulisses tasks: done, next run in ${interval} s" >&2
      else
        echo "coulisses tasks: a task failed (see above), next run in ${interval} s" >&2
      fi
      [ "$stopping" = 0 ] || break
      sleep "$interval" &
      sleeper=$!
      wait "$sleeper" || true
      sleeper=
    done
    echo "coulisses tasks: stopped" >&2
    ;;
  upgrade)
    exec coulisses db upgrade
    ;;
  healthcheck)
    # the image's HEALTHCHECK: the web role must answer /health on the port it listens on; the worker
    # and the tasks have no port (`coulisses doctor` says when the worker last ran): healthy while
    # they run.
    grep -qs 'gunicor[n]' /proc/[0-9]*/cmdline || exit 0
    bind=${COULISSES_BIND:-0.0.0.0:8000}
    exec python -c 'import sys, urllib.request
sys.exit(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=4).status != 200)' "${bind##*:}"
    ;;
  *)
    exec "$@"
    ;;
esac
