#!/usr/bin/env bash
# Runs deploy/compose.yaml with podman-compose on a machine without a registry (the images of
# build-images.sh), in the order the compose file asks for:
#
#   deploy/image/stack.sh up      # Kafka, PostgreSQL, mail catcher, topics and migrations; then the roles
#   deploy/image/stack.sh down    # stops it and removes its containers, network and volumes
#   deploy/image/stack.sh ps | logs SERVICE | ...   # any other podman-compose command
#
# Why not a plain `podman-compose up -d`: with Debian 12's podman (4.3), podman-compose makes each
# container `--requires` its dependencies, and podman then refuses to start a container whose
# dependency is a finished one-shot (the migrations, the topics), and it cannot wait for a health
# check (podman < 4.6, or no systemd). So the one-shots are started first (each waits for its
# server by itself), waited for, their exit codes checked, and then the roles, without
# `--requires`. Docker Compose needs none of this: `docker compose -f deploy/compose.yaml up -d`.
#
# JWT_SECRET must be set. COMPOSE_PROJECT_NAME (default portal) names the stack; ports and images
# are the compose file's variables (build-images.sh names the local images as here).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${JWT_SECRET:?set JWT_SECRET to a long random string (tokens are signed with it)}"
: "${COMPOSE_PROJECT_NAME:=portal}"
export JWT_SECRET COMPOSE_PROJECT_NAME
export PORTAL_IMAGE=${PORTAL_IMAGE:-localhost/portal:dev}
export KAFKA_IMAGE=${KAFKA_IMAGE:-localhost/portal-kafka:4.4.0}
export POSTGRES_IMAGE=${POSTGRES_IMAGE:-localhost/portal-postgres:15}
export MAIL_IMAGE=${MAIL_IMAGE:-localhost/portal-mailsink:dev}
compose=(uv run --frozen podman-compose -p "$COMPOSE_PROJECT_NAME" -f deploy/compose.yaml)
services=(catalog orders returns billing notify)

up() {
  local oneshots=(topics) roles=() name code start=$SECONDS
  for s in "${services[@]}"; do
    oneshots+=("$s-migrate")
    roles+=("$s-api" "$s-worker" "$s-relay")
  done
  "${compose[@]}" up -d --no-deps kafka postgres mail "${oneshots[@]}" >&2
  for s in "${oneshots[@]}"; do
    name="${COMPOSE_PROJECT_NAME}_${s}_1"
    code=$(podman wait "$name")
    if [ "$code" != 0 ]; then
      # The servers' logs first and the one-shot's last: a caller that keeps only the end of
      # this output (the container test does) still sees what failed and why.
      for server in kafka postgres; do
        echo "--- $server (last lines):" >&2
        podman logs --tail 10 "${COMPOSE_PROJECT_NAME}_${server}_1" 2>&1 | cut -c1-300 >&2
      done
      echo "--- $s (last lines):" >&2
      podman logs --tail 30 "$name" >&2
      echo "stack: $s exited with $code" >&2
      exit 1
    fi
  done
  echo "stack: topics and migrations done after $((SECONDS - start)) s" >&2
  "${compose[@]}" up -d --no-deps "${roles[@]}" >&2
  echo "stack: ${#roles[@]} roles started after $((SECONDS - start)) s" >&2
}

case "${1:-}" in
  up) up ;;
  down) "${compose[@]}" down -v -t 20 >&2 ;;
  "") echo "usage: deploy/image/stack.sh up | down | <podman-compose command>" >&2; exit 2 ;;
  *) "${compose[@]}" "$@" ;;
esac
