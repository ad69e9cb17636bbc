#!/usr/bin/env bash
# `scripts/kustomize.sh DIR` prints the manifests of a kustomization (deploy/k8s/overlays/dev,
# .../prod): with kubectl's own kustomize where kubectl is installed, else a `kustomize` on PATH,
# else kustomize built once from the Go module proxy (KUSTOMIZE_VERSION) into ~/.cache/portal/bin.
set -euo pipefail
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.5.0}
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  exec kubectl kustomize "$@"
fi
if command -v kustomize >/dev/null 2>&1; then
  exec kustomize build "$@"
fi
bin="$HOME/.cache/portal/bin/kustomize-$KUSTOMIZE_VERSION"
if [ ! -x "$bin" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "missing: kubectl or kustomize, or Go to build kustomize $KUSTOMIZE_VERSION (apt-get install golang-go)" >&2
    exit 1
  fi
  echo "building kustomize $KUSTOMIZE_VERSION from the Go module proxy (once)" >&2
  gobin=$(mktemp -d)
  GOBIN="$gobin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >&2
  mkdir -p "$(dirname "$bin")"
  mv "$gobin/kustomize" "$bin"
  rm -rf "$gobin"
fi
exec "$bin" build "$@"
