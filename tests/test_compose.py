"""The production files hang together: compose services, healthchecks, volumes, the MONGO_URI
wiring, every variable documented in .env.example, and the Dockerfile's inputs present.

There is no Docker engine here, so these read the files as data.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
REPLICA_SET = yaml.safe_load((ROOT / "docker-compose.replicaset.yml").read_text(encoding="utf-8"))
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
# Set by our own code for its children, or by the test suite: not for operators.
INTERNAL = {"LISTENING_PARENT_RUN", "LISTENING_RUN_ID", "LISTENING_PROGRESS",
            "LISTENING_PROGRESS_INTERVAL", "LISTENING_SHARED", "LISTENING_MONGO_URI",
            "TEST_MONGO_URI", "PYTHONPATH"}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, for reading values as compose would."""
    def one(match: re.Match) -> str:
        name, op, arg = match[1], match[2], match[3]
        if env.get(name):
            return env[name]
        if op == ":?":
            raise ValueError(f"{name}: {arg}")
        return arg or ""
    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", one, value)


def merged(base: dict, override: dict) -> dict:
    """``docker compose -f base -f override``, for what these tests read: mappings merge, the rest is replaced."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def documented() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE, flags=re.M))


def test_three_services_that_restart_and_report_health():
    assert {"mongo", "app", "scheduler"} <= set(SERVICES)
    for name in ("mongo", "app", "scheduler"):
        service = SERVICES[name]
        assert service["restart"] in ("unless-stopped", "always"), name
        check = service["healthcheck"]
        assert check["test"][0] == "CMD" and check["interval"] and check["retries"] >= 3, name
    scheduler = SERVICES["scheduler"]
    check = scheduler["healthcheck"]["test"]
    assert "--healthcheck" in check
    beat = check[check.index("--heartbeat") + 1]  # its own file, in the container
    assert scheduler["command"][scheduler["command"].index("--heartbeat") + 1] == beat
    assert not any(beat.startswith(v.split(":")[1]) for v in scheduler["volumes"])
    assert "/_stcore/health" in " ".join(SERVICES["app"]["healthcheck"]["test"])


@pytest.mark.parametrize("name", ["app", "scheduler"])
def test_app_and_scheduler_reach_the_mongo_service(name):
    service = SERVICES[name]
    env = {"MONGO_USER": "ops", "MONGO_PASSWORD": "s3cret"}
    uri = urlsplit(interpolate(service["environment"]["MONGO_URI"], env))
    assert (uri.scheme, uri.hostname, uri.port) == ("mongodb", "mongo", 27017)
    mongo_env = {k: interpolate(v, env) for k, v in SERVICES["mongo"]["environment"].items()}
    assert (uri.username, uri.password) == (mongo_env["MONGO_INITDB_ROOT_USERNAME"],
                                            mongo_env["MONGO_INITDB_ROOT_PASSWORD"])
    with pytest.raises(ValueError, match="MONGO_PASSWORD"):  # compose refuses to start without it
        interpolate(service["environment"]["MONGO_URI"], {})
    assert service["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert service["environment"]["LISTENING_CONFIG"] == "/config/listening.yaml"
    assert any(v.endswith(":/config/listening.yaml:ro") for v in service["volumes"])


def test_data_lives_on_named_volumes():
    assert "mongo-data:/data/db" in SERVICES["mongo"]["volumes"]
    assert {"mongo-data", "listening-data"} <= set(COMPOSE["volumes"])
    for name in ("app", "scheduler"):
        assert "listening-data:/var/lib/listening" in SERVICES[name]["volumes"]
    assert "ports" not in SERVICES["mongo"]  # the database is not published


def test_the_scheduler_stops_gracefully_and_the_dashboard_stays_local():
    from listening.config import Schedule

    scheduler = SERVICES["scheduler"]
    assert scheduler["command"][:2] == ["listening", "schedule"] and scheduler["init"] is True
    grace = int(scheduler["stop_grace_period"].rstrip("s"))
    assert grace > Schedule().stop_grace_seconds + 10
    assert all(port.startswith("127.0.0.1:") for port in SERVICES["app"]["ports"])


def test_every_variable_is_documented_in_env_example():
    used = {name for file in ("docker-compose.yml", "docker-compose.replicaset.yml")
            for name in re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / file).read_text())}
    code = "\n".join(p.read_text(encoding="utf-8") for d in ("listening", "crawlers")
                     for p in (ROOT / d).rglob("*.py"))
    read = set(re.findall(r"environ(?:\.get)?[\[(]\s*[\"']([A-Z][A-Z0-9_]+)", code))
    read |= set(re.findall(r"getenv\(\s*[\"']([A-Z][A-Z0-9_]+)", code))
    read |= set(re.findall(r"_env: str = Field\(default=\"([A-Z][A-Z0-9_]+)\"", code))
    read |= set(re.findall(r"alias=\"([A-Z][A-Z0-9_]+)\"", code))  # listening.settings
    missing = (used | read) - INTERNAL - documented()
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_the_dockerfile_copies_files_that_exist():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    assert "USER listening" in dockerfile


def test_the_deployment_guide_covers_compose_backups_and_upgrades():
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for needle in ("docker compose up", "mongodump", "mongorestore", "docker compose pull",
                   ".env.example", "listening status", "healthcheck"):
        assert needle in guide, needle


def test_the_replica_set_override_runs_three_members_of_rs0():
    services = merged(COMPOSE, REPLICA_SET)["services"]
    members = {"mongo1": "mongo", "mongo2": "mongo2", "mongo3": "mongo3"}  # host -> service
    assert services["mongo"]["networks"]["default"]["aliases"] == ["mongo1"]
    for name in members.values():
        service = services[name]
        command = service["command"]
        assert service["image"] == "mongo:7" and service["restart"] == "unless-stopped", name
        assert command[command.index("--replSet") + 1] == "rs0", name
        assert command[command.index("--keyFile") + 1] in service["entrypoint"][2], name  # written at start
        assert "ports" not in service, name
        with pytest.raises(ValueError, match="MONGO_REPLICA_KEY"):  # compose refuses to start without it
            interpolate(service["environment"]["MONGO_REPLICA_KEY"], {})
    data = [next(v for v in services[name]["volumes"] if v.endswith(":/data/db")) for name in members.values()]
    assert data[0] == "mongo-data:/data/db" and len(set(data)) == 3  # the first keeps the single server's data
    assert {v.split(":")[0] for v in data} <= set(merged(COMPOSE, REPLICA_SET)["volumes"])
    # Only the seeded member creates the root user; the others copy it from the set.
    assert "MONGO_INITDB_ROOT_USERNAME" in services["mongo"]["environment"]
    assert not any(k.startswith("MONGO_INITDB") for k in services["mongo2"]["environment"])
    check = services["mongo"]["healthcheck"]
    script = check["test"][-1]
    assert "rs.initiate" in script and "_id: 'rs0'" in script and check["retries"] >= 10
    assert re.findall(r"host: '([\w.-]+):27017'", script) == list(members)


@pytest.mark.parametrize("name, read_preference", [("app", "primaryPreferred"), ("scheduler", None)])
def test_app_and_scheduler_reach_every_member(name, read_preference):
    services = merged(COMPOSE, REPLICA_SET)["services"]
    env = {"MONGO_USER": "ops", "MONGO_PASSWORD": "s3cret"}
    uri = urlsplit(interpolate(services[name]["environment"]["MONGO_URI"], env))
    assert uri.netloc.split("@")[1].split(",") == ["mongo1:27017", "mongo2:27017", "mongo3:27017"]
    assert (uri.username, uri.password) == ("ops", "s3cret")
    options = dict(part.split("=") for part in uri.query.split("&"))
    assert options.pop("readPreference", None) == read_preference
    assert options == {"replicaSet": "rs0", "authSource": "admin", "w": "majority"}
    assert services[name]["depends_on"]["mongo"]["condition"] == "service_healthy"  # the set has a primary
