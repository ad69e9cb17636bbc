#!/usr/bin/env bash
# Installs what the container test and deploy/image/*.sh need, where missing: rootful podman with
# runc, debootstrap (the base image) from Debian, and podman's configuration for this machine
# (/etc/containers/containers.conf.d/portal.conf: runc, and ulimits a container may have here).
# Says what is missing and exits 1 where it cannot install (not root, or no apt-get).
set -euo pipefail
need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
. "$(dirname "${BASH_SOURCE[0]}")/apt-install-missing.sh"
apt_install_missing "the container test needs rootful podman; as root: apt-get install ${need[*]}" "${need[@]}" || exit 1
conf=/etc/containers/containers.conf.d/portal.conf
if [ ! -f "$conf" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: $conf (runtime = \"runc\", modest default_ulimits); write it as root: scripts/ensure-podman.sh" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$conf")"
  cat >"$conf" <<'CONF'
# Written by scripts/ensure-podman.sh: the OCI runtime that works here, and ulimits below this
# machine's hard limits (podman's defaults ask for more, and containers then fail to start).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
fi
