#!/bin/sh
# Build the image and start it as the operator's guide says ("Containers"); exits 0 when the web
# role answers /health and the backup command works inside it. Needs a Docker engine.
#   sh docs/deploy/container-check.sh            (from the repository's root)
set -eu
IMAGE=${IMAGE:-coulisses:check}
NAME=coulisses-check-$$
KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
PORT=${PORT:-18000}

cleanup() { docker rm -f "$NAME" >/dev/null 2>&1 || true; docker volume rm -f "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT

docker build -t "$IMAGE" .
docker volume create "$NAME" >/dev/null
run() { docker run --rm -e COULISSES_SECRET_KEY="$KEY" -e COULISSES_PLUGINS=contacts,sales -v "$NAME:/var/lib/coulisses" "$IMAGE" "$@"; }
run coulisses --version
run upgrade
run coulisses config check
docker run -d --name "$NAME" -e COULISSES_SECRET_KEY="$KEY" -e COULISSES_WEB_WORKERS=2 \
  -v "$NAME:/var/lib/coulisses" -p "127.0.0.1:$PORT:8000" "$IMAGE" web >/dev/null
i=0
until curl -fsS "http://127.0.0.1:$PORT/health"; do
  i=$((i + 1)); [ "$i" -lt 60 ] || { docker logs "$NAME"; exit 1; }; sleep 1
done
echo
docker exec "$NAME" coulisses worker --once
docker exec "$NAME" coulisses backup -o /var/lib/coulisses
docker exec "$NAME" coulisses doctor || true
echo "container check: ok"
