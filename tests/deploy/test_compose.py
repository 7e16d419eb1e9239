"""docker-compose.yaml, checked without Docker: structure, settings, and agreement with scripts/.

The native scripts (scripts/airflow-up.sh, scripts/airflow-env.sh) are what the integration
suite runs for real; these checks keep the compose file in step with them.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
UP_SCRIPT = REPO / "scripts" / "airflow-up.sh"
ENV_SCRIPT = REPO / "scripts" / "airflow-env.sh"

AIRFLOW_SERVICES = {
    "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
    "airflow-triggerer", "airflow-worker", "flower",
}
# Keys a service may add to the shared environment block, and why.
EXTRA_ENV_ALLOWED = {
    "DUMB_INIT_SETSID",  # worker: warm shutdown through dumb-init
    "_AIRFLOW_WWW_USER_USERNAME", "_AIRFLOW_WWW_USER_PASSWORD", "_PIP_ADDITIONAL_REQUIREMENTS",  # init only
    # init only: secrets given in .env, written to the airflow-secrets volume (tests/security checks them)
    "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_FERNET_KEY", "AIRFLOW_FLOWER_BASIC_AUTH",
}
TWO_WORD_COMMANDS = {"db", "pools", "celery", "jobs", "dags", "users", "connections", "variables", "tasks"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def common(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["x-airflow-common"]


def substitute(value: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}`` / ``${VAR:-default}`` interpolation, braces counted like compose-go.

    compose-go cuts a braced reference at the brace that balances its ``${`` (counting nested
    braces), so a JSON default such as ``${X:-{"a": {"b": 1}}}`` survives whole.
    """
    out: list[str] = []
    i = 0
    while i < len(value):
        if value.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        if value.startswith("${", i):
            depth, j = 0, i + 1
            while j < len(value):
                if value[j] == "{":
                    depth += 1
                elif value[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            assert j < len(value), f"unbalanced ${{...}} in {value!r}"
            body = value[i + 2:j]
            match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?$", body, re.S)
            assert match, f"unsupported interpolation ${{{body}}}"
            name, op, default = match.groups()
            current = env.get(name)
            if (op == ":-" and not current) or (op == "-" and current is None):
                out.append(substitute(default, env))
            else:
                out.append(current or "")
            i = j + 1
            continue
        out.append(value[i])
        i += 1
    return "".join(out)


def airflow_subcommands(words: list[str]) -> set[str]:
    """``airflow <sub> [<sub2>]`` invocations among shell words."""
    found: set[str] = set()
    for k, word in enumerate(words):
        if word == "airflow" and k + 1 < len(words):
            sub = words[k + 1]
            if sub in TWO_WORD_COMMANDS and k + 2 < len(words):
                sub = f"{sub} {words[k + 2]}"
            found.add(sub)
    return found


def script_subcommands(path: Path) -> set[str]:
    """Airflow subcommands a bash script runs (quoted strings such as log messages do not count)."""
    found: set[str] = set()
    for line in path.read_text().replace("\\\n", " ").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:  # a line of a here-document or a multi-line string
            continue
        found |= airflow_subcommands(words)
    return found


def service_subcommands(service: dict[str, Any]) -> set[str]:
    command = service.get("command")
    if command is None:
        return set()
    if isinstance(command, list) and command[:1] == ["-c"]:  # bash -c script (airflow-init)
        found: set[str] = set()
        for line in command[1].replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True) if line.strip() else []
            if words[:1] == ["airflow"]:
                found |= airflow_subcommands(words)
        return found
    words = shlex.split(command) if isinstance(command, str) else list(command)
    return airflow_subcommands(["airflow", *words])


def env_script_settings() -> dict[str, str]:
    """Literal ``export AIRFLOW__X__Y=value`` settings of scripts/airflow-env.sh.

    The executor is chosen in a ``case "$AEP_EXECUTOR"`` block: the branch of the default
    value (``AEP_EXECUTOR:=...``) counts.
    """
    text = ENV_SCRIPT.read_text()
    default_executor = re.search(r"AEP_EXECUTOR:=(\w+)", text)
    settings: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"\s*(?:(\w+)\) )?export (AIRFLOW__[A-Z_]+__[A-Z_]+)=([^\s;]+)\s*(?:;;)?\s*$", line)
        if not match or "$" in match.group(3):
            continue
        branch, key, value = match.groups()
        if branch is not None and (default_executor is None or branch != default_executor.group(1)):
            continue
        settings[key] = value.strip("'\"")
    return settings


# ------------------------------------------------------------------------------------ tests
def test_the_official_airflow_3_services_are_there(services: dict[str, Any]) -> None:
    assert set(services) == AIRFLOW_SERVICES | {"postgres", "redis", "aep-emulator"}
    assert services["flower"].get("profiles") == ["flower"], "flower is optional: behind the `flower` profile"
    assert services["aep-emulator"].get("profiles") == ["emulator"], "the emulator is opt-in: `emulator` profile"
    assert all(not services[name].get("profiles") for name in AIRFLOW_SERVICES - {"flower"})


def test_every_airflow_service_shares_the_one_environment_block(services: dict[str, Any], common: dict[str, Any]) -> None:
    shared = common["environment"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        differing = {k for k in shared if env.get(k) != shared[k]}
        assert not differing, f"{name} overrides shared settings: {sorted(differing)}"
        extra = set(env) - set(shared) - EXTRA_ENV_ALLOWED
        assert not extra, f"{name} has settings outside x-airflow-common: {sorted(extra)}"
        assert services[name]["image"] == common["image"]
    text = COMPOSE_FILE.read_text()
    assert text.count("&airflow-common-env") == 1
    # Every AIRFLOW__ setting is written once, inside the shared block.
    assert len(re.findall(r"^\s+AIRFLOW__\w+:", text, re.M)) == len([k for k in shared if k.startswith("AIRFLOW__")])


def test_executor_broker_and_result_backend_agree_with_redis_and_postgres(services: dict[str, Any], common: dict[str, Any]) -> None:
    env = common["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname == "redis" and (broker.port or 6379) == 6379
    assert 6379 in [int(p) for p in services["redis"].get("expose", [6379])]

    pg = services["postgres"]["environment"]
    for key, scheme in (("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2"), ("AIRFLOW__CELERY__RESULT_BACKEND", "db+postgresql")):
        url = urlsplit(env[key])
        assert url.scheme == scheme, f"{key}: {env[key]}"
        assert url.hostname == "postgres", f"{key} must name the postgres service: {env[key]}"
        assert (url.username, url.password, url.path.lstrip("/")) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"]), key
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080/")
    assert "127.0.0.1:8080:8080" in services["airflow-apiserver"]["ports"]


def test_health_checks_and_depends_on_conditions(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name == "airflow-init":
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in AIRFLOW_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        if name != "airflow-init":
            assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_commands_match_the_native_scripts(services: dict[str, Any]) -> None:
    native = script_subcommands(UP_SCRIPT)
    assert {"api-server", "scheduler", "dag-processor", "triggerer", "celery worker", "db migrate", "pools set"} <= native, native
    in_compose: set[str] = set()
    for name in AIRFLOW_SERVICES:
        if services[name].get("profiles"):
            continue
        in_compose |= service_subcommands(services[name])
    assert in_compose == native, f"only native: {sorted(native - in_compose)}; only compose: {sorted(in_compose - native)}"


def test_pool_matches_the_native_scripts(services: dict[str, Any]) -> None:
    script = services["airflow-init"]["command"][1]
    match = re.search(r"^airflow pools set (\S+) (\d+)", script, re.M)
    assert match, script
    native_slots = re.search(r'AEP_POOL_SLOTS:=(\d+)', ENV_SCRIPT.read_text())
    assert native_slots and match.groups() == ("aep_api", native_slots.group(1))


def test_settings_written_in_both_places_agree(common: dict[str, Any]) -> None:
    env = common["environment"]
    native = env_script_settings()
    both = set(native) & set(env)
    assert {"AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__PARALLELISM", "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL",
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS", "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME"} <= both
    differing = {k: (native[k], env[k]) for k in both if native[k].lower() != str(env[k]).lower()}
    assert not differing, f"native vs compose: {differing}"
    native_concurrency = re.search(r"AEP_WORKER_CONCURRENCY:=(\d+)", ENV_SCRIPT.read_text())
    assert native_concurrency and env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == native_concurrency.group(1)


def test_mounted_folders_exist_in_the_repo(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        binds = [v for v in services[name]["volumes"] if v.startswith("${AIRFLOW_PROJ_DIR")]
        targets = {}
        for bind in binds:
            source, target = substitute(bind, {}).split(":")[:2]
            folder = REPO / source.removeprefix("./")
            assert folder.is_dir(), f"{name} mounts {source}, which is not a folder of the repo"
            targets[folder.name] = target
        assert targets == {f: f"/opt/airflow/{f}" for f in ("dags", "include", "plugins")}, name


def test_aep_connection_defaults_to_the_emulator_and_is_set_by_one_variable(services: dict[str, Any], common: dict[str, Any]) -> None:
    raw = common["environment"]["AIRFLOW_CONN_AEP_DEFAULT"]
    default = json.loads(substitute(raw, {}))
    assert default["conn_type"] == "adobe_experience_platform"
    emulator = services["aep-emulator"]
    port = emulator["command"][emulator["command"].index("--port") + 1]
    assert default["host"] == default["extra"]["ims_host"] == f"http://aep-emulator:{port}"
    assert (default["login"], default["password"], default["extra"]["org_id"], default["extra"]["sandbox"]) == (
        "demo-client", "demo-secret", "DEMO0000000000000000000@AdobeOrg", "prod",
    )
    # The emulator service is not on loopback: plain http needs the explicit flag (the hook refuses it otherwise),
    # and the client secret goes to it only because the shared configuration allows it as an IMS host.
    assert default["extra"]["allow_insecure_http"] is True
    from airflow.sdk import Connection

    from aep_provider.hooks.errors import AepConfigError
    from aep_provider.hooks.settings import AepSettings

    conn = Connection(conn_id="aep_default", conn_type=default["conn_type"], login=default["login"],
                      password=default["password"], host=default["host"], extra=json.dumps(default["extra"]))
    with pytest.MonkeyPatch.context() as env:
        env.delenv("AIRFLOW__AEP__ALLOWED_IMS_HOSTS", raising=False)
        with pytest.raises(AepConfigError, match="allowed_ims_hosts"):
            AepSettings.from_connection(conn)
        allowed = common["environment"]["AIRFLOW__AEP__ALLOWED_IMS_HOSTS"]
        env.setenv("AIRFLOW__AEP__ALLOWED_IMS_HOSTS", substitute(allowed, {}))
        assert AepSettings.from_connection(conn).ims_host == default["extra"]["ims_host"]
        # Pointed at a real sandbox, the operator empties it: the emulator's name is no longer allowed.
        env.setenv("AIRFLOW__AEP__ALLOWED_IMS_HOSTS", substitute(allowed, {"AEP_ALLOWED_IMS_HOSTS": ""}))
        with pytest.raises(AepConfigError, match="allowed_ims_hosts"):
            AepSettings.from_connection(conn)
    real = json.dumps({"conn_type": "adobe_experience_platform", "login": "id", "password": "secret",
                       "host": "https://platform.adobe.io", "extra": {"org_id": "X@AdobeOrg", "sandbox": "dev"}})
    assert substitute(raw, {"AIRFLOW_CONN_AEP_DEFAULT": real}) == real
    hubspot = json.loads(substitute(common["environment"]["AIRFLOW_CONN_HUBSPOT_DEFAULT"], {}))
    assert hubspot["extra"]["access_token"]
    # The specs are read from the mounted include/ folder.
    assert common["environment"]["AEP_SPECS_DIR"] == "/opt/airflow/include/onboarding"
    assert (REPO / "include" / "onboarding").is_dir()


def test_emulator_service_runs_from_the_same_image(services: dict[str, Any], common: dict[str, Any]) -> None:
    emulator = services["aep-emulator"]
    assert emulator["image"] == common["image"] and emulator["build"] == common["build"]
    assert emulator["command"][:2] == ["aep-emulator", "serve"]
    assert emulator["command"][emulator["command"].index("--host") + 1] == "0.0.0.0"
    assert f"127.0.0.1:{emulator['command'][emulator['command'].index('--port') + 1]}:8765" in emulator["ports"]


def test_dockerfile_builds_on_airflow_3_and_installs_the_project() -> None:
    text = DOCKERFILE.read_text()
    base = re.search(r"^ARG AIRFLOW_IMAGE=(\S+)", text, re.M)
    assert base and base.group(1) == "apache/airflow:3.3.2"
    assert re.search(r"^FROM \$\{AIRFLOW_IMAGE\}", text, re.M)
    assert re.search(r"pip install .*/opt/aep", text)
    for needed in ("pyproject.toml", "README.md", "plugins", "include"):
        assert re.search(rf"^COPY\b.*\b{re.escape(needed)}\b", text, re.M), f"the image build does not copy {needed}"
    ignored = (REPO / ".dockerignore").read_text().split()
    for kept in ("plugins", "include", "dags", "pyproject.toml", "README.md"):
        assert kept not in ignored, f".dockerignore drops {kept}, which the image needs"


def test_substitute_follows_compose_rules() -> None:
    assert substitute("${A:-x}", {}) == "x"
    assert substitute("${A:-x}", {"A": ""}) == "x"
    assert substitute("${A-x}", {"A": ""}) == ""
    assert substitute("${A:-{\"k\": {\"v\": 1}}}", {}) == '{"k": {"v": 1}}'
    assert substitute("$${HOSTNAME}", {}) == "${HOSTNAME}"


def test_both_deployments_generate_the_same_secrets_and_neither_has_a_default_password(
    services: dict[str, Any], common: dict[str, Any]
) -> None:
    """The JWT secret, API secret key and Fernet key are generated by both (tests/security checks their values)."""
    from_files = {k.removesuffix("_CMD") for k in common["environment"] if k.endswith("_CMD")}
    generator = re.search(r'secrets\.env" <<\'EOF\'\n(.*?)\nEOF', UP_SCRIPT.read_text(), re.S)
    assert generator, "airflow-up.sh no longer generates secrets.env"
    native = set(re.findall(r"export (AIRFLOW__\w+)=", generator.group(1)))
    assert from_files - {"AIRFLOW__CELERY__FLOWER_BASIC_AUTH"} == native, (from_files, native)
    assert substitute(services["airflow-init"]["environment"]["_AIRFLOW_WWW_USER_PASSWORD"], {}) == ""
    assert "put_secret admin_password" in services["airflow-init"]["command"][1]
    assert not re.search(r"AEP_AIRFLOW_PASSWORD:=[^}]", ENV_SCRIPT.read_text())
    assert re.search(r"token_urlsafe\(\d+\).*>\"\$AEP_AIRFLOW_HOME/admin_password\"", UP_SCRIPT.read_text())
