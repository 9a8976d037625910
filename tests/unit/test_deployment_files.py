"""Dockerfile, compose.yaml and deploy/nginx.conf, checked without Docker.

Docker cannot run on the machines this project is built and tested on, so these files are
never started here. What can be checked is checked: every ATTN_* variable they set (or read
from the operator's .env) is a real setting, the settings the bot replicas get validate, the
image runs as a non-root user with `attn healthcheck` as its HEALTHCHECK, Redis keeps an
append-only file and never evicts, and the load balancer reaches the replicas' webhook port.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {"ATTN_" + name.upper() for name in Settings.model_fields}
# Values an operator puts in .env, for the variables compose.yaml requires (${NAME:?...}).
OPERATOR_ENV = {
    "ATTN_BOT_TOKEN": "123456:operator-token",
    "ATTN_WEBHOOK_URL": "https://attn.example.org/telegram",
    "ATTN_WEBHOOK_SECRET": "operator_secret-1-0123456789abcdefghij",
    "POSTGRES_PASSWORD": "operator-password",
}
_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


# --- readers --------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, rest = whole.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "Dockerfile has no FROM"
    return instructions[starts[-1] :]


def dockerfile_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    """Every variable set by ENV (both `ENV A=1 B=2` and the old `ENV A 1` form)."""
    found: dict[str, str] = {}
    for keyword, rest in instructions:
        if keyword != "ENV":
            continue
        words = shlex.split(rest)
        if words and "=" not in words[0]:
            found[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            name, _, value = word.partition("=")
            found[name] = value
    return found


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def service_env(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, in either compose form (mapping or KEY=value list)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = [item.partition("=") for item in env]
        return {name: value for name, _, value in pairs}
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} with the operator's .env."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if name in env:
            return env[name]
        if op in (":-", "-"):
            return arg
        raise AssertionError(f"compose.yaml needs {name} and the test gives it no value")

    return _INTERPOLATION.sub(one, value)


def settings_from(env: dict[str, str]) -> Settings:
    values = {k.removeprefix("ATTN_").lower(): v for k, v in env.items() if k.startswith("ATTN_")}
    return Settings(_env_file=None, **values)


# --- every variable is a real setting -------------------------------------------------------


def test_every_attn_variable_the_dockerfile_sets_is_a_setting() -> None:
    names = {n for n in dockerfile_env(dockerfile_instructions()) if n.startswith("ATTN_")}
    assert names, "the Dockerfile sets no ATTN_ variable at all?"
    assert names <= SETTINGS, sorted(names - SETTINGS)


def test_every_attn_variable_compose_sets_or_reads_is_a_setting() -> None:
    text = (ROOT / "compose.yaml").read_text()
    set_here: set[str] = set()
    for service in compose()["services"].values():
        set_here |= {n for n in service_env(service) if n.startswith("ATTN_")}
    read_here = {m["name"] for m in _INTERPOLATION.finditer(text)}
    read_here = {n for n in read_here if n.startswith("ATTN_")}
    assert set_here, "compose.yaml sets no ATTN_ variable at all?"
    assert set_here <= SETTINGS, sorted(set_here - SETTINGS)
    assert read_here <= SETTINGS, sorted(read_here - SETTINGS)
    # Any ATTN_-looking word anywhere (comments included) names a real setting too.
    mentioned = set(re.findall(r"\bATTN_[A-Z0-9_]+\b", text))
    assert mentioned <= SETTINGS, sorted(mentioned - SETTINGS)


def test_attn_names_mentioned_in_nginx_conf_are_settings() -> None:
    mentioned = set(re.findall(r"\bATTN_[A-Z0-9_]+\b", (ROOT / "deploy/nginx.conf").read_text()))
    assert mentioned <= SETTINGS, sorted(mentioned - SETTINGS)


@pytest.mark.parametrize("name", ["migrate", "bot"])
def test_the_settings_each_app_container_gets_are_valid(name: str) -> None:
    """Image ENV, then the service's environment (compose overrides the image), validated."""
    image_env = dockerfile_env(final_stage(dockerfile_instructions()))
    service = compose()["services"][name]
    env = {k: v for k, v in image_env.items() if k.startswith("ATTN_")}
    env.update({k: interpolate(v, OPERATOR_ENV) for k, v in service_env(service).items()})
    settings = settings_from(env)
    assert settings.redis_url is not None and settings.database_url is not None
    assert settings.bot_token.get_secret_value() == OPERATOR_ENV["ATTN_BOT_TOKEN"]
    if name == "bot":
        assert settings.webhook_url == OPERATOR_ENV["ATTN_WEBHOOK_URL"]
        assert settings.listen_host == "0.0.0.0"  # reachable by the load balancer


# --- the Dockerfile -------------------------------------------------------------------------


def test_image_runs_as_a_non_root_user() -> None:
    stage = final_stage(dockerfile_instructions())
    users = [rest for keyword, rest in stage if keyword == "USER"]
    assert users, "the final stage sets no USER: the bot would run as root"
    user = users[-1].split(":", 1)[0]
    assert user not in ("root", "0"), user
    created = " ".join(rest for keyword, rest in stage if keyword == "RUN")
    assert re.search(rf"useradd\b[^&;]*\b{re.escape(user)}\b", created) or user.isdigit()


def test_healthcheck_runs_attn_healthcheck() -> None:
    stage = final_stage(dockerfile_instructions())
    [check] = [rest for keyword, rest in stage if keyword == "HEALTHCHECK"]
    command = check.split("CMD", 1)[1].strip()
    # The exec form is a JSON array (YAML reads it); the shell form is split like a shell.
    argv = yaml.safe_load(command) if command.startswith("[") else shlex.split(command)
    assert argv == ["attn", "healthcheck"], argv
    entry = [rest for keyword, rest in stage if keyword == "ENTRYPOINT"]
    assert entry and yaml.safe_load(entry[-1]) == ["attn"]


def test_image_is_slim_and_installs_the_project() -> None:
    instructions = dockerfile_instructions()
    bases = [rest.split()[0] for keyword, rest in instructions if keyword == "FROM"]
    assert all("slim" in base for base in bases), bases
    assert any(keyword == "RUN" and "pip install ." in rest for keyword, rest in instructions)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".venv" in ignored  # no secrets or local venv in the image


# --- compose.yaml ---------------------------------------------------------------------------


def test_redis_is_append_only_and_never_evicts() -> None:
    redis = compose()["services"]["redis"]
    command = redis["command"]
    words = command if isinstance(command, list) else shlex.split(command)
    flags = dict(zip(words[1::2], words[2::2], strict=False))
    assert flags.get("--appendonly") == "yes"
    assert flags.get("--maxmemory-policy") == "noeviction"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_migrate_runs_once_before_the_bot_replicas() -> None:
    services = compose()["services"]
    migrate, bot = services["migrate"], services["bot"]
    assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert bot["deploy"]["replicas"] >= 2
    assert migrate["image"] == bot["image"]


def test_load_balancer_proxies_to_the_replicas_webhook_port() -> None:
    services = compose()["services"]
    port = interpolate(service_env(services["bot"])["ATTN_LISTEN_PORT"], OPERATOR_ENV)
    assert port in [str(p) for p in services["bot"]["expose"]]
    lb = services["lb"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in lb["volumes"]
    conf = (ROOT / "deploy/nginx.conf").read_text()
    upstream = re.search(r"upstream\s+(\w+)\s*\{(.*?)\}", conf, flags=re.S)
    assert upstream is not None
    assert re.search(rf"server\s+bot:{port}\b", upstream[2]), upstream[2]
    assert f"proxy_pass http://{upstream[1]};" in conf
    assert conf.count("{") == conf.count("}")
