"""The Kubernetes manifests (deploy/k8s), rendered as a cluster would get them and checked offline.

Each overlay is rendered with kustomize (scripts/kustomize.sh: kubectl's own, or one built from
the Go module proxy) and every resource of a built-in kind is validated, strictly (no unknown
field), against the Kubernetes 1.32 schemas `kubernetes-validate` ships. Strimzi's and KEDA's
kinds have no schema there: each is checked against a schema of the fields used here, written
below from their CRDs' required fields. Then what the manifests must say about the portal: the
roles' probes on the runtime's health endpoints, the topics and their partition counts as the
registry has them, workers never scaled past their topics' partitions, settings that exist."""

from __future__ import annotations

import base64
import importlib
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from notify.settings import NotifySettings
from portal_contracts.registry import SERVICES, all_topics
from portal_runtime.service import ServiceRuntime
from portal_runtime.settings import DatabaseSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES = "1.32"
OVERLAYS = ("dev", "prod")
ROLES = ("api", "worker", "relay")

STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
METADATA = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1}, "namespace": {"type": "string"}, "labels": STRING_MAP},
}


def custom(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": METADATA,
            "spec": spec,
        },
    }


# The fields these manifests use, with the types and required fields of the CRDs (Strimzi 0.4x
# kafka.strimzi.io/v1beta2, KEDA 2.x keda.sh/v1alpha1); unknown fields are refused.
CUSTOM_SCHEMAS = {
    "KafkaTopic": custom(
        "kafka.strimzi.io/v1beta2",
        "KafkaTopic",
        {
            "type": "object",
            "required": ["partitions", "replicas"],
            "additionalProperties": False,
            "properties": {
                "topicName": {"type": "string"},
                "partitions": {"type": "integer", "minimum": 1},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
                "config": STRING_MAP,
            },
        },
    ),
    "KafkaUser": custom(
        "kafka.strimzi.io/v1beta2",
        "KafkaUser",
        {
            "type": "object",
            "required": ["authentication"],
            "additionalProperties": False,
            "properties": {
                "authentication": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"enum": ["tls", "tls-external", "scram-sha-512"]}},
                },
                "authorization": {
                    "type": "object",
                    "required": ["type", "acls"],
                    "properties": {
                        "type": {"const": "simple"},
                        "acls": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["resource", "operations"],
                                "additionalProperties": False,
                                "properties": {
                                    "resource": {
                                        "type": "object",
                                        "required": ["type"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "type": {"enum": ["topic", "group", "cluster", "transactionalId"]},
                                            "name": {"type": "string"},
                                            "patternType": {"enum": ["literal", "prefix"]},
                                        },
                                    },
                                    "operations": {
                                        "type": "array",
                                        "items": {
                                            "enum": [
                                                "Read",
                                                "Write",
                                                "Create",
                                                "Delete",
                                                "Alter",
                                                "Describe",
                                                "ClusterAction",
                                                "AlterConfigs",
                                                "DescribeConfigs",
                                                "IdempotentWrite",
                                                "All",
                                            ]
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    ),
    "ScaledObject": custom(
        "keda.sh/v1alpha1",
        "ScaledObject",
        {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
                },
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "pollingInterval": {"type": "integer"},
                "cooldownPeriod": {"type": "integer"},
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "metadata"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"type": "string"},
                            "metadata": STRING_MAP,
                            "authenticationRef": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        },
    ),
    "TriggerAuthentication": custom(
        "keda.sh/v1alpha1",
        "TriggerAuthentication",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "secretTargetRef": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["parameter", "name", "key"],
                        "additionalProperties": False,
                        "properties": {p: {"type": "string"} for p in ("parameter", "name", "key")},
                    },
                }
            },
        },
    ),
}


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    done = subprocess.run(
        [str(ROOT / "scripts" / "kustomize.sh"), str(K8S / "overlays" / overlay)], capture_output=True, text=True
    )
    assert done.returncode == 0, f"rendering overlays/{overlay} failed:\n{done.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in rendered(overlay) if r["kind"] == kind}


def consumed_topics(service: str) -> list[str]:
    """The topics the service's worker subscribes to, from its own event handlers."""
    bootstrap = importlib.import_module(f"{service}.bootstrap")
    settings = ServiceSettings(
        service_name=service, database_url="postgresql+asyncpg://unused@localhost/x", jwt_secret="x"
    )
    return ServiceRuntime(bootstrap.definition(), settings).consumer.topics()


def env_of(overlay: str, deployment: dict[str, Any]) -> dict[str, str]:
    """What the container's environment gets from its ConfigMaps."""
    maps = of_kind(overlay, "ConfigMap")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(maps[source["configMapRef"]["name"]]["data"])
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_validates_against_its_schema(overlay: str) -> None:
    resources = rendered(overlay)
    assert len(resources) > 60, [r["kind"] for r in resources]
    for resource in resources:
        where = f"overlays/{overlay}: {resource['kind']} {resource['metadata']['name']}"
        if resource["kind"] in CUSTOM_SCHEMAS:
            try:
                jsonschema.validate(resource, CUSTOM_SCHEMAS[resource["kind"]])
            except jsonschema.ValidationError as exc:
                raise AssertionError(f"{where}: {exc.message} at {list(exc.absolute_path)}") from None
            continue
        try:
            kubernetes_validate.validate(resource, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise AssertionError(f"{where}: {exc.message} at {list(exc.path)}") from None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_its_roles_with_probes_on_the_runtimes_health_endpoints(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    assert set(deployments) == {f"{s}-{r}" for s in SERVICES for r in ROLES}
    for service in SERVICES:
        for role in ROLES:
            deployment = deployments[f"{service}-{role}"]
            pod = deployment["spec"]["template"]
            [container] = pod["spec"]["containers"]
            env = env_of(overlay, deployment)
            assert container["args"] == [role] and env["PORTAL_SERVICE"] == service, (container["args"], env)
            assert env["LOG_FORMAT"] == "json" and env["SECRETS_DIR"] == "/var/run/secrets/portal"
            [port] = container["ports"]
            assert str(port["containerPort"]) == env["HTTP_PORT"] and env["HTTP_HOST"] == "0.0.0.0"
            assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
            assert container["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
            assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
            assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
            assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert pod["metadata"]["labels"].items() >= deployment["spec"]["selector"]["matchLabels"].items()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budgets_autoscalers_and_migrations_name_what_exists(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    budgets = of_kind(overlay, "PodDisruptionBudget")
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        [budget] = [b for b in budgets.values() if labels.items() >= b["spec"]["selector"]["matchLabels"].items()]
        assert budget["spec"].get("maxUnavailable") == 1, (name, budget["spec"])
    autoscalers = of_kind(overlay, "HorizontalPodAutoscaler")
    assert {a["spec"]["scaleTargetRef"]["name"] for a in autoscalers.values()} == {f"{s}-api" for s in SERVICES}
    services = of_kind(overlay, "Service")
    for service in SERVICES:
        selector = services[f"{service}-api"]["spec"]["selector"]
        assert deployments[f"{service}-api"]["spec"]["template"]["metadata"]["labels"].items() >= selector.items()
    jobs = of_kind(overlay, "Job")
    assert {name: job["spec"]["template"]["spec"]["containers"][0]["args"] for name, job in jobs.items()} == {
        f"{s}-migrate": ["migrate"] for s in SERVICES
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_topics_are_the_registrys_with_their_partition_counts(overlay: str) -> None:
    topics = of_kind(overlay, "KafkaTopic")
    assert {t["spec"]["topicName"]: t["spec"]["partitions"] for t in topics.values()} == all_topics()
    replication = {(t["spec"]["replicas"], t["spec"]["config"]["min.insync.replicas"]) for t in topics.values()}
    assert replication == ({(3, "2")} if overlay == "prod" else {(1, "1")}), replication


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_never_outnumber_their_topics_partitions(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in of_kind(overlay, "ScaledObject").values()}
    for service in SERVICES:
        topics = consumed_topics(service)
        worker = deployments[f"{service}-worker"]
        if not topics:
            assert f"{service}-worker" not in scaled  # nothing to lag behind
            continue
        partitions = min(all_topics()[t] for t in topics)
        if overlay == "prod":
            scaler = scaled[f"{service}-worker"]
            [trigger] = scaler["spec"]["triggers"]
            assert trigger["type"] == "kafka" and trigger["metadata"]["consumerGroup"] == service
            assert scaler["spec"]["maxReplicaCount"] <= partitions and "replicas" not in worker["spec"]
        else:
            assert worker["spec"]["replicas"] <= partitions


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_configuration_names_only_settings_that_exist(overlay: str) -> None:
    settings = (*ServiceSettings.model_fields, *NotifySettings.model_fields, *DatabaseSettings.model_fields)
    known = {name.upper() for name in settings}
    known |= {"SECRETS_DIR", "PORTAL_SERVICE"}  # the settings module and the image's entrypoint read these
    for name, config in of_kind(overlay, "ConfigMap").items():
        assert set(config["data"]) <= known, (name, set(config["data"]) - known)
    secret_keys = {name for name in ServiceSettings.model_fields} | {"smtp_password"}
    for name, secret in of_kind(overlay, "Secret").items():
        assert set(secret["data"]) <= secret_keys, (name, set(secret["data"]) - secret_keys)


def test_prod_deploys_no_secret_from_the_repository_and_dev_only_placeholders() -> None:
    assert of_kind("prod", "Secret") == {}
    for name, secret in of_kind("dev", "Secret").items():
        for key, value in secret["data"].items():
            assert "dev-only" in base64.b64decode(value).decode(), (name, key)
