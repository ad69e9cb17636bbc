#!/usr/bin/env bash
# Builds the images deploy/compose.yaml runs on a machine without a container registry, with podman:
# the base (make-base-image.sh), the portal image (Containerfile) and local stand-ins for the
# official Kafka, PostgreSQL and mail catcher images. Each build is cached (podman's layers), so a
# second run takes seconds. Prints how long each step took.
#
#   deploy/image/build-images.sh             # all of them
#   deploy/image/build-images.sh portal      # only some: base portal kafka postgres mailsink
#
# Image names (the compose file reads the same variables): PORTAL_BASE_IMAGE, PORTAL_IMAGE,
# KAFKA_IMAGE, POSTGRES_IMAGE, MAIL_IMAGE. PORTAL_BUILD_CA: a CA bundle handed to pip and uv in the
# build (a build secret, not kept in the image) where HTTPS to PyPI passes a TLS-inspecting proxy;
# the host's bundle by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.local/bin:$PATH"

: "${PORTAL_BASE_IMAGE:=localhost/portal-python:3.11-bookworm}"
: "${PORTAL_IMAGE:=localhost/portal:dev}"
: "${KAFKA_IMAGE:=localhost/portal-kafka:4.4.0}"
: "${POSTGRES_IMAGE:=localhost/portal-postgres:15}"
: "${MAIL_IMAGE:=localhost/portal-mailsink:dev}"
export PORTAL_BASE_IMAGE
ca=${PORTAL_BUILD_CA:-/etc/ssl/certs/ca-certificates.crt}
build=(podman build --layers --build-arg "BASE_IMAGE=$PORTAL_BASE_IMAGE")
[ -f "$ca" ] && build+=(--secret "id=ca,src=$ca")

timed() {
  local what=$1 start=$SECONDS
  shift
  "$@"
  echo "build-images: $what took $((SECONDS - start)) s" >&2
}

kafka_context() {
  # The jars `./portal up` uses (fetched with Maven once, cached in ~/.cache/portal) and the
  # entrypoint, hard-linked into a throwaway context.
  local libs ctx
  libs=$(uv run --frozen python -c 'from pathlib import Path; from portal_stack.kafka import ensure_jars; print(ensure_jars(Path.home() / ".cache" / "portal"))')
  ctx=$(mktemp -d /var/tmp/portal-kafka-ctx.XXXXXX)
  cp -al "$libs" "$ctx/libs" 2>/dev/null || cp -a "$libs" "$ctx/libs"
  cp deploy/image/kafka/entrypoint.sh "$ctx/"
  echo "$ctx"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(base portal kafka postgres mailsink)
for target in "${targets[@]}"; do
  case "$target" in
    base) timed "base image $PORTAL_BASE_IMAGE" deploy/image/make-base-image.sh ;;
    portal)
      timed "portal image $PORTAL_IMAGE" "${build[@]}" -q -f deploy/image/Containerfile \
        --ignorefile deploy/image/Containerfile.dockerignore -t "$PORTAL_IMAGE" . >/dev/null ;;
    mailsink)
      timed "mail catcher image $MAIL_IMAGE" "${build[@]}" -q -f deploy/image/mailsink/Containerfile \
        --ignorefile deploy/image/Containerfile.dockerignore -t "$MAIL_IMAGE" . >/dev/null ;;
    postgres)
      timed "PostgreSQL image $POSTGRES_IMAGE" "${build[@]}" -q -f deploy/image/postgres/Containerfile \
        -t "$POSTGRES_IMAGE" deploy/image/postgres >/dev/null ;;
    kafka)
      ctx=$(kafka_context)
      timed "Kafka image $KAFKA_IMAGE" "${build[@]}" -q -f deploy/image/kafka/Containerfile \
        -t "$KAFKA_IMAGE" "$ctx" >/dev/null
      rm -rf "$ctx" ;;
    *) echo "build-images: unknown target $target (base portal kafka postgres mailsink)" >&2; exit 2 ;;
  esac
done
