"""The deployment files (deploy/) hang together: what one file names, another defines.

Containers are not built or run here (no Docker in CI); this is the check that catches a
renamed service, image, secret, config map or port: every YAML file parses, every image
is one a Dockerfile builds or a pinned public image, every service a URL names exists and
listens on that port, every secret and config map referenced is defined, every Service
selects pods and targets a port they declare, and HAProxy accepts its configuration.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BUILT_IMAGES = {"helpdesk-web": "deploy/docker/web.Dockerfile", "helpdesk-bot": "deploy/docker/bot.Dockerfile"}
PUBLIC_IMAGES = {"haproxy:2.6", "postgres:16", "redis:7"}
URL_RE = re.compile(r"^[a-z+]+://(?:[^@/]+@)?([a-z][a-z0-9-]*):(\d+)")


def k8s_documents() -> list[dict]:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((DEPLOY / resource).read_text()) if d]
    for generated in kustomization["configMapGenerator"]:
        for file in generated["files"]:
            assert (DEPLOY / file).is_file(), f"config map {generated['name']}: {file} is missing"
        documents.append({"kind": "ConfigMap", "metadata": {"name": generated["name"]}})
    return documents


def test_every_yaml_file_parses_and_kustomization_lists_every_manifest():
    files = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    assert files
    for file in files:
        assert list(yaml.safe_load_all(file.read_text())), f"{file} is empty"
    listed = {DEPLOY / r for r in yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())["resources"]}
    assert listed == set((DEPLOY / "k8s").glob("*.yaml"))


def test_dockerfiles_copy_what_exists():
    for dockerfile in BUILT_IMAGES.values():
        text = (REPO / dockerfile).read_text()
        for line in text.splitlines():
            if line.startswith("COPY "):
                for source in line.split()[1:-1]:
                    assert (REPO / source).exists(), f"{dockerfile}: COPY {source} does not exist"
        assert "EXPOSE" in text


def test_compose_services_images_ports_and_urls():
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    services = compose["services"]
    exposed = {name: {int(p) for p in spec.get("expose", [])} for name, spec in services.items()}
    for name, spec in services.items():
        image = spec["image"]
        assert image in BUILT_IMAGES or image in PUBLIC_IMAGES, f"{name}: unknown image {image}"
        if image in BUILT_IMAGES:
            assert spec["build"]["dockerfile"] == BUILT_IMAGES[image]
            assert (DEPLOY / spec["build"]["context"] / spec["build"]["dockerfile"]).is_file()
        for dependency in spec.get("depends_on", []):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            assert source in compose.get("volumes", {}) or (DEPLOY / source).exists(), f"{name}: {source}"
        for key, value in (spec.get("environment") or {}).items():
            match = URL_RE.match(re.sub(r"\$\{[^}]*\}", "x", str(value)))
            if match and match.group(1) in services:
                host, port = match.group(1), int(match.group(2))
                assert port in exposed[host], f"{name}.{key}: {host} does not listen on {port}"
            elif match:
                pytest.fail(f"{name}.{key} names {match.group(1)}, which is no service")
    assert list(services["balancer"]["ports"]) == ["8080:8080"]  # the only published port


def test_kubernetes_references_resolve():
    documents = k8s_documents()
    by_kind: dict[str, dict[str, dict]] = {}
    for document in documents:
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    secrets = by_kind["Secret"]
    config_maps = by_kind["ConfigMap"]
    workloads = {**by_kind.get("Deployment", {}), **by_kind.get("StatefulSet", {})}
    services = by_kind["Service"]
    pod_ports = {}
    for name, workload in workloads.items():
        pod = workload["spec"]["template"]
        assert workload["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items(), name
        ports = set()
        for container in pod["spec"]["containers"]:
            image = container["image"]
            assert image in BUILT_IMAGES or image in PUBLIC_IMAGES, f"{name}: unknown image {image}"
            ports |= {p["containerPort"] for p in container.get("ports", [])}
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]]["stringData"], f"{name}: secret key {ref}"
                match = URL_RE.match(env.get("value") or "")
                if match and "." not in match.group(1):
                    service = services.get(match.group(1))
                    assert service, f"{name}.{env['name']}: no service {match.group(1)}"
                    assert int(match.group(2)) in {p["port"] for p in service["spec"]["ports"]}, env
            for source in container.get("envFrom", []):
                assert source["secretRef"]["name"] in secrets
            for probe in ("readinessProbe", "livenessProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["port"] in ports, f"{name}: {probe} port"
        for volume in pod["spec"].get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, f"{name}: config map {volume}"
        pod_ports[name] = (pod["metadata"]["labels"], ports)
    for name, service in services.items():
        selected = [w for w, (labels, _) in pod_ports.items() if service["spec"]["selector"].items() <= labels.items()]
        assert selected, f"service {name} selects no pods"
        for port in service["spec"]["ports"]:
            assert all(port["targetPort"] in pod_ports[w][1] for w in selected), f"service {name}: {port}"
    # Only "public" leaves the cluster; Rasa's API and the action servers stay internal.
    assert [n for n, s in services.items() if s["spec"].get("type") == "LoadBalancer"] == ["public"]
    # The secret holds every key the web and bot containers take from the environment files.
    secret_keys = set(secrets["helpdesk-secrets"]["stringData"])
    ensure_secrets = (REPO / "scripts" / "ensure-secrets").read_text()
    for key in re.findall(r"\b(HELPDESK_[A-Z_]+_(?:TOKEN|SECRET))\b", ensure_secrets):
        assert key in secret_keys, f"{key} (scripts/ensure-secrets) is missing from helpdesk-secrets"


@pytest.mark.services
def test_haproxy_accepts_the_deployment_config():
    haproxy = Path("/usr/sbin/haproxy")
    assert haproxy.exists(), "scripts/bootstrap haproxy installs Debian's haproxy"
    # Names resolve only inside the cluster; init-addr none lets the check pass without them.
    result = subprocess.run([str(haproxy), "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    config = (DEPLOY / "haproxy.cfg").read_text()
    services = set(yaml.safe_load((DEPLOY / "compose.yml").read_text())["services"])
    for host, _port in re.findall(r"server-template \w+ \d+ ([a-z-]+):(\d+)", config):
        assert host in services, f"haproxy.cfg names {host}, no compose service"
