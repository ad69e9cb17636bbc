#!/usr/bin/env bash
# A release: the migrations first, then the roles. Plain kustomize has no hooks, so the order is
# kept here: every resource but the roles' is applied (configuration, Kafka topics and users, the
# migrate Jobs, whose finished Jobs of the last release are deleted first: a Job cannot be
# changed), the Jobs are waited for, and only then are the Deployments rolled.
#
#   deploy/k8s/rollout.sh deploy/k8s/overlays/prod
set -euo pipefail
overlay=${1:?usage: deploy/k8s/rollout.sh OVERLAY_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
"$here/scripts/kustomize.sh" "$overlay" >"$rendered"
namespace=$(sed -n 's/^  namespace: //p' "$rendered" | head -n1)
migrate=app.kubernetes.io/part-of=portal,app.kubernetes.io/component=migrate
kubectl delete job --namespace "$namespace" --selector "$migrate" --ignore-not-found --wait
kubectl apply --filename "$rendered" --selector 'app.kubernetes.io/component notin (api,worker,relay)'
kubectl wait --namespace "$namespace" --for=condition=complete job --selector "$migrate" --timeout=15m
kubectl apply --filename "$rendered"
