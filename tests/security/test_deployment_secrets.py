"""The deployment has no known secret: a token signed with any string of the repository is refused.

Both deployments are checked without Docker: docker-compose.yaml (its shared environment, interpolated
as compose does with no .env, and the secret generation of its ``airflow-init`` command, run for real
in a temporary folder) and the native scripts (the secrets ``scripts/airflow-up.sh`` generates).
The JWT secret each configuration ends up with is read back through Airflow's own configuration
(``*_CMD`` settings included) and Airflow's own ``JWTValidator`` must refuse a token signed with every
string literal found in the repository's configuration files and docs. A positive control (a token
signed with the configured secret is accepted) shows the check can fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yaml"
UP_SCRIPT = REPO / "scripts" / "airflow-up.sh"
ENV_SCRIPT = REPO / "scripts" / "airflow-env.sh"
SECRETS_IN_CONTAINER = "/opt/airflow/secrets"
SECRET_SETTINGS = (
    "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__CELERY__FLOWER_BASIC_AUTH",
)
# Defaults the repository once shipped (a leaked default stays known forever).
FORMER_DEFAULTS = ("aep-local-jwt-secret-change-me", "aep-local-api-secret-change-me", "admin", "airflow", "")

sys.path.insert(0, str(REPO / "tests" / "deploy"))
from test_compose import substitute  # noqa: E402


def config_literals() -> set[str]:
    """Every word and quoted string of the repo's configuration files and docs: the secrets one could guess."""
    files = [COMPOSE_FILE, REPO / "Dockerfile", REPO / "Makefile", REPO / "pyproject.toml", REPO / "README.md",
             REPO / "SECURITY.md", REPO / ".dockerignore", REPO / ".gitignore", *sorted((REPO / "scripts").glob("*.sh")),
             *sorted((REPO / "docs").glob("*.md")), *sorted(REPO.glob(".env*"))]
    found: set[str] = set(FORMER_DEFAULTS)
    for file in files:
        if not file.is_file():
            continue
        text = file.read_text()
        found.update(re.findall(r"[^\s'\"`=:,;{}()\[\]<>|]+", text))
        found.update(re.findall(r"'([^'\n]*)'", text))
        found.update(re.findall(r'"([^"\n]*)"', text))
        found.update(re.findall(r":-([^}\s]*)\}", text))  # ${VAR:-default}
    for value in _yaml_scalars(yaml.safe_load(COMPOSE_FILE.read_text())):
        found.add(value)
        found.add(substitute(value, {}))
    return found


def _yaml_scalars(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (str(k), *_yaml_scalars(v))]
    if isinstance(node, list):
        return [s for item in node for s in _yaml_scalars(item)]
    return [str(node)] if node is not None else []


def compose_environment() -> dict[str, str]:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    return {key: substitute(str(value), {}) for key, value in compose["x-airflow-common"]["environment"].items()}


def run_compose_secret_generation(secrets_dir: Path, given: dict[str, str] | None = None) -> None:
    """The ``# >>> secrets`` block of airflow-init's command, run by bash with the secrets folder moved."""
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    script = compose["services"]["airflow-init"]["command"][1]
    block = re.search(r"# >>> secrets.*?\n(.*?)# <<< secrets", script, re.S)
    assert block, "airflow-init has no `# >>> secrets ... # <<< secrets` block"
    env = {"PATH": os.environ["PATH"], "AEP_SECRETS_DIR": str(secrets_dir), **(given or {})}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # python3 with cryptography
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", substitute(block.group(1), {})], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def refused_tokens(config_env: dict[str, str], candidates: set[str]) -> dict[str, Any]:
    """In a clean process configured by ``config_env``: sign a token with each candidate, verify it as Airflow would."""
    probe = r"""
import json, sys
import jwt
from airflow.api_fastapi.auth.tokens import JWTGenerator, JWTValidator, get_sig_validation_args
from airflow.configuration import conf
candidates = json.load(sys.stdin)
args = get_sig_validation_args(make_secret_key_if_needed=False)
validator = JWTValidator(audience="aep-security-check", **args)
def accepted(secret):
    token = JWTGenerator(secret_key=secret, audience="aep-security-check", valid_for=300).generate({"sub": "admin"})
    try:
        validator.validated_claims(token)
        return True
    except jwt.InvalidTokenError:
        return False
configured = conf.get("api_auth", "jwt_secret")
print(json.dumps({"configured_length": len(configured), "control_accepted": accepted(configured),
                  "accepted": sorted(c for c in candidates if c and accepted(c))}))
"""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **config_env}
    result = subprocess.run([sys.executable, "-c", probe], input=json.dumps(sorted(candidates)), env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_compose_file_sets_no_secret_value() -> None:
    """No secret (JWT, API key, Fernet key, Flower auth, admin password) has a value or default in the compose file."""
    env = compose_environment()
    for key in SECRET_SETTINGS:
        assert not env.get(key), f"{key} has a value in docker-compose.yaml: {env[key]!r}"
        assert env.get(f"{key}_CMD", "").startswith(f"cat {SECRETS_IN_CONTAINER}/"), f"{key}_CMD must read the generated file"
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    init_env = compose["services"]["airflow-init"]["environment"]
    for key in ("_AIRFLOW_WWW_USER_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_FERNET_KEY",
                "AIRFLOW_FLOWER_BASIC_AUTH"):
        assert substitute(str(init_env.get(key, "")), {}) == "", f"airflow-init gives {key} a default"
    # Every Airflow service reads the secrets volume.
    for name, service in compose["services"].items():
        if name.startswith("airflow-") or name == "flower":
            assert any(str(v).startswith(f"airflow-secrets:{SECRETS_IN_CONTAINER}") for v in service["volumes"]), name


def test_compose_jwt_secret_is_generated_and_no_repo_string_signs_a_valid_token(tmp_path: Path) -> None:
    """A token signed with any string found in the repo is refused by the compose configuration."""
    secrets_dir = tmp_path / "secrets"
    run_compose_secret_generation(secrets_dir)
    for name in ("jwt_secret", "api_secret_key", "fernet_key", "admin_password", "flower_basic_auth"):
        assert (secrets_dir / name).stat().st_size > 0, f"{name} was not generated"
        assert (secrets_dir / name).stat().st_mode & 0o077 == 0, f"{name} is readable by others"
    first = (secrets_dir / "jwt_secret").read_text()
    run_compose_secret_generation(secrets_dir)
    assert (secrets_dir / "jwt_secret").read_text() == first, "a later start keeps the generated secret"

    env = {k: v.replace(SECRETS_IN_CONTAINER, str(secrets_dir)) for k, v in compose_environment().items()
           if k.startswith("AIRFLOW__")}
    env.update({"AIRFLOW_HOME": str(tmp_path / "home"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}"})
    result = refused_tokens(env, config_literals())
    assert result["control_accepted"], "a token signed with the configured secret must verify (else this test proves nothing)"
    assert result["configured_length"] >= 32
    assert result["accepted"] == [], f"tokens signed with repository strings were accepted: {result['accepted']}"


def test_compose_secret_given_in_env_file_replaces_the_generated_one(tmp_path: Path) -> None:
    secrets_dir = tmp_path / "secrets"
    run_compose_secret_generation(secrets_dir, {"AIRFLOW_JWT_SECRET": "x" * 40, "_AIRFLOW_WWW_USER_PASSWORD": "pw-from-env"})
    assert (secrets_dir / "jwt_secret").read_text() == "x" * 40
    assert (secrets_dir / "admin_password").read_text() == "pw-from-env"


def test_native_scripts_generate_their_secrets_and_no_repo_string_signs_a_valid_token(tmp_path: Path) -> None:
    """scripts/airflow-env.sh sets no secret itself; airflow-up.sh generates them; the result refuses repo strings."""
    for line in ENV_SCRIPT.read_text().splitlines():
        for key in SECRET_SETTINGS:
            assert not re.match(rf"\s*(export\s+)?{key}=", line), f"airflow-env.sh sets {key}: {line}"
    assert not re.search(r"AEP_AIRFLOW_PASSWORD:=[^}]", ENV_SCRIPT.read_text()), "airflow-env.sh has a default password"
    generator = re.search(r'secrets\.env" <<\'EOF\'\n(.*?)\nEOF', UP_SCRIPT.read_text(), re.S)
    assert generator, "airflow-up.sh no longer generates secrets.env with a Python here-document"
    made = subprocess.run([sys.executable, "-c", generator.group(1)], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    exported = dict(re.findall(r"^export (\w+)='([^']*)'$", made.stdout, re.M))
    assert set(SECRET_SETTINGS) - {"AIRFLOW__CELERY__FLOWER_BASIC_AUTH"} <= set(exported), exported.keys()
    env = {**exported, "AIRFLOW_HOME": str(tmp_path / "home"),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}"}
    result = refused_tokens(env, config_literals())
    assert result["control_accepted"] and result["configured_length"] >= 32
    assert result["accepted"] == [], f"tokens signed with repository strings were accepted: {result['accepted']}"


@pytest.mark.parametrize("service", ["airflow-apiserver", "flower", "aep-emulator"])
def test_published_ports_listen_on_loopback_only(service: str) -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    ports = compose["services"][service].get("ports", [])
    assert ports, f"{service} publishes no port"
    assert all(str(p).startswith("127.0.0.1:") for p in ports), f"{service} publishes on every interface: {ports}"


def test_emulator_and_flower_are_opt_in_and_flower_asks_for_a_password() -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    services = compose["services"]
    assert services["aep-emulator"].get("profiles") == ["emulator"]
    assert services["flower"].get("profiles") == ["flower"]
    assert compose_environment()["AIRFLOW__CELERY__FLOWER_BASIC_AUTH_CMD"].endswith("/flower_basic_auth")


def test_env_file_is_neither_committed_nor_copied_into_the_image() -> None:
    assert ".env" in (REPO / ".gitignore").read_text().split()
    assert ".env" in (REPO / ".dockerignore").read_text().split()
    tracked = subprocess.run(["git", "ls-files", ".env"], cwd=REPO, capture_output=True, text=True).stdout
    assert tracked.strip() == "", ".env is committed"
