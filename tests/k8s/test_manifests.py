"""The Kubernetes manifests as a cluster would get them: every overlay rendered by the real
kustomize (kubectl from tools/k8s, which `make k8s` installs), then our rules (tools/k8s/rules.py)
on what comes out, and each rule shown to fail when what it guards is taken away."""

from __future__ import annotations

import base64
import copy
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ValidationError

from vanban.launcher.infra.process import find_binary
from vanban.launcher.platform import DATABASE_SERVICES, SERVICES, AgencySpec

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
    "volume claim": (
        lambda docs: without(docs, "PersistentVolumeClaim", "signing-token"),
        "reads the PersistentVolumeClaim 'signing-token', which is not in the render",
    ),
    "open policy": (
        lambda docs: [
            *docs,
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "allow-all", "namespace": "vanban-000-00-00-h99"},
                "spec": {
                    "podSelector": {},
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [{}],
                    "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
                },
            },
        ],
        "NetworkPolicy/allow-all: an ingress rule open to every address",
    ),
    "empty": (lambda docs: [], "the render is empty"),
}


@pytest.mark.parametrize("what", sorted(BREAKS))
def test_a_rule_fails_when_what_it_guards_is_taken_away(
    rendered: dict[str, list[Doc]], what: str
) -> None:
    docs = copy.deepcopy(rendered[DEMO])
    change, expected = BREAKS[what]
    changed = change(docs)
    docs = docs if changed is None else changed
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


Flow = tuple[str, str, int]  # (peer, protocol, port)


def _peer(peer: Doc) -> str:
    """A peer of a policy rule, named the way the expectations below name it."""
    if "ipBlock" in peer:
        return f"ip:{peer['ipBlock']['cidr']}"
    pods = (peer.get("podSelector") or {}).get("matchLabels") or {}
    where = ""
    if "namespaceSelector" in peer:
        where = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] + "/"
    return where + ",".join(f"{k}={v}" for k, v in sorted(pods.items()))


def flows(docs: list[Doc], labels: dict[str, str]) -> tuple[set[Flow], set[Flow]]:
    """Everything the namespace's policies open for pods with `labels`: (ingress, egress)."""
    found: tuple[set[Flow], set[Flow]] = (set(), set())
    for policy in docs:
        if policy["kind"] != "NetworkPolicy":
            continue
        wanted = policy["spec"]["podSelector"].get("matchLabels") or {}
        if any(labels.get(k) != v for k, v in wanted.items()):
            continue
        for index, (direction, key) in enumerate((("ingress", "from"), ("egress", "to"))):
            for rule in policy["spec"].get(direction) or ():
                for peer in rule.get(key) or [{"ipBlock": {"cidr": "*"}}]:
                    for port in rule.get("ports") or [{"protocol": "*", "port": 0}]:
                        found[index].add((_peer(peer), port["protocol"], port["port"]))
    return found


NAME = "app.kubernetes.io/name"
DNS = {
    ("kube-system/k8s-app=kube-dns", "UDP", 53),
    ("kube-system/k8s-app=kube-dns", "TCP", 53),
}
# What only the production-shaped overlay opens, out of the cluster (egress.yaml there).
OUTSIDE = {
    "agency-000-00-00-h98": {
        "gateway": {("ip:203.0.113.10/32", "TCP", 443)},
        "signing": {("ip:203.0.113.20/32", "TCP", 443), ("ip:203.0.113.20/32", "TCP", 80)},
        "exchange": {("ip:198.51.100.0/28", "TCP", 4222)},
        # The relay, and webhooks to public https endpoints (private ranges excepted).
        "notify": {("ip:203.0.113.30/32", "TCP", 587), ("ip:0.0.0.0/0", "TCP", 443)},
    }
}


def expected_flows(overlay: str, name: str) -> tuple[set[Flow], set[Flow]]:
    workload = next(w for w in manifests.workloads() if w.name == name)
    callers = [w.name for w in manifests.workloads() if name in w.peers]
    ingress = {(f"{NAME}={c}", "TCP", 50051) for c in callers if not workload.is_worker}
    if workload.is_gateway:
        ingress.add(("ingress-nginx/", "TCP", 8080))
    egress = {(f"{NAME}={peer}", "TCP", 50051) for peer in workload.peers} | DNS
    egress.add(("app.kubernetes.io/component=opentelemetry-collector", "TCP", 4317))
    if workload.has_database:
        egress.add(("cnpg.io/cluster=vanban-db", "TCP", 5432))
    if workload.uses_nats:
        egress.add(("app.kubernetes.io/instance=nats,app.kubernetes.io/name=nats", "TCP", 4222))
    if name == "archive":
        egress.add(("v1.min.io/tenant=vanban-objects", "TCP", 9000))
    if name == "exchange":
        egress.add((f"vanban-axis/{NAME}=nats", "TCP", 4222))
    egress |= OUTSIDE.get(overlay, {}).get(name, set())
    return ingress, egress


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_flows_are_exactly_the_calls(rendered: dict[str, list[Doc]], overlay: str) -> None:
    """Every flow every policy opens for each workload's pods, in and out, peers and ports:
    exactly the services it calls or is called by, its backing services, DNS; the gateway alone
    from the ingress controller, the exchange alone to the axis, the archive alone to MinIO."""
    docs = rendered[overlay]
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        name = deployment["metadata"]["name"]
        assert flows(docs, labels) == expected_flows(overlay, name), name


def test_the_flows_check_sees_a_widened_policy(rendered: dict[str, list[Doc]]) -> None:
    docs = copy.deepcopy(rendered[DEMO])
    policy = find(docs, "NetworkPolicy", "notify")
    policy["spec"]["egress"][0]["to"].append({"podSelector": {"matchLabels": {NAME: "archive"}}})
    labels = find(docs, "Deployment", "notify")["spec"]["template"]["metadata"]["labels"]
    assert flows(docs, labels) != expected_flows(DEMO, "notify")


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


SETTINGS = {
    "directory": "vanban.directory.settings:DirectorySettings",
    "archive": "vanban.archive.settings:ArchiveSettings",
    "documents": "vanban.documents.settings:DocumentsSettings",
    "documents-text": "vanban.documents.textworker:TextWorkerSettings",
    "notify": "vanban.notify.settings:NotifySettings",
    "workflow": "vanban.workflow.settings:WorkflowSettings",
    "signing": "vanban.signing.settings:SigningSettings",
    "exchange": "vanban.exchange.settings:ExchangeSettings",
    "gateway": "vanban.gateway.settings:GatewaySettings",
}


def _secret_values(rendered: dict[str, list[Doc]], docs: list[Doc], name: str) -> dict[str, str]:
    """A Secret's values as the pod would get them: the render's own (demo), or for one an
    ExternalSecret fetches, the demo's values of the same Secret (same keys)."""
    for doc in (*docs, *rendered[DEMO]):
        if doc["kind"] == "Secret" and doc["metadata"]["name"] == name:
            return {k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()}
    raise AssertionError(f"no Secret {name}")


def pod_env(rendered: dict[str, list[Doc]], docs: list[Doc], container: Doc) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom") or ():
        if "configMapRef" in source:
            env |= find(docs, "ConfigMap", source["configMapRef"]["name"])["data"]
        if "secretRef" in source:
            env |= _secret_values(rendered, docs, source["secretRef"]["name"])
    for variable in container.get("env") or ():
        if "value" in variable:
            env[variable["name"]] = re.sub(
                r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), variable["value"]
            )
        else:
            env[variable["name"]] = "from-the-downward-api"
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_gets_the_settings_its_service_needs(
    rendered: dict[str, list[Doc]], overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each container's environment, as the render gives it (ConfigMap, Secret, its own env),
    makes the settings its program builds at start: the service's, the migration's (the same
    class), the text worker's; the token maker gets both PINs."""
    docs = rendered[overlay]
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        name = deployment["metadata"]["name"]
        module, _, cls = SETTINGS[name].partition(":")
        settings_class = getattr(importlib.import_module(module), cls)
        for container in [*pod.get("initContainers", ()), *pod["containers"]]:
            env = pod_env(rendered, docs, container)
            if container.get("args", [""])[0] == "init-softhsm":
                assert env["VANBAN_SIGNING_TOKEN_PIN"] and env["VANBAN_SIGNING_TOKEN_SO_PIN"]
                continue
            for key in [k for k in os.environ if k.startswith(("VANBAN_", "OTEL_"))]:
                monkeypatch.delenv(key)
            for key, value in env.items():
                monkeypatch.setenv(key, value)
            settings = settings_class()
            assert (
                settings.agency_code
                == find(docs, "Namespace", deployment["metadata"]["namespace"])["metadata"][
                    "labels"
                ]["vanban.gov.vn/agency"]
            )
            assert settings.grpc_host == "0.0.0.0" and settings.grpc_port == 50051, name
            assert str(settings.keys_dir) == "/keys"
            # The agency's sizing reaches the settings the code applies (a wrong variable name
            # would leave the defaults: 20 connections a process, one stream copy).
            assert settings.nats_stream_replicas == 3, name
            if hasattr(settings, "database_pool_size"):
                assert settings.database_pool_size == 5, name
            assert set(settings.peers) == set(
                next(w for w in manifests.workloads() if w.name == name).peers
            )
            assert "VANBAN_SIGNING_TOKEN_SO_PIN" not in env, f"{name} sees the SO PIN"


def test_a_missing_setting_is_caught(
    rendered: dict[str, list[Doc]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above builds settings for real: without the database URL, it fails."""
    docs = rendered[DEMO]
    container = find(docs, "Deployment", "notify")["spec"]["template"]["spec"]["containers"][0]
    env = pod_env(rendered, docs, container)
    del env["VANBAN_NOTIFY_DATABASE_URL"]
    for key in [k for k in os.environ if k.startswith(("VANBAN_", "OTEL_"))]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from vanban.notify.settings import NotifySettings

    with pytest.raises(ValidationError):
        NotifySettings()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_services_connect_to_what_the_render_names(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    """The hosts in the settings are the Services the operators and charts make from the
    render: CloudNativePG's `<cluster>-rw`, the NATS release `nats`, the OpenTelemetry
    operator's `<name>-collector`, the MinIO tenant's `minio`, the axis's NATS."""
    docs = rendered[overlay]
    namespace = next(d for d in docs if d["kind"] == "Namespace")["metadata"]["name"]
    config = next(
        d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("vanban-agency")
    )["data"]
    collector = next(d for d in docs if d["kind"] == "OpenTelemetryCollector")["metadata"]["name"]
    assert urlsplit(config["OTEL_EXPORTER_OTLP_ENDPOINT"]).hostname == f"{collector}-collector"
    s3_host = config["VANBAN_ARCHIVE_S3_ENDPOINT"].rsplit(":", 1)[0]
    assert s3_host in ("minio", f"minio.{namespace}.svc")
    if config["VANBAN_ARCHIVE_S3_SECURE"] == "true":
        # The operator's certificate names minio.<namespace>(.svc...), not plain "minio".
        assert s3_host == f"minio.{namespace}.svc"
    cluster = next(d for d in docs if d["kind"] == "Cluster")["metadata"]["name"]
    for service in SERVICES:
        values = _secret_values(rendered, docs, f"vanban-{service}")
        database = urlsplit(values[f"VANBAN_{service.upper()}_DATABASE_URL"])
        assert (database.hostname, database.path) == (f"{cluster}-rw", f"/{service}")
        assert database.username == service
        assert urlsplit(values["VANBAN_NATS_URL"]).hostname == "nats"
        assert urlsplit(values["VANBAN_NATS_URL"]).username == service
    axis = urlsplit(_secret_values(rendered, docs, "vanban-exchange")["VANBAN_EXCHANGE_AXIS_URL"])
    assert axis.hostname == "nats.vanban-axis.svc"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_replica_at_its_maximum_fits_in_the_databases_connections(
    rendered: dict[str, list[Doc]], overlay: str
) -> None:
    """Each process keeps up to twice VANBAN_DATABASE_POOL_SIZE connections; every workload
    with a database, at its autoscaler's maximum, must fit in max_connections with room for
    the operator's own and a migration per service."""
    docs = rendered[overlay]
    config = next(
        d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("vanban-agency")
    )["data"]
    per_process = 2 * int(config["VANBAN_DATABASE_POOL_SIZE"])
    scalers = {
        d["spec"]["scaleTargetRef"]["name"]: d
        for d in docs
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    worst = 0
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        name = deployment["metadata"]["name"]
        if not next(w for w in manifests.workloads() if w.name == name).has_database:
            continue
        pods = (
            scalers[name]["spec"]["maxReplicas"]
            if name in scalers
            else deployment["spec"]["replicas"]
        )
        worst += pods * per_process
    cluster = next(d for d in docs if d["kind"] == "Cluster")
    limit = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    reserved = 10 + len(DATABASE_SERVICES)  # superuser, replication, the operator; migrations
    assert worst + reserved <= limit, f"{worst} + {reserved} connections > {limit}"


def test_webhooks_leave_the_cluster_only_for_public_addresses(
    rendered: dict[str, list[Doc]],
) -> None:
    policy = find(rendered["agency-000-00-00-h98"], "NetworkPolicy", "notify-mail-and-webhooks")
    [anywhere] = [
        peer["ipBlock"]
        for rule in policy["spec"]["egress"]
        for peer in rule["to"]
        if peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    ]
    assert set(anywhere["except"]) >= {
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "127.0.0.0/8",
        "100.64.0.0/10",
    }
    assert policy["metadata"]["annotations"][rules.OPEN_EGRESS]
