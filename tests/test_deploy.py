"""The deployment kit in deploy/: what can be checked without a Docker daemon or a booted systemd.

The Dockerfile is parsed (non-root user before the entry point, a healthcheck, commands that
exist) and its ENTRYPOINT, CMD and HEALTHCHECK are run as plain processes against a temporary
directory standing for the image's /data; the compose file is parsed and its services, volumes,
healthchecks and variables checked against each other and against the configuration; the
systemd unit goes through ``systemd-analyze verify`` (``make test`` installs it when missing;
under CI its tests fail rather than skip).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
import yaml

from bot.cli import build_parser
from bot.config import load_config
from bot.testing.postgres import PostgresServer

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
CERCLE = VENV_BIN / "cercle"
#: A bound on each wait for the bot, never a speed requirement.
PATIENCE = 60.0

CONSOLE_CONFIG = """\
[bot]
adapters = ["console"]
locale = "en"
"""


# -- the Dockerfile --------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction of a build stage."""

    stage: int
    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form instruction (``CMD ["cercle", "run"]``)."""
        text = self.args
        if self.keyword == "HEALTHCHECK":
            text = text.split(" CMD ", 1)[1] if " CMD " in f" {text}" else ""
            text = text.removeprefix("CMD ").strip()
        value = json.loads(text)
        assert isinstance(value, list), f"{self.keyword} is not in exec form: {self.args}"
        return [str(part) for part in value]


def parse_dockerfile(text: str) -> list[Instruction]:
    """The instructions, continuation lines joined, comments dropped, numbered by stage."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(stage, keyword, " ".join(args.split())))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def one(instructions: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in instructions if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword} in the final stage, found {len(found)}"
    return found[0]


def image_env(instructions: list[Instruction]) -> dict[str, str]:
    """The ENV of the final stage (``KEY=value`` pairs, several per instruction)."""
    env: dict[str, str] = {}
    for instruction in final_stage(instructions):
        if instruction.keyword == "ENV":
            for pair in instruction.args.split(" "):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def assert_cercle_command(argv: list[str]) -> None:
    """``argv`` is ``cercle`` and arguments that the real parser accepts."""
    assert argv[0] == "cercle", argv
    try:
        build_parser().parse_args(argv[1:])
    except SystemExit as exit_:  # argparse's way of refusing
        raise AssertionError(f"not a cercle command: {argv}") from exit_


def test_the_parser_reads_continued_lines_and_stages() -> None:
    parsed = parse_dockerfile(
        'FROM a AS b\n# note\nRUN one \\\n    # inside\n    two\nFROM c\nCMD ["x"]\n'
    )
    assert [(i.stage, i.keyword, i.args) for i in parsed] == [
        (0, "FROM", "a AS b"),
        (0, "RUN", "one two"),
        (1, "FROM", "c"),
        (1, "CMD", '["x"]'),
    ]


def test_the_image_is_python_3_11_slim_and_installs_the_runtime_only(
    dockerfile: list[Instruction],
) -> None:
    bases = [i.args.split()[0] for i in dockerfile if i.keyword == "FROM"]
    assert bases and all(base == "python:3.11-slim" for base in bases), bases
    installs = [i.args for i in dockerfile if i.keyword == "RUN" and "pip install" in i.args]
    assert len(installs) == 1, installs
    assert "--no-cache-dir" in installs[0]
    assert re.search(r"\s\.(\s|$)", installs[0]), "installs the project itself, without extras"
    assert "[test]" not in installs[0]
    # The runtime stage takes the built virtualenv, not the build stage's tools or source.
    runtime = final_stage(dockerfile)
    assert not any(i.keyword == "RUN" and "pip" in i.args for i in runtime)
    copies = [i.args for i in runtime if i.keyword == "COPY"]
    assert copies and all(c.startswith("--from=") for c in copies), copies


def test_the_image_runs_as_a_non_root_user_set_before_its_entry_point(
    dockerfile: list[Instruction],
) -> None:
    runtime = final_stage(dockerfile)
    keywords = [i.keyword for i in runtime]
    users = [i for i in runtime if i.keyword == "USER"]
    assert users, "no USER: the bot would run as root"
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    for user in users:
        name = user.args.split(":")[0]
        assert name not in ("root", "0"), f"USER {user.args}"


def test_the_entry_point_command_and_healthcheck_are_real_cercle_commands(
    dockerfile: list[Instruction],
) -> None:
    runtime = final_stage(dockerfile)
    entrypoint = one(runtime, "ENTRYPOINT").exec_form()
    assert entrypoint == ["cercle"]
    assert one(runtime, "CMD").exec_form() == ["run"]
    assert_cercle_command(entrypoint + one(runtime, "CMD").exec_form())
    healthcheck = one(runtime, "HEALTHCHECK")
    assert_cercle_command(healthcheck.exec_form())
    options = dict(re.findall(r"--([a-z-]+)=(\S+)", healthcheck.args))
    assert {"interval", "timeout", "start-period", "retries"} <= options.keys()


def test_the_state_lives_in_the_data_volume(dockerfile: list[Instruction]) -> None:
    runtime = final_stage(dockerfile)
    assert json.loads(one(runtime, "VOLUME").args) == ["/data"]
    assert one(runtime, "WORKDIR").args == "/data"
    url = image_env(dockerfile)["CERCLE_DATABASE__URL"]
    assert url == "sqlite+aiosqlite:////data/cercle.db"
    # The values are real settings: the image's environment alone is a valid configuration.
    env = {k: v for k, v in image_env(dockerfile).items() if k.startswith("CERCLE_")}
    env.pop("CERCLE_CONFIG")
    assert load_config(None, env).database.url == url


def dockerignore_keeps(patterns: list[str], path: str) -> bool:
    """Whether a path survives a .dockerignore made of ``**`` and ``!dir/`` lines."""
    kept = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.removeprefix("!").rstrip("/")
        if body == "**" or path == body or path.startswith(body + "/"):
            kept = negated
    return kept


def test_every_copied_file_exists_and_is_in_the_build_context(
    dockerfile: list[Instruction],
) -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert not dockerignore_keeps(patterns, ".venv"), "the virtualenv would be sent to Docker"
    sources = [
        source
        for i in dockerfile
        if i.keyword == "COPY" and not i.args.startswith("--from=")
        for source in i.args.split()[:-1]
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert dockerignore_keeps(patterns, source), f"COPY {source}: excluded by .dockerignore"


# -- the image's entry point as a plain process ---------------------------------------------


class Image:
    """The final stage's ENTRYPOINT, CMD, HEALTHCHECK, ENV and WORKDIR, rooted in a temp dir.

    The image's absolute paths (``/data``, ``/etc/cercle``, ``/tmp``) become directories of
    ``root``, and ``/opt/cercle`` (the image's virtualenv) the virtualenv running this test.
    """

    def __init__(self, instructions: list[Instruction], root: Path) -> None:
        runtime = final_stage(instructions)
        self.mapping = {
            "/data": root / "data",
            "/etc/cercle": root / "etc" / "cercle",
            "/tmp": root / "tmp",
            "/opt/cercle": VENV_BIN.parent,
        }
        for path in self.mapping.values():
            path.mkdir(parents=True, exist_ok=True)
        self.command = one(runtime, "ENTRYPOINT").exec_form() + one(runtime, "CMD").exec_form()
        self.healthcheck = one(runtime, "HEALTHCHECK").exec_form()
        self.workdir = Path(self.map(one(runtime, "WORKDIR").args))
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
        self.env = {**clean}
        for key, value in image_env(instructions).items():
            self.env[key] = self.map(value.replace("$PATH", os.environ["PATH"]))

    def map(self, value: str) -> str:
        pattern = r"/(data|etc/cercle|tmp|opt/cercle)(?=/|:|$)"
        return re.sub(pattern, lambda m: str(self.mapping[m.group(0)]), value)

    def argv(self, command: list[str]) -> list[str]:
        program = shutil.which(command[0], path=self.env["PATH"])
        assert program is not None, f"{command[0]} is not on the image's PATH"
        return [program, *command[1:]]

    def run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(command),
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=PATIENCE,
            check=False,
        )


def _lines(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def wait_for(lines: queue.Queue[str | None], needle: str, seen: list[str]) -> None:
    """Read lines until one holds ``needle``; fail with what was read at end of output."""
    while True:
        try:
            line = lines.get(timeout=PATIENCE)
        except queue.Empty:
            raise AssertionError(f"no {needle!r} yet; output so far:\n{''.join(seen)}") from None
        if line is None:
            raise AssertionError(f"output ended before {needle!r}:\n{''.join(seen)}")
        seen.append(line)
        if needle in line:
            return


@pytest.mark.slow
def test_the_entry_point_starts_answers_and_passes_its_healthcheck(
    dockerfile: list[Instruction], tmp_path: Path
) -> None:
    image = Image(dockerfile, tmp_path)
    config = Path(image.env["CERCLE_CONFIG"])
    config.write_text(CONSOLE_CONFIG, encoding="utf-8")

    before = image.run(image.healthcheck)
    assert before.returncode == 1, before
    assert "no database" in before.stdout

    bot = subprocess.Popen(
        image.argv(image.command),
        cwd=image.workdir,
        env=image.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert bot.stdin is not None and bot.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_lines, args=(bot.stdout, lines), daemon=True).start()
        seen: list[str] = []
        bot.stdin.write("ana> /help\n")
        bot.stdin.flush()
        wait_for(lines, "/profession set", seen)  # the bot answered ana's /help

        during = image.run(image.healthcheck)
        assert during.returncode == 0, (during, "".join(seen))
        assert during.stdout.startswith("healthy:")

        bot.stdin.close()  # end of input stops the console
        assert bot.wait(timeout=PATIENCE) == 0, "".join(seen)
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
    # The state went where the image keeps it: the SQLite file in the data volume.
    assert (image.mapping["/data"] / "cercle.db").is_file()
    assert not (image.workdir / "data").exists()


@pytest.mark.slow
def test_the_healthcheck_is_unhealthy_on_a_bad_configuration(
    dockerfile: list[Instruction], tmp_path: Path
) -> None:
    image = Image(dockerfile, tmp_path)
    Path(image.env["CERCLE_CONFIG"]).write_text('[bot]\ntimezone = "Mars/Olympus"\n')
    result = image.run(image.healthcheck)
    # Docker reserves exit code 2 of a healthcheck; a broken configuration is unhealthy (1).
    assert result.returncode == 1
    assert "bot.timezone" in result.stderr


@pytest.mark.slow
def test_the_healthcheck_follows_postgresql(restartable_postgres: PostgresServer) -> None:
    url = restartable_postgres.create_database("deploy_health")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}

    def cercle(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CERCLE), *args],
            env=clean,
            capture_output=True,
            text=True,
            timeout=PATIENCE,
            check=False,
        )

    empty = cercle("health", "--db", url)
    assert (empty.returncode, empty.stdout.split(":")[0]) == (1, "unhealthy"), empty
    assert "no schema" in empty.stdout
    upgraded = cercle("db", "--db", url, "upgrade")
    assert upgraded.returncode == 0, upgraded
    healthy = cercle("health", "--db", url)
    assert healthy.returncode == 0, healthy
    # What compose's depends_on and restart policy act on: the database going away.
    restartable_postgres.stop()
    down = cercle("health", "--db", url)
    assert down.returncode == 1, down
    assert down.stdout.startswith("unhealthy:")


# -- the compose file -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"env.example: not KEY=value: {line!r}"
            values[key] = value
    return values


_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::?[-?](?P<rest>[^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def one_variable(match: re.Match[str]) -> str:
        name = match.group("name")
        assert name in env, f"${{{name}}} is used but not in deploy/env.example"
        return env[name]

    return _VARIABLE.sub(one_variable, value)


def strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def test_compose_runs_the_bot_after_a_healthy_postgresql(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "db"}
    assert services["db"]["image"].startswith("postgres:")
    depends = services["bot"]["depends_on"]
    assert depends["db"]["condition"] == "service_healthy"
    for name, service in services.items():
        assert service["restart"] in ("unless-stopped", "always", "on-failure"), name
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries"} <= check.keys(), name
    bot_check = services["bot"]["healthcheck"]["test"]
    assert bot_check[0] == "CMD"
    assert_cercle_command(bot_check[1:])


def test_compose_builds_this_repository_with_the_deploy_dockerfile(
    compose: dict[str, Any],
) -> None:
    build = compose["services"]["bot"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT
    assert (context / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_compose_volumes_are_declared_and_used(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used: set[str] = set()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            if isinstance(volume, str):
                source = volume.split(":")[0]
                if not source.startswith((".", "/")):
                    used.add(source)
            elif volume["type"] == "volume":
                used.add(volume["source"])
            else:
                # A missing configuration file must be an error, not an empty directory.
                assert volume["bind"]["create_host_path"] is False
                assert volume["read_only"] is True
                assert volume["target"] == "/etc/cercle/cercle.toml"
    assert used == declared
    bot_volumes = compose["services"]["bot"]["volumes"]
    assert any(isinstance(v, str) and v.endswith(":/data") for v in bot_volumes)


def test_compose_variables_come_from_the_env_file_and_are_real_settings(
    compose: dict[str, Any],
) -> None:
    example = env_example()
    for text in strings(compose):
        interpolate(text, example)  # every ${NAME} is documented in env.example
    bot = compose["services"]["bot"]
    assert bot["env_file"] == ".env"
    environment = {k: interpolate(v, example) for k, v in bot["environment"].items()}
    settings = {k: v for k, v in {**example, **environment}.items() if k.startswith("CERCLE_")}
    # The env file and the compose environment together are a valid configuration (unknown
    # names and bad values would be problems), with PostgreSQL on the db service.
    config = load_config(None, settings)
    assert config.database.url.startswith("postgresql+asyncpg://cercle:")
    assert "@db:5432/cercle" in config.database.url
    # The real env file holds the secrets: git must never pick it up.
    assert "deploy/.env" in (ROOT / ".gitignore").read_text().splitlines()


# -- the systemd unit -----------------------------------------------------------------------


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing: `make test` installs it (apt systemd)")
        pytest.skip("systemd-analyze not found: apt-get install systemd (or run `make test`)")
    return found


def unit_here(tmp_path: Path, text: str | None = None) -> Path:
    """The unit with the venv it names replaced by this one, so its commands exist here."""
    text = (DEPLOY / "cercle.service").read_text(encoding="utf-8") if text is None else text
    path = tmp_path / "cercle.service"
    path.write_text(text.replace("/opt/cercle/.venv", str(VENV_BIN.parent)), encoding="utf-8")
    return path


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [systemd_analyze(), "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / "cercle.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_unit_passes_systemd_analyze_verify_without_a_warning(tmp_path: Path) -> None:
    result = verify(unit_here(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "" and result.stdout.strip() == "", result.stderr


def test_verify_catches_a_mistyped_directive(tmp_path: Path) -> None:
    text = (DEPLOY / "cercle.service").read_text(encoding="utf-8")
    broken = text.replace("ProtectSystem=strict", "ProtectSystm=strict")
    assert broken != text
    result = verify(unit_here(tmp_path, broken))
    assert "ProtectSystm" in result.stderr


def test_the_unit_is_hardened_and_exposes_little(tmp_path: Path) -> None:
    settings = unit_settings()
    assert settings["User"][0] not in ("root", "0")
    assert settings["Restart"] == ["on-failure"]
    assert settings["NoNewPrivileges"] == ["yes"]
    assert settings["ProtectSystem"] == ["strict"]
    assert settings["PrivateTmp"] == ["yes"]
    assert settings["WorkingDirectory"][0] in settings["ReadWritePaths"][0].split()
    exec_start = settings["ExecStart"][0].split()
    assert exec_start[0] == "/opt/cercle/.venv/bin/cercle"
    assert_cercle_command(["cercle", *exec_start[1:]])
    assert settings["RestartPreventExitStatus"] == ["2"]  # cercle's exit code for bad config
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=true", str(unit_here(tmp_path))],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert level is not None, result.stdout + result.stderr
    # systemd's scale: 0 (locked down) to 10 (unprotected); up to 2 is "OK".
    assert float(level.group(1)) <= 2.0, result.stdout
