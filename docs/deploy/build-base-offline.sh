#!/bin/sh
# Build, without Docker Hub, a base image that stands in for python:3.11-slim-bookworm
# (docs/operator-guide.md, "Containers"): Debian 12 "bookworm" from a Debian mirror (mmdebstrap),
# its Python 3.11 and a virtual environment first on PATH, so that `python`, `pip install` and the
# commands pip installs work as in the official image. Then:
#   docker build --build-arg BASE_IMAGE=coulisses-base:bookworm -t coulisses .
#
#   sudo sh docs/deploy/build-base-offline.sh              (needs root, mmdebstrap and a Docker engine)
# Settings (environment):
#   BASE_IMAGE       the image's name               (coulisses-base:bookworm)
#   DEBIAN_MIRROR    the Debian mirror              (http://deb.debian.org/debian)
#   SECURITY_MIRROR  its security updates           (http://deb.debian.org/debian-security)
#   EXTRA_CA_CERTS   PEM files of certificate authorities to trust in the image, separated by spaces
#                    (a proxy that inspects HTTPS, an internal package index); apt, pip and Python
#                    use Debian's trust store, which then holds them.
set -eu

BASE_IMAGE=${BASE_IMAGE:-coulisses-base:bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
EXTRA_CA_CERTS=${EXTRA_CA_CERTS:-}

fail() { echo "build-base-offline: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run it as root (mmdebstrap builds the root file system with chroot)"
command -v mmdebstrap >/dev/null || fail "mmdebstrap is missing: apt-get install mmdebstrap"
command -v docker >/dev/null || fail "the docker command is missing"
docker info >/dev/null 2>&1 || fail "no Docker engine answers (start dockerd)"
for ca in $EXTRA_CA_CERTS; do
  [ -r "$ca" ] || fail "cannot read the certificate $ca"
  grep -q "BEGIN CERTIFICATE" "$ca" || fail "$ca is not a PEM certificate"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/ca"
i=0
for ca in $EXTRA_CA_CERTS; do
  i=$((i + 1)); cp "$ca" "$work/ca/extra-$i.crt"
done

echo "== Debian bookworm from $DEBIAN_MIRROR"
# minbase: essential packages and apt only (as debian:bookworm-slim); documentation, manual pages and
# translations left out as in the official slim images.
mmdebstrap --variant=minbase --mode=root --format=tar \
  --include=ca-certificates,netbase,tzdata,python3,python3-venv \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --aptopt='APT::Install-Recommends "false"' \
  --customize-hook="sync-in $work/ca /usr/local/share/ca-certificates" \
  --customize-hook='chroot "$1" update-ca-certificates' \
  --customize-hook='chroot "$1" python3 -m venv /opt/python' \
  --customize-hook='chroot "$1" /opt/python/bin/pip --version' \
  --customize-hook='printf "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n" > "$1/etc/pip.conf"' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/root/.cache' \
  bookworm "$work/rootfs.tar" \
  "deb $DEBIAN_MIRROR bookworm main" \
  "deb $DEBIAN_MIRROR bookworm-updates main" \
  "deb $SECURITY_MIRROR bookworm-security main"

echo "== docker import $BASE_IMAGE"
docker import \
  --change 'ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV VIRTUAL_ENV=/opt/python' \
  --change 'CMD ["python3"]' \
  --message "Debian bookworm, Python 3.11 and a venv at /opt/python (docs/deploy/build-base-offline.sh)" \
  "$work/rootfs.tar" "$BASE_IMAGE" >/dev/null
docker run --rm "$BASE_IMAGE" sh -c 'python --version && pip --version' \
  || fail "the imported image does not run python and pip"
echo "build-base-offline: $BASE_IMAGE is ready"
