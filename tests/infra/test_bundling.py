"""Local bundling: what pip is asked for, what the asset holds, and what its hash depends on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import DockerImage
from aws_cdk import aws_lambda as lambda_

from infra.asset import SDK_SERVICES
from infra.bundling import PipBundler, asset_hash, bytecode_compiler, lambda_code

IMAGE = DockerImage.from_registry("unused")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A repository in miniature: the packages, requirements, and what must stay out."""
    root = tmp_path / "repo"
    for name, text in {
        "requirements.txt": "pydantic\n",
        "horizon/__init__.py": "",
        "horizon/dynamodb/eventstore.py": "x = 1\n",
        "horizon/dynamodb/__pycache__/eventstore.cpython-311.pyc": "bytecode",
        "horizon/local/server.py": "x = 2\n",
        "horizon/cli/app.py": "import click\n",
        "horizon/__main__.py": "x = 3\n",
        "domain/__init__.py": "",
        "functions/command_api.py": "def handler(event, context): ...\n",
        "tests/test_x.py": "",
        ".venv/lib/site.py": "",
        "README.md": "# readme\n",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def install_botocore(target: Path, services: tuple[str, ...]) -> None:
    """botocore in miniature: a model and an endpoints entry for each service."""
    data = target / "botocore" / "data"
    for name in services:
        model = data / name / "2020-01-01" / "service-2.json"
        model.parent.mkdir(parents=True)
        model.write_text(json.dumps({"metadata": {"endpointPrefix": name}}))
    endpoints = {"partitions": [{"partition": "aws", "services": {name: {} for name in services}}]}
    (data / "endpoints.json").write_text(json.dumps(endpoints))
    (target / "botocore" / "__init__.py").write_text("")


class FakePip:
    """Installs what a requirements file of the runtime's SnapStart module and of botocore would."""

    def __init__(self, returncode: int = 0) -> None:
        self.returncode = returncode
        self.commands: list[list[str]] = []

    def __call__(self, command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        if command[1:4] != ["-m", "pip", "install"]:
            return subprocess.run(command, **options)  # the bundler checks, as it does with pip
        self.commands.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "snapshot_restore_py.py").write_text("")
        (target / "snapshot_restore_py-1.0.0.dist-info").mkdir(exist_ok=True)
        (target / "snapshot_restore_py-1.0.0.dist-info" / "METADATA").write_text("")
        install_botocore(target, (*SDK_SERVICES, "s3", "ec2"))
        return subprocess.CompletedProcess(command, self.returncode, stdout="", stderr="no matching wheel")


def test_pip_installs_binary_wheels_for_arm64_lambda_and_the_runtime_python() -> None:
    command = " ".join(PipBundler(lambda_.Runtime.PYTHON_3_14).pip_command("/out"))
    assert "-m pip install --requirement" in command
    assert "--target /out" in command
    assert "--platform manylinux2014_aarch64" in command
    assert "--implementation cp --python-version 3.14" in command
    assert "--only-binary=:all: --upgrade" in command


def test_the_bundle_holds_the_three_packages_and_botocore_without_bytecode_local_only_code_or_runtime_modules(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pip = FakePip()
    monkeypatch.setattr("infra.bundling.run", pip)
    out = tmp_path / "out"
    out.mkdir()

    assert PipBundler(lambda_.Runtime.PYTHON_3_14, source, compiler=lambda _: None).try_bundle(str(out), image=IMAGE)

    assert len(pip.commands) == 1
    bundled = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {path for path in bundled if not path.startswith("botocore/")} == {
        "horizon/__init__.py",
        "horizon/dynamodb/eventstore.py",
        "domain/__init__.py",
        "functions/command_api.py",
    }
    assert {path.split("/")[2] for path in bundled if path.startswith("botocore/data/")} == {
        *SDK_SERVICES,
        "endpoints.json",
    }
    assert "No python3.14 on this machine: the asset ships without bytecode" in capsys.readouterr().err


def test_the_bundle_is_compiled_by_the_runtimes_python_into_bytecode_that_never_checks_its_source(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("infra.bundling.run", FakePip())
    asked: list[str] = []
    out = tmp_path / "out"
    out.mkdir()

    def this_interpreter(version: str) -> str:
        """Stands in for the runtime's: its own tag names the files, whatever the version asked for."""
        asked.append(version)
        return sys.executable

    bundler = PipBundler(lambda_.Runtime.PYTHON_3_14, source, compiler=this_interpreter)
    assert bundler.try_bundle(str(out), image=IMAGE)

    tag = sys.implementation.cache_tag
    sources = sorted(p.relative_to(out) for p in out.rglob("*.py"))
    compiled = sorted(p.relative_to(out) for p in out.rglob(f"*.{tag}.pyc"))
    assert asked == ["3.14"]
    assert compiled == [s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc" for s in sources]
    for pyc in compiled:
        flags = int.from_bytes((out / pyc).read_bytes()[4:8], "little")
        assert flags == 0b01  # hash-based, source not checked (PEP 552)


def test_the_compiler_is_this_interpreter_for_its_own_version_and_none_for_a_version_not_installed() -> None:
    assert bytecode_compiler(f"{sys.version_info.major}.{sys.version_info.minor}") == sys.executable
    assert bytecode_compiler("2.1") is None


def test_a_command_on_the_path_that_is_not_that_version_is_no_compiler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As pyenv's shims are: on the PATH for every version some environment has, refusing where it is not chosen.
    shim = tmp_path / "python3.14"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.14: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    impostor = tmp_path / "python3.99"  # runs, but is this interpreter under another name
    impostor.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    impostor.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))

    assert bytecode_compiler("3.14") is None
    assert bytecode_compiler("3.99") is None


def test_a_pip_failure_stops_the_synth(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("infra.bundling.run", FakePip(returncode=1))
    with pytest.raises(RuntimeError, match="no matching wheel"):
        PipBundler(lambda_.Runtime.PYTHON_3_14, source).try_bundle(str(tmp_path), image=IMAGE)


@pytest.fixture
def recipe(tmp_path: Path) -> list[Path]:
    """The bundler's modules in miniature."""
    modules = [tmp_path / "infra" / name for name in ("bundling.py", "sdk_data.py")]
    for module in modules:
        module.parent.mkdir(exist_ok=True)
        module.write_text("x = 1\n")
    return modules


@pytest.mark.parametrize(
    ("changed", "redeploys"),
    [
        ("requirements.txt", True),
        ("horizon/dynamodb/eventstore.py", True),
        ("functions/command_api.py", True),
        ("horizon/dynamodb/__pycache__/eventstore.cpython-311.pyc", False),
        ("horizon/local/server.py", False),
        ("horizon/cli/app.py", False),
        ("horizon/__main__.py", False),
        ("tests/test_x.py", False),
        (".venv/lib/site.py", False),
        ("README.md", False),
    ],
)
def test_the_asset_hash_follows_the_bundled_sources_only(
    source: Path, recipe: list[Path], changed: str, redeploys: bool
) -> None:
    before = asset_hash(source, recipe)
    (source / changed).write_text("changed")
    assert (asset_hash(source, recipe) != before) is redeploys


def test_the_asset_hash_follows_the_bundlers_own_code(source: Path, recipe: list[Path]) -> None:
    before = asset_hash(source, recipe)
    recipe[1].write_text("x = 2\n")  # say, a change to which of botocore's data the asset keeps
    assert asset_hash(source, recipe) != before


def test_the_functions_code_asset_is_keyed_by_that_hash(recipe: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_cdk import App, Stack
    from aws_cdk.assertions import Template

    from infra import bundling
    from tests.infra.conftest import SKIP_BUNDLING

    def code_key() -> str:
        stack = Stack(App(context=SKIP_BUNDLING), "Code")
        lambda_.Function(
            stack,
            "F",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="x.handler",
            code=lambda_code(lambda_.Runtime.PYTHON_3_14),
        )
        (function,) = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
        return str(function["Properties"]["Code"]["S3Key"])

    monkeypatch.setattr(bundling, "RECIPE", tuple(recipe))
    before = code_key()
    recipe[0].write_text("x = 2\n")
    assert code_key() != before
