# Sourced by scripts/ensure-tools.sh and scripts/ensure-podman.sh, which each list the Debian
# packages whose commands are missing: `apt_install_missing HINT PACKAGE...` installs them as root
# with apt-get; without root or apt-get it says what is missing and HINT (how to get it), and
# answers 1. No packages: nothing to do.
apt_install_missing() {
  local hint=$1
  shift
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $*" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
  else
    echo "missing: $* — $hint" >&2
    return 1
  fi
}
