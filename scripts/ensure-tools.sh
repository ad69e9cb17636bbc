# Sourced by ./portal and ./run-tests: installs what the project needs on this machine where
# missing: Java 17 and Maven, curl and jq (Debian packages; Kafka runs on Java, Maven fetches its jars), uv
# (PyPI), then the locked Python workspace.
need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)  # the README's walkthrough (and its test)
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
. "$(dirname "${BASH_SOURCE[0]}")/apt-install-missing.sh"
apt_install_missing "install them (e.g. sudo apt-get install ${need_apt[*]})" "${need_apt[@]}" || exit 1
# uv: on PATH, else where an earlier run installed it, else from PyPI. A new shell's PATH often
# lacks ~/.local/bin, and installing again there cost every call seconds and a pip warning. Looked
# for in ~/.local/bin and in the scripts directory `pip install --user` writes to (PYTHONUSERBASE).
if ! command -v uv >/dev/null 2>&1; then
  uv_user_scripts=$(python3 -c 'import os, sysconfig; print(sysconfig.get_path("scripts", f"{os.name}_user"))' \
    2>/dev/null || true)
  for uv_dir in "$HOME/.local/bin" "$uv_user_scripts"; do
    if [ -n "$uv_dir" ] && [ -x "$uv_dir/uv" ]; then
      export PATH="$uv_dir:$PATH"
      break
    fi
  done
  if ! command -v uv >/dev/null 2>&1; then
    echo "installing uv from PyPI" >&2
    python3 -m pip install -q --user uv >&2 || python3 -m pip install -q uv >&2
    export PATH="$HOME/.local/bin:${uv_user_scripts:+$uv_user_scripts:}$PATH"
  fi
fi
# Bytecode caches: with PYTHONDONTWRITEBYTECODE set (this machine sets it) no .pyc was ever written,
# so every Python process compiled every module it imported again: 4 s of CPU to start a service
# here instead of 1.9, and the test command starts many. The workspace's own
# modules get theirs on first import, the installed packages' are compiled once by uv.
unset PYTHONDONTWRITEBYTECODE
uv sync --frozen -q --compile-bytecode
# The AsyncAPI parser (npm, pinned by contracts/asyncapi-check/package-lock.json) for the AsyncAPI
# check (contracts/tests/test_asyncapi.py): installed again only when the lock is newer than the
# last install; without Node that test fails and says so.
asyncapi_check=contracts/asyncapi-check
if ! command -v npm >/dev/null 2>&1; then
  echo "missing: node and npm, for the AsyncAPI check (e.g. sudo apt-get install nodejs npm)" >&2
elif [ ! "$asyncapi_check/node_modules/.package-lock.json" -nt "$asyncapi_check/package-lock.json" ]; then
  echo "installing the AsyncAPI parser into $asyncapi_check/node_modules" >&2
  npm ci --prefix "$asyncapi_check" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
fi
