#!/usr/bin/env bash
# Hook for .ci/run (which runs every scripts/ci-*.sh): the Kustomize components of the
# Argo CD plugin sidecar (deploy/argocd-cmp) and of the Application health check
# (deploy/argocd-health) build, on their own and inside a stand-in Argo CD
# installation, and the sidecar's plugin.yaml is the one kgen renders. Skips (exit 0)
# when kubectl is not installed. The same checks run in `cargo test --test cmp`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v kubectl >/dev/null 2>&1; then
    echo "skipping: kubectl is not installed (needed for kubectl kustomize)"
    exit 0
fi

kubectl kustomize deploy/argocd-cmp >/dev/null
echo "kubectl kustomize deploy/argocd-cmp: ok"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r deploy/argocd-cmp "$work/argocd-cmp"
mkdir "$work/install"
cp tests/fixtures/argocd-repo-server.yaml "$work/install/repo-server.yaml"
cat >"$work/install/kustomization.yaml" <<'YAML'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: argocd
resources:
- repo-server.yaml
components:
- ../argocd-cmp
YAML
out=$(kubectl kustomize "$work/install")
for want in "/var/run/argocd/argocd-cmp-server" "runAsUser: 999" \
    "mountPath: /home/argocd/cmp-server/config/plugin.yaml" "name: kgen-cmp-plugin-"; do
    grep -qF -- "$want" <<<"$out" || { echo "kustomize output lacks: $want"; exit 1; }
done
echo "deploy/argocd-cmp in an Argo CD installation: ok"

# The Application health check (deploy/argocd-health) patches argocd-cm.
mkdir "$work/health"
cp -r deploy/argocd-health "$work/argocd-health"
cat >"$work/health/argocd-cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
YAML
cat >"$work/health/kustomization.yaml" <<'YAML'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: argocd
resources:
- argocd-cm.yaml
components:
- ../argocd-health
YAML
out=$(kubectl kustomize "$work/health")
grep -qF "resource.customizations.health.argoproj.io_Application: |" <<<"$out" ||
    { echo "deploy/argocd-health does not set the Application health check"; exit 1; }
echo "deploy/argocd-health in an Argo CD installation: ok"

if [[ -f generated/argocd/cmp/plugin.yaml ]]; then
    cmp deploy/argocd-cmp/plugin.yaml generated/argocd/cmp/plugin.yaml ||
        { echo "deploy/argocd-cmp/plugin.yaml differs from generated/argocd/cmp/plugin.yaml: copy it over"; exit 1; }
    echo "deploy/argocd-cmp/plugin.yaml matches generated/argocd/cmp/plugin.yaml"
fi
