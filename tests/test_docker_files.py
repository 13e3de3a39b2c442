"""docker/: the compose file parses and runs the five services with healthchecks and named volumes."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.conftest import REPO_ROOT

COMPOSE = REPO_ROOT / "docker" / "compose.yml"


def test_compose_file_declares_the_stack() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "media"}
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert (REPO_ROOT / "docker" / "Dockerfile").is_file()


def compose_client() -> list[str] | None:
    """`docker-compose` (v1) or the `docker compose` plugin, whichever this machine really has."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.mark.skipif(compose_client() is None, reason="no compose client (docker-compose or the docker compose plugin)")
def test_compose_config_parses_with_the_compose_client() -> None:
    client = compose_client()
    assert client is not None
    completed = subprocess.run([*client, "-f", str(COMPOSE), "config"], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
