#!/bin/sh
# Build the image and start it as the operator's guide says ("Containers"), then check it: `coulisses
# --version`, `upgrade`, the `web` role (gunicorn) answering /health, /health/ready and a login, the
# image's HEALTHCHECK, a non-root user, the `worker` role delivering an outbox job (a webhook test
# sent to a receiver this script runs), the `tasks` role running every periodic task once, `coulisses
# doctor` seeing both, a backup copied out, and each role stopping cleanly on SIGTERM. Exits non-zero at the first failure, with the logs.
# Needs a Docker engine, python3 and curl; runs the containers with --network host.
#   sh docs/deploy/container-check.sh                         (from anywhere; SQLite in a volume)
#   CHECK_DATABASE_URL=postgresql+psycopg://user:pw@127.0.0.1:5432/empty_db sh docs/deploy/container-check.sh
# Settings (environment):
#   IMAGE               the image built and checked                          (coulisses:check)
#   BASE_IMAGE          the Dockerfile's base: python:3.11-slim-bookworm when it is here or can be
#                       pulled, else coulisses-base:bookworm (docs/deploy/build-base-offline.sh)
#   CHECK_DATABASE_URL  an EMPTY database the check may fill (PostgreSQL); SQLite in the volume if unset
#   PORT                the web role's port on 127.0.0.1                     (a free one)
set -eu
cd "$(dirname "$0")/../.."

IMAGE=${IMAGE:-coulisses:check}
NAME=coulisses-check-$$
WORK=$(mktemp -d)
KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
HOOK_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
PASSWORD="Verif-conteneur-$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')"
receiver=

step() { echo "== $*"; }
cleanup() {
  [ -z "$receiver" ] || kill "$receiver" 2>/dev/null || true
  for role in web worker tasks; do docker rm -f "$NAME-$role" >/dev/null 2>&1 || true; done
  docker volume rm -f "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
fail() {
  echo "container check FAILED: $*" >&2
  for role in web worker tasks; do
    if docker container inspect "$NAME-$role" >/dev/null 2>&1; then
      echo "--- docker logs $NAME-$role" >&2; docker logs --tail 60 "$NAME-$role" >&2 2>&1 || true
    fi
  done
  exit 1
}
# exit 3: what the check needs is missing (an engine, a base image); 1: the image failed a check
missing() { echo "container check: cannot run: $*" >&2; exit 3; }
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v docker >/dev/null || missing "no docker command"
docker info >/dev/null 2>&1 || missing "no Docker engine answers docker info (start dockerd)"

# ---------------------------------------------------------------- the image
if [ -z "${BASE_IMAGE:-}" ]; then
  if docker image inspect python:3.11-slim-bookworm >/dev/null 2>&1; then
    BASE_IMAGE=python:3.11-slim-bookworm
  elif docker image inspect coulisses-base:bookworm >/dev/null 2>&1; then
    BASE_IMAGE=coulisses-base:bookworm
  elif docker pull python:3.11-slim-bookworm >/dev/null 2>&1; then
    BASE_IMAGE=python:3.11-slim-bookworm
  else
    missing "python:3.11-slim-bookworm cannot be pulled and coulisses-base:bookworm is not here (build it: sudo sh docs/deploy/build-base-offline.sh)"
  fi
fi
docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || docker pull "$BASE_IMAGE" >/dev/null 2>&1 \
  || missing "the base image $BASE_IMAGE is neither here nor pullable"
step "docker build -t $IMAGE (base $BASE_IMAGE)"
started=$(date +%s)
docker build --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" . >"$WORK/build.log" 2>&1 \
  || { tail -40 "$WORK/build.log" >&2; fail "docker build failed"; }
echo "built in $(( $(date +%s) - started )) s, $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"

docker volume create "$NAME" >/dev/null
set -- -e COULISSES_ENV=production -e COULISSES_SECRET_KEY="$KEY" -e COULISSES_PLUGINS=contacts,sales,reports,devices \
  -e COULISSES_BIND="127.0.0.1:$PORT" -e COULISSES_WEB_WORKERS=2 -e COULISSES_OUTBOX_RUN=off \
  -v "$NAME:/var/lib/coulisses" --network host
if [ -n "${CHECK_DATABASE_URL:-}" ]; then
  set -- "$@" -e COULISSES_DATABASE_URL="$CHECK_DATABASE_URL"
fi
run() { docker run --rm "$@"; }

step "coulisses --version"
version=$(run "$@" "$IMAGE" coulisses --version) || fail "coulisses --version"
echo "$version"
expected=$(python3 -c 'import configparser; c = configparser.ConfigParser(); c.read("setup.cfg"); print(c["metadata"]["version"])')
case "$version" in *"$expected"*) ;; *) fail "the image says '$version', setup.cfg says $expected" ;; esac

step "non-root user"
uid=$(run "$@" "$IMAGE" id -u)
[ "$uid" != 0 ] || fail "the image runs as root"
owner=$(run "$@" "$IMAGE" stat -c %U /var/lib/coulisses)
[ "$owner" = coulisses ] || fail "/var/lib/coulisses belongs to $owner, not to coulisses"

step "upgrade"
run "$@" "$IMAGE" upgrade || fail "the upgrade role failed"
run "$@" "$IMAGE" coulisses config check >/dev/null || fail "coulisses config check refused the settings"
run "$@" "$IMAGE" coulisses operators create verif --role administrator --password "$PASSWORD" \
  || fail "coulisses operators create"
TOKEN=$(run "$@" "$IMAGE" coulisses operators token verif --label container-check) || fail "coulisses operators token"

step "web (gunicorn on 127.0.0.1:$PORT)"
# the image's own HEALTHCHECK, probed every 2 s instead of 30 s
docker run -d --name "$NAME-web" --health-interval=2s --health-start-period=60s "$@" "$IMAGE" web >/dev/null
i=0
until curl -fsS -o /dev/null "$BASE/health" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -lt 120 ] || fail "/health never answered"; sleep 1
done
ready=$(curl -fsS "$BASE/health/ready") || fail "/health/ready: not ready"
case "$ready" in *'"migrations":"current"'*) echo "$ready" ;; *) fail "/health/ready says $ready" ;; esac
i=0
until [ "$(docker inspect -f '{{.State.Health.Status}}' "$NAME-web")" = healthy ]; do
  i=$((i + 1)); [ "$i" -lt 60 ] || fail "the web container never became healthy: $(docker inspect -f '{{json .State.Health}}' "$NAME-web")"
  sleep 1
done
echo "HEALTHCHECK: healthy"
web_user=$(docker exec "$NAME-web" stat -c %U /proc/1)
[ "$web_user" = coulisses ] || fail "gunicorn runs as $web_user"

step "login"
jar="$WORK/cookies"
csrf=$(curl -fsS -c "$jar" -b "$jar" "$BASE/login" | sed -n 's/.*id="csrf_token" name="csrf_token" type="hidden" value="\([^"]*\)".*/\1/p')
[ -n "$csrf" ] || fail "no CSRF token in the login form"
location=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -c "$jar" -b "$jar" -H "Referer: $BASE/login" \
  --data-urlencode "csrf_token=$csrf" --data-urlencode login=verif --data-urlencode "password=$PASSWORD" "$BASE/login")
[ "$location" = "302 $BASE/admin/" ] || fail "the login answered '$location', not a redirection to /admin/"
curl -fsS -b "$jar" "$BASE/admin/" >"$WORK/admin.html" || fail "GET /admin/ after the login"
grep -q 'action="/logout"' "$WORK/admin.html" || fail "after the login, /admin/ shows no logout button"
echo "logged in as verif"

step "worker (an outbox job: a webhook test delivered to 127.0.0.1:$HOOK_PORT)"
python3 -c '
import http.server, sys
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "wb") as out:
            out.write(body)
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).handle_request()
' "$HOOK_PORT" "$WORK/received" &
receiver=$!
api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
subscription=$(api -d "{\"url\": \"http://127.0.0.1:$HOOK_PORT/hook\", \"events\": [\"sales.order.created\"]}" \
  "$BASE/api/v1/webhooks/subscriptions" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])') \
  || fail "the webhook subscription was refused"
api -X POST "$BASE/api/v1/webhooks/subscriptions/$subscription/test" >/dev/null || fail "the webhook test was refused"
# COULISSES_OUTBOX_RUN=off: the web process leaves the job to the worker, which is not started yet
api "$BASE/api/v1/webhooks/subscriptions/$subscription/deliveries" | grep -q '"state":"pending"' \
  || fail "the test delivery is not pending before the worker starts"
docker run -d --name "$NAME-worker" "$@" "$IMAGE" worker >/dev/null
i=0
until [ -s "$WORK/received" ]; do
  i=$((i + 1)); [ "$i" -lt 60 ] || fail "the worker never delivered the webhook"; sleep 1
done
grep -q '"event": *"core.webhook.test"' "$WORK/received" || fail "the receiver got $(cat "$WORK/received")"
i=0
until api "$BASE/api/v1/webhooks/subscriptions/$subscription/deliveries" | grep -q '"state":"delivered"'; do
  i=$((i + 1)); [ "$i" -lt 30 ] || fail "the delivery is not marked delivered"; sleep 1
done
echo "the worker delivered the webhook: $(cat "$WORK/received")"

step "tasks (every periodic task, once)"
docker run -d --name "$NAME-tasks" "$@" "$IMAGE" tasks >/dev/null
i=0
until docker logs "$NAME-tasks" 2>&1 | grep -q '^coulisses tasks: '; do
  i=$((i + 1)); [ "$i" -lt 120 ] || fail "the tasks role never finished its first run"; sleep 1
done
docker logs "$NAME-tasks" 2>&1 | grep -q '^coulisses tasks: done' || fail "a periodic task failed"
run "$@" "$IMAGE" coulisses tasks list >"$WORK/tasks" || fail "coulisses tasks list"
cat "$WORK/tasks"
! grep -q jamais "$WORK/tasks" || fail "a periodic task never ran"

step "coulisses doctor (sees the worker and the tasks)"
run "$@" "$IMAGE" coulisses doctor >"$WORK/doctor" || { cat "$WORK/doctor"; fail "coulisses doctor found an error"; }
cat "$WORK/doctor"
grep -q '^\[ok\] worker' "$WORK/doctor" || fail "coulisses doctor does not see the worker"
! grep -q '^\[!!\] tâche' "$WORK/doctor" || fail "coulisses doctor warns about a periodic task"

step "backup (inside the web container)"
docker exec "$NAME-web" coulisses backup -o /var/lib/coulisses/ | tee "$WORK/backup" || fail "coulisses backup"
archive=$(sed -n 's/.* \(\/var\/lib\/coulisses\/[^ ]*\.tar\.gz\) .*/\1/p' "$WORK/backup")
[ -n "$archive" ] || fail "coulisses backup did not say where it wrote the archive"
docker cp "$NAME-web:$archive" "$WORK/" || fail "docker cp $archive"
tar -tzf "$WORK/$(basename "$archive")" >/dev/null || fail "the archive copied out is not a tar.gz"
echo "copied out with docker cp: $(basename "$archive")"

step "SIGTERM: each role stops by itself"
for role in tasks worker web; do
  docker stop -t 70 "$NAME-$role" >/dev/null
  code=$(docker inspect -f '{{.State.ExitCode}}' "$NAME-$role")
  [ "$code" = 0 ] || fail "the $role role exited with $code on SIGTERM"
done
docker logs "$NAME-tasks" 2>&1 | grep -q '^coulisses tasks: stopped' || fail "the tasks role did not stop by itself"

database=SQLite
[ -z "${CHECK_DATABASE_URL:-}" ] || database=PostgreSQL
echo "container check: ok ($IMAGE, base $BASE_IMAGE, $database)"
