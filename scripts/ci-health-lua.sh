#!/usr/bin/env bash
# Hook for .ci/run: runs the Application health check of deploy/argocd-health (Lua,
# as Argo CD runs resource customizations) on the Application states it must tell
# apart, with the `lupa` Lua runtime from PyPI. Argo CD runs its health scripts with
# gopher-lua (Lua 5.1); the script uses nothing newer. Skips (exit 0, saying so) when
# lupa cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import lupa' 2>/dev/null; then
    python3 -m pip install --quiet 'lupa==2.8' 2>/dev/null ||
        { echo "skipping: the lupa Lua runtime (PyPI) could not be installed"; exit 0; }
fi

python3 - <<'PY'
import lupa

text = open("deploy/argocd-health/argocd-cm-patch.yaml").read()
# The Lua source: the block scalar under the data key, dedented.
block = text.split("resource.customizations.health.argoproj.io_Application: |\n", 1)[1]
lua = "\n".join(line[4:] for line in block.splitlines())

runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
check = runtime.eval("function(obj) " + lua + " end")

def table(value):
    if isinstance(value, dict):
        return runtime.table_from({k: table(v) for k, v in value.items()})
    return value

synced = {"status": "Synced"}
cases = [
    ({"metadata": {"name": "a"}}, "Progressing"),
    ({"status": {}}, "Progressing"),
    ({"status": {"health": {"status": "Healthy"}, "sync": synced}}, "Healthy"),
    ({"status": {"health": {"status": "Degraded", "message": "x"}, "sync": synced}}, "Degraded"),
    ({"status": {"health": {"status": "Missing"}, "sync": synced}}, "Missing"),
    # Argo CD >= 3.4: a child half applied reads Healthy, but is not Synced.
    ({"status": {"health": {"status": "Healthy"}, "sync": {"status": "OutOfSync"}}}, "Progressing"),
    ({"status": {"health": {"status": "Healthy"}}}, "Progressing"),
    # A sync requested or running, even of a child that reads Synced and Healthy.
    ({"operation": {"sync": {}}, "status": {"health": {"status": "Healthy"}, "sync": synced}}, "Progressing"),
    ({"status": {"health": {"status": "Healthy"}, "sync": synced, "operationState": {"phase": "Running"}}}, "Progressing"),
    # A failed last sync (its retries used up) of a child that is not Synced.
    ({"status": {"health": {"status": "Healthy"}, "sync": {"status": "OutOfSync"}, "operationState": {"phase": "Failed", "message": "one or more objects failed to apply"}}}, "Degraded"),
    ({"status": {"health": {"status": "Progressing"}, "sync": {"status": "OutOfSync"}, "operationState": {"phase": "Error"}}}, "Degraded"),
    # Every resource applied, but the sync failed (a PostSync hook): Degraded.
    ({"status": {"health": {"status": "Healthy"}, "sync": synced, "operationState": {"phase": "Failed"}}}, "Degraded"),
    # A sync being terminated, and one that succeeded.
    ({"status": {"health": {"status": "Healthy"}, "sync": synced, "operationState": {"phase": "Terminating"}}}, "Progressing"),
    ({"status": {"health": {"status": "Healthy"}, "sync": synced, "operationState": {"phase": "Succeeded"}}}, "Healthy"),
]
for obj, want in cases:
    got = check(table(obj))
    assert got["status"] == want, (obj, dict(got))
    assert isinstance(got["message"], str), (obj, dict(got))
print("deploy/argocd-health: the Lua health check gives the expected status for", len(cases), "Application states")
PY
