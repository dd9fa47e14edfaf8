"""The house rules every rendered overlay keeps: `python tools/k8s/rules.py RENDERED.yaml...`.

checkov checks what any cluster should; these are ours, on everything `kubectl kustomize`
renders, so that a new service (or an overlay's patch) cannot quietly go without them:

- every workload has a PodDisruptionBudget and, unless it is annotated as a singleton with its
  reason (`vanban.gov.vn/singleton`), a HorizontalPodAutoscaler, which alone sets its replicas;
- every container has CPU and memory requests and limits and the restricted security context
  (non-root as the images' user, read-only root filesystem, no privilege escalation, every
  capability dropped, seccomp RuntimeDefault), a writable /tmp of its own, and, when it serves,
  startup, readiness and liveness probes;
- pods mount no service-account token and give the orchestrator time to drain them (the grace
  period covers the preStop pause and the service's own shutdown grace);
- every namespace enforces the restricted Pod Security Standard and denies all traffic by
  default, and every workload has a NetworkPolicy of its own that opens its flows;
- every Secret, ConfigMap and volume claim a workload uses is in the render (a Secret may be
  fetched by an ExternalSecret);
- no NetworkPolicy rule is open to every address or every pod, unless annotated with why
  (`vanban.gov.vn/open-egress`, for the API server); an empty render is itself a problem.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

IMAGE_USER = 10001
NAME_LABEL = "app.kubernetes.io/name"
SINGLETON = "vanban.gov.vn/singleton"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet"}
# A NetworkPolicy rule that names no peer lets every address through: only with this
# annotation, which says why (e.g. the API server, whose address differs per cluster).
OPEN_EGRESS = "vanban.gov.vn/open-egress"
# What Kubernetes itself puts in every namespace.
BUILT_IN = {("ConfigMap", "kube-root-ca.crt")}

Doc = dict[str, Any]


def load(paths: Iterable[Path]) -> list[Doc]:
    found: list[Doc] = []
    for path in paths:
        with path.open(encoding="utf-8") as stream:
            found += [doc for doc in yaml.safe_load_all(stream) if isinstance(doc, dict)]
    return found


def _name(doc: Doc) -> str:
    meta = doc.get("metadata") or {}
    return f"{meta.get('namespace', '-')}/{doc.get('kind')}/{meta.get('name')}"


def _namespace(doc: Doc) -> str | None:
    meta = doc.get("metadata") or {}
    namespace = meta.get("namespace")
    return str(namespace) if namespace is not None else None


def _selects(selector: Doc | None, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels only, as ours are) selects `labels`; an empty
    selector selects every pod."""
    if selector is None:
        return False
    wanted = selector.get("matchLabels") or {}
    if selector.get("matchExpressions"):
        return False
    return all(labels.get(key) == value for key, value in wanted.items())


def _pod(doc: Doc) -> Doc:
    return dict(((doc.get("spec") or {}).get("template") or {}).get("spec") or {})


def _pod_labels(doc: Doc) -> dict[str, str]:
    template = (doc.get("spec") or {}).get("template") or {}
    return dict((template.get("metadata") or {}).get("labels") or {})


def _is_default_deny(doc: Doc) -> bool:
    spec = doc.get("spec") or {}
    return (
        doc.get("kind") == "NetworkPolicy"
        and spec.get("podSelector") in ({}, None)
        and set(spec.get("policyTypes") or ()) == {"Ingress", "Egress"}
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def _container_problems(container: Doc, pod: Doc, *, serves: bool) -> Iterator[str]:
    name = container.get("name")
    resources = container.get("resources") or {}
    for part in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if not (resources.get(part) or {}).get(resource):
                yield f"container {name}: no {resource} {part[:-1]}"
    context = container.get("securityContext") or {}
    pod_context = pod.get("securityContext") or {}
    if context.get("allowPrivilegeEscalation") is not False:
        yield f"container {name}: privilege escalation not forbidden"
    if context.get("readOnlyRootFilesystem") is not True:
        yield f"container {name}: root filesystem not read-only"
    if context.get("privileged"):
        yield f"container {name}: privileged"
    if "ALL" not in ((context.get("capabilities") or {}).get("drop") or ()):
        yield f"container {name}: capabilities not all dropped"
    if not (context.get("runAsNonRoot") or pod_context.get("runAsNonRoot")):
        yield f"container {name}: may run as root"
    user = context.get("runAsUser", pod_context.get("runAsUser"))
    if user != IMAGE_USER:
        yield f"container {name}: runs as {user}, not the images' user {IMAGE_USER}"
    seccomp = context.get("seccompProfile") or pod_context.get("seccompProfile") or {}
    if seccomp.get("type") != "RuntimeDefault":
        yield f"container {name}: seccomp profile not RuntimeDefault"
    volumes = {volume.get("name"): volume for volume in pod.get("volumes") or ()}
    tmp = [m for m in container.get("volumeMounts") or () if m.get("mountPath") == "/tmp"]
    if not tmp or "emptyDir" not in volumes.get(tmp[0].get("name"), {}):
        yield f"container {name}: no writable /tmp of its own (emptyDir)"
    if serves:
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if not container.get(probe):
                yield f"container {name}: no {probe}"


def _grace_problems(pod: Doc) -> Iterator[str]:
    grace = pod.get("terminationGracePeriodSeconds", 30)
    for container in pod.get("containers") or ():
        pre_stop = (((container.get("lifecycle") or {}).get("preStop") or {}).get("sleep")) or {}
        drain = 0.0
        for variable in container.get("env") or ():
            if str(variable.get("name", "")).endswith("_SHUTDOWN_GRACE"):
                drain = float(variable.get("value") or 0)
        needed = pre_stop.get("seconds", 0) + drain
        if needed and grace <= needed:
            yield (
                f"container {container.get('name')}: {grace} s to terminate, but it pauses and "
                f"drains for {needed:g} s"
            )


def _references(pod: Doc) -> Iterator[tuple[str, str, bool]]:
    """(kind, name, optional) of every Secret and ConfigMap the pod reads."""
    for container in [*(pod.get("initContainers") or ()), *(pod.get("containers") or ())]:
        for source in container.get("envFrom") or ():
            for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                if key in source:
                    ref = source[key]
                    yield kind, ref["name"], bool(ref.get("optional"))
        for variable in container.get("env") or ():
            value_from = variable.get("valueFrom") or {}
            for kind, key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                if key in value_from:
                    ref = value_from[key]
                    yield kind, ref["name"], bool(ref.get("optional"))
    for volume in pod.get("volumes") or ():
        if "persistentVolumeClaim" in volume:
            yield "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"], False
        if "secret" in volume:
            yield "Secret", volume["secret"]["secretName"], bool(volume["secret"].get("optional"))
        if "configMap" in volume:
            ref = volume["configMap"]
            yield "ConfigMap", ref["name"], bool(ref.get("optional"))
        for source in (volume.get("projected") or {}).get("sources") or ():
            for kind, key in (("Secret", "secret"), ("ConfigMap", "configMap")):
                if key in source:
                    ref = source[key]
                    yield kind, ref["name"], bool(ref.get("optional"))


def _open_rules(policy: Doc) -> Iterator[str]:
    """What in a NetworkPolicy lets anything in or out: a rule without peers (every address),
    or a peer selecting every pod of every namespace, or 0.0.0.0/0."""
    spec = policy.get("spec") or {}
    annotations = (policy.get("metadata") or {}).get("annotations") or {}
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for rule in spec.get(direction) or ():
            peers = rule.get(key)
            if not peers:
                if direction == "egress" and annotations.get(OPEN_EGRESS):
                    continue
                yield f"an {direction} rule open to every address"
                continue
            for peer in peers:
                if peer == {} or peer.get("namespaceSelector") == {}:
                    yield f"an {direction} rule open to every pod of every namespace"
                if (peer.get("ipBlock") or {}).get("cidr") in ("0.0.0.0/0", "::/0"):
                    if direction == "egress" and annotations.get(OPEN_EGRESS):
                        continue
                    yield f"an {direction} rule open to every address"


def problems(docs: list[Doc]) -> list[str]:
    if not docs:
        return ["the render is empty"]
    found: list[str] = []
    for policy in docs:
        if policy.get("kind") == "NetworkPolicy":
            found += [f"{_name(policy)}: {p}" for p in _open_rules(policy)]
    namespaces = {doc["metadata"]["name"]: doc for doc in docs if doc.get("kind") == "Namespace"}
    by_kind: dict[str, list[Doc]] = {}
    for doc in docs:
        by_kind.setdefault(str(doc.get("kind")), []).append(doc)
    have: set[tuple[str | None, str, str]] = set()
    for doc in docs:
        kind = str(doc.get("kind"))
        if kind in ("Secret", "ConfigMap", "ServiceAccount", "PersistentVolumeClaim"):
            have.add((_namespace(doc), kind, doc["metadata"]["name"]))
        if kind == "ExternalSecret":
            target = (doc.get("spec") or {}).get("target") or {}
            have.add((_namespace(doc), "Secret", target.get("name") or doc["metadata"]["name"]))
    used_namespaces = {_namespace(doc) for doc in docs if doc.get("kind") in WORKLOAD_KINDS}
    for namespace in sorted(filter(None, used_namespaces | set(namespaces))):
        namespace_doc = namespaces.get(namespace)
        if namespace_doc is None:
            found.append(f"{namespace}: the namespace is not in the render")
            continue
        labels = (namespace_doc.get("metadata") or {}).get("labels") or {}
        if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            found.append(f"{namespace}: does not enforce the restricted Pod Security Standard")
        if not any(
            _is_default_deny(policy) and _namespace(policy) == namespace
            for policy in by_kind.get("NetworkPolicy", ())
        ):
            found.append(f"{namespace}: no default-deny NetworkPolicy")
    for doc in docs:
        if doc.get("kind") not in WORKLOAD_KINDS:
            continue
        where, namespace, name = _name(doc), _namespace(doc), doc["metadata"]["name"]
        pod, labels = _pod(doc), _pod_labels(doc)

        def same(other: Doc, ns: str | None = namespace) -> bool:
            return _namespace(other) == ns

        if not any(
            same(pdb) and _selects((pdb.get("spec") or {}).get("selector"), labels)
            for pdb in by_kind.get("PodDisruptionBudget", ())
        ):
            found.append(f"{where}: no PodDisruptionBudget")
        singleton = ((doc.get("metadata") or {}).get("annotations") or {}).get(SINGLETON)
        scaled = any(
            same(hpa)
            and ((hpa.get("spec") or {}).get("scaleTargetRef") or {}).get("name") == name
            and ((hpa.get("spec") or {}).get("scaleTargetRef") or {}).get("kind") == doc["kind"]
            for hpa in by_kind.get("HorizontalPodAutoscaler", ())
        )
        if not scaled and not singleton:
            found.append(f"{where}: no HorizontalPodAutoscaler (nor a singleton reason)")
        if scaled and "replicas" in (doc.get("spec") or {}):
            found.append(f"{where}: sets replicas, which every apply would reset under its HPA")
        # Its own: selecting this workload by its name, both directions (a policy for the whole
        # namespace, or one that also opens a flow for it, does not say what it needs).
        own_name = labels.get(NAME_LABEL)
        if not own_name or not any(
            same(policy)
            and ((policy.get("spec") or {}).get("podSelector") or {})
            .get("matchLabels", {})
            .get(NAME_LABEL)
            == own_name
            and set((policy.get("spec") or {}).get("policyTypes") or ()) == {"Ingress", "Egress"}
            for policy in by_kind.get("NetworkPolicy", ())
        ):
            found.append(f"{where}: no NetworkPolicy of its own")
        if pod.get("automountServiceAccountToken") is not False:
            found.append(f"{where}: mounts a service-account token")
        account = pod.get("serviceAccountName")
        if not account or (namespace, "ServiceAccount", account) not in have:
            found.append(f"{where}: its ServiceAccount {account!r} is not in the render")
        if not pod.get("containers"):
            found.append(f"{where}: no containers")
        for container in pod.get("containers") or ():
            found += [f"{where}: {p}" for p in _container_problems(container, pod, serves=True)]
        for container in pod.get("initContainers") or ():
            found += [f"{where}: {p}" for p in _container_problems(container, pod, serves=False)]
        found += [f"{where}: {p}" for p in _grace_problems(pod)]
        for kind, ref, optional in _references(pod):
            if not optional and (kind, ref) not in BUILT_IN and (namespace, kind, ref) not in have:
                found.append(f"{where}: reads the {kind} {ref!r}, which is not in the render")
    return found


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: rules.py RENDERED.yaml...", file=sys.stderr)
        return 2
    # Each file on its own: an overlay that renders nothing is broken, whatever the others hold.
    found = [f"{arg}: {p}" for arg in argv for p in problems(load([Path(arg)]))]
    for problem in found:
        print(problem, file=sys.stderr)
    print(f"{len(found)} rule(s) broken in {', '.join(argv)}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
