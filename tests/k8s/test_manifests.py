"""The Kubernetes manifests as a cluster would get them: every overlay rendered by the real
kustomize (kubectl from tools/k8s, which `make k8s` installs), then our rules (tools/k8s/rules.py)
on what comes out, and each rule shown to fail when what it guards is taken away."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from vanban.launcher.infra.process import find_binary
from vanban.launcher.platform import DATABASE_SERVICES, PEERS, SERVICES, AgencySpec

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
KUBECTL = REPO / "tools" / "k8s" / ".venv" / "bin" / "kubectl"
sys.path.insert(0, str(REPO / "tools" / "k8s"))

import manifests  # noqa: E402
import rules  # noqa: E402

Doc = dict[str, Any]
OVERLAYS = sorted(path.name for path in (K8S / "overlays").iterdir() if path.is_dir())
DEMO = "agency-000-00-00-h99"


def render(target: Path) -> list[Doc]:
    if not KUBECTL.exists():
        pytest.fail("no kubectl in tools/k8s/.venv: `make k8s` installs it")
    subprocess.run([sys.executable, str(REPO / "tools" / "k8s" / "demo_secrets.py")], check=True)
    out = subprocess.run(
        [str(KUBECTL), "kustomize", str(target)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Doc]]:
    found = {name: render(K8S / "overlays" / name) for name in OVERLAYS}
    found["axis"] = render(K8S / "axis")
    return found


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def without(docs: list[Doc], kind: str, name: str) -> list[Doc]:
    find(docs, kind, name)
    return [d for d in docs if not (d["kind"] == kind and d["metadata"]["name"] == name)]


def test_the_generated_manifests_are_current() -> None:
    assert manifests.main(["--check"]) == 0


@pytest.mark.parametrize("name", [*OVERLAYS, "axis"])
def test_every_overlay_keeps_the_rules(rendered: dict[str, list[Doc]], name: str) -> None:
    docs = rendered[name]
    assert rules.problems(docs) == []
    if name != "axis":
        deployments = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
        assert deployments == {*SERVICES, "documents-text"}
        assert len({d["metadata"]["namespace"] for d in docs if "namespace" in d["metadata"]}) == 1


def _drop_probe(docs: list[Doc]) -> None:
    pod = find(docs, "Deployment", "gateway")["spec"]["template"]["spec"]
    del pod["containers"][0]["readinessProbe"]


def _drop_limits(docs: list[Doc]) -> None:
    pod = find(docs, "Deployment", "archive")["spec"]["template"]["spec"]
    del pod["containers"][0]["resources"]["limits"]


def _drop_security(docs: list[Doc]) -> None:
    pod = find(docs, "Deployment", "signing")["spec"]["template"]["spec"]
    del pod["containers"][0]["securityContext"]


def _drop_init_security(docs: list[Doc]) -> None:
    pod = find(docs, "Deployment", "directory")["spec"]["template"]["spec"]
    pod["initContainers"][0]["securityContext"]["readOnlyRootFilesystem"] = False


def _root(docs: list[Doc]) -> None:
    pod = find(docs, "Deployment", "notify")["spec"]["template"]["spec"]
    pod["containers"][0]["securityContext"]["runAsUser"] = 0


def _short_grace(docs: list[Doc]) -> None:
    pod = find(docs, "Deployment", "workflow")["spec"]["template"]["spec"]
    pod["terminationGracePeriodSeconds"] = 10


def _replicas(docs: list[Doc]) -> None:
    find(docs, "Deployment", "documents")["spec"]["replicas"] = 3


def _token(docs: list[Doc]) -> None:
    pod = find(docs, "Deployment", "exchange")["spec"]["template"]["spec"]
    del pod["automountServiceAccountToken"]


# What is taken away, and the rule that then fails.
BREAKS: dict[str, tuple[Callable[[list[Doc]], list[Doc] | None], str]] = {
    "pdb": (
        lambda docs: without(docs, "PodDisruptionBudget", "documents"),
        "Deployment/documents: no PodDisruptionBudget",
    ),
    "probe": (_drop_probe, "Deployment/gateway: container gateway: no readinessProbe"),
    "limits": (_drop_limits, "Deployment/archive: container archive: no memory limit"),
    "security context": (
        _drop_security,
        "Deployment/signing: container signing: root filesystem not read-only",
    ),
    "init security": (
        _drop_init_security,
        "Deployment/directory: container migrate: root filesystem not read-only",
    ),
    "root": (_root, "Deployment/notify: container notify: runs as 0"),
    "grace": (_short_grace, "Deployment/workflow: container workflow: 10 s to terminate"),
    "token": (_token, "Deployment/exchange: mounts a service-account token"),
    "replicas": (_replicas, "Deployment/documents: sets replicas"),
    "default deny": (
        lambda docs: without(docs, "NetworkPolicy", "default-deny"),
        ": no default-deny NetworkPolicy",
    ),
    "own policy": (
        lambda docs: without(docs, "NetworkPolicy", "notify"),
        "Deployment/notify: no NetworkPolicy of its own",
    ),
    "autoscaler": (
        lambda docs: without(docs, "HorizontalPodAutoscaler", "workflow"),
        "Deployment/workflow: no HorizontalPodAutoscaler",
    ),
    "secret": (
        lambda docs: without(docs, "Secret", "vanban-caller-keys"),
        "reads the Secret 'vanban-caller-keys', which is not in the render",
    ),
}


@pytest.mark.parametrize("what", sorted(BREAKS))
def test_a_rule_fails_when_what_it_guards_is_taken_away(
    rendered: dict[str, list[Doc]], what: str
) -> None:
    docs = copy.deepcopy(rendered[DEMO])
    change, expected = BREAKS[what]
    docs = change(docs) or docs
    found = rules.problems(docs)
    assert any(expected in problem for problem in found), found


def test_a_new_service_without_its_parts_fails(rendered: dict[str, list[Doc]]) -> None:
    """A Deployment added without the PDB, autoscaler, policy and account the generator gives
    every service (say, written by hand in an overlay) is caught."""
    docs = copy.deepcopy(rendered[DEMO])
    new = copy.deepcopy(find(docs, "Deployment", "notify"))
    new["metadata"]["name"] = "reports"
    new["spec"]["template"]["metadata"]["labels"] = {"app.kubernetes.io/name": "reports"}
    new["spec"]["selector"]["matchLabels"] = {"app.kubernetes.io/name": "reports"}
    new["spec"]["template"]["spec"]["serviceAccountName"] = "reports"
    found = [p for p in rules.problems([*docs, new]) if "/reports:" in p]
    for missing in ("PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy of its own"):
        assert any(missing in problem for problem in found), found
    assert any("ServiceAccount 'reports'" in problem for problem in found), found


def _ingress_from(policy: Doc) -> set[str]:
    return {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for rule in policy["spec"].get("ingress") or ()
        for peer in rule["from"]
        if "podSelector" in peer and "namespaceSelector" not in peer
    }


def _egress_to(policy: Doc) -> list[Doc]:
    return [peer for rule in policy["spec"].get("egress") or () for peer in rule["to"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_flows_are_exactly_the_calls(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    for service in SERVICES:
        policy = find(docs, "NetworkPolicy", service)
        callers = {s for s, peers in PEERS.items() if service in peers}
        if service == "archive":
            callers.add("documents-text")
        assert _ingress_from(policy) == callers, service
        egress = _egress_to(policy)
        called = {
            p["podSelector"]["matchLabels"].get("app.kubernetes.io/name")
            for p in egress
            if "namespaceSelector" not in p
        }
        assert set(PEERS.get(service, ())) <= called
        # Only the gateway is reached from outside, only the exchange reaches the axis, only
        # the archive the object store.
        outside = [
            p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for rule in policy["spec"].get("ingress") or ()
            for p in rule["from"]
            if "namespaceSelector" in p
        ]
        assert outside == (["ingress-nginx"] if service == "gateway" else []), service
        axis = [p for p in egress if "namespaceSelector" in p]
        assert bool(axis) == (service == "exchange"), service
        minio = [p for p in egress if "v1.min.io/tenant" in p["podSelector"].get("matchLabels", {})]
        assert bool(minio) == (service == "archive"), service


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_backing_services_are_the_operators(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    docs = rendered[overlay]
    code = find(
        docs,
        "ConfigMap",
        next(
            d["metadata"]["name"] for d in docs if d["metadata"]["name"].startswith("vanban-agency")
        ),
    )["data"]["VANBAN_AGENCY_CODE"]
    cluster = find(docs, "Cluster", "vanban-db")
    roles = {
        role["name"]: role["passwordSecret"]["name"] for role in cluster["spec"]["managed"]["roles"]
    }
    assert roles == {s: f"vanban-db-{s}" for s in DATABASE_SERVICES}
    databases = {d["spec"]["name"]: d["spec"]["owner"] for d in docs if d["kind"] == "Database"}
    assert databases == {s: s for s in DATABASE_SERVICES}
    tenant = find(docs, "Tenant", "vanban-objects")
    assert tenant["spec"]["buckets"] == [{"name": AgencySpec(code).bucket, "objectLock": True}]
    config = find(
        docs,
        "ConfigMap",
        next(
            d["metadata"]["name"] for d in docs if d["metadata"]["name"].startswith("vanban-agency")
        ),
    )["data"]
    assert config["VANBAN_ARCHIVE_BUCKET"] == AgencySpec(code).bucket
    policy = json.loads(
        next(d for d in docs if d["metadata"]["name"].startswith("vanban-archive-s3-policy"))[
            "data"
        ]["archive-policy.json"]
    )
    actions = {a for statement in policy["Statement"] for a in statement["Action"]}
    assert "s3:PutObjectRetention" in actions and "s3:PutObjectLegalHold" in actions
    assert not any("Bypass" in action for action in actions)
    assert find(docs, "OpenTelemetryCollector", "otel")["spec"]["config"]["receivers"]["otlp"]
    # Every Secret the namespace needs is there: generated (demo) or fetched (production).
    secrets = {
        d["metadata"]["name"] if d["kind"] == "Secret" else d["spec"]["target"]["name"]
        for d in docs
        if d["kind"] in ("Secret", "ExternalSecret")
    }
    assert set(manifests.secret_keys()) <= secrets


def test_the_demo_secrets_hold_every_key(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered[DEMO]
    for name, keys in manifests.secret_keys().items():
        secret = find(docs, "Secret", name)
        held = set(secret.get("data") or {})
        if name == "vanban-objects-env":
            assert held == {"config.env"}
        else:
            assert held == set(keys), name


def _substituted(text: str) -> tuple[str, set[str]]:
    """The chart values with every `<< $VAR >>` given a value, and the variables named."""
    names = set(re.findall(r"<< \$(\w+) >>", text))
    text = re.sub(r"<< \$(\w+) >>", r"pw-\1", text)
    return re.sub(r"<< (\w+) >>", r"\1", text), names


def _nats_server_accepts(config: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "nats.conf"
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [find_binary("nats-server"), "-c", str(path), "-t"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_agency_nats_users_are_a_valid_server_config(tmp_path: Path) -> None:
    text, names = _substituted((K8S / "components" / "nats" / "users.yaml").read_text())
    merge = yaml.safe_load(text)["config"]["merge"]
    assert {user["user"] for user in merge["authorization"]["users"]} == set(SERVICES)
    _nats_server_accepts(
        {"port": 4222, "jetstream": {"store_dir": str(tmp_path)}, **merge}, tmp_path
    )
    values = yaml.safe_load((K8S / "components" / "nats" / "values.yaml").read_text())
    assert set(values["container"]["env"]) == names


def test_the_axis_accounts_are_a_valid_server_config(tmp_path: Path) -> None:
    text, names = _substituted((K8S / "axis" / "accounts.yaml").read_text())
    merge = yaml.safe_load(text)["config"]["merge"]
    codes = manifests.axis_agencies()
    assert {f"AGENCY_{code.replace('.', '_')}" for code in codes} <= set(merge["accounts"])
    config = {
        "port": 4222,
        "jetstream": {"store_dir": str(tmp_path), "domain": "national"},
        "leafnodes": {"port": 7422},
        **merge,
    }
    _nats_server_accepts(config, tmp_path)
    values = yaml.safe_load((K8S / "axis" / "values.yaml").read_text())
    assert set(values["container"]["env"]) == names
    inboxes = [d for d in yaml.safe_load_all((K8S / "axis" / "inboxes.yaml").read_text()) if d]
    assert {d["spec"]["name"] for d in inboxes if d["kind"] == "Stream"} == {
        f"INBOX_{code.replace('.', '_')}" for code in codes
    }


def test_every_skipped_checkov_check_has_its_reason() -> None:
    lines = [
        line
        for line in (REPO / "tools" / "k8s" / "checkov-skips.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines
    for line in lines:
        check, _, reason = line.partition(":")
        assert re.fullmatch(r"CKV2?_K8S_\d+", check), line
        assert len(reason.split()) >= 5, f"{check} is skipped without a reason"
