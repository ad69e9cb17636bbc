#!/usr/bin/env bash
# Makes the base image for machines without a container registry: Debian bookworm (minbase, from
# Debian's mirror with debootstrap) with its Python 3.11, imported into podman. Where a registry
# can be reached, the Containerfile's default base (python:3.11-slim-bookworm) does the same job.
#
#   deploy/image/make-base-image.sh            # makes localhost/portal-python:3.11-bookworm once
#   PORTAL_BASE_IMAGE=other:tag DEBIAN_MIRROR=http://mirror/debian deploy/image/make-base-image.sh
#
# Idempotent: nothing is done when the image exists. Needs root, debootstrap and podman
# (scripts/ensure-podman.sh installs them).
set -euo pipefail

IMAGE=${PORTAL_BASE_IMAGE:-localhost/portal-python:3.11-bookworm}
SUITE=bookworm

if podman image exists "$IMAGE"; then
  echo "base image $IMAGE exists" >&2
  exit 0
fi
for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || { echo "make-base-image: $tool is missing (run scripts/ensure-podman.sh)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "make-base-image: debootstrap needs root" >&2; exit 1; }

# The Debian mirror this machine's apt uses (deb822 or one-line sources), unless DEBIAN_MIRROR names one.
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(sed -n 's/^URIs: *\(\S*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  [ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\(\S*\/debian\)\/* .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1)
  mirror=${mirror:-http://deb.debian.org/debian}
fi
security=${DEBIAN_SECURITY_MIRROR:-${mirror%/debian}/debian-security}

root=$(mktemp -d /var/tmp/portal-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrap $SUITE from $mirror into $root" >&2
# bookworm's python3 is 3.11; python3-venv brings ensurepip (the image build makes a venv for uv
# with it); tzdata for zoneinfo. Then the updates and security fixes released since the suite.
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,tzdata "$SUITE" "$root" "$mirror" >&2
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror $SUITE main
deb $mirror $SUITE-updates main
deb $security $SUITE-security main
SOURCES
chroot "$root" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq && apt-get clean' >&2
chroot "$root" python3 -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' >&2
# `python` and `python3` on PATH as in the official images; no docs, man pages, caches or lists.
ln -sf /usr/bin/python3.11 "$root/usr/local/bin/python"
ln -sf /usr/bin/python3.11 "$root/usr/local/bin/python3"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +

tar --numeric-owner -C "$root" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  - "$IMAGE" >&2
echo "made base image $IMAGE" >&2
