"""Local bundling: what pip is asked for, what the asset holds, and what its hash depends on."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import DockerImage, FileSystem
from aws_cdk import aws_lambda as lambda_

from infra.bundling import ASSET_EXCLUDES, PipBundler

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


class FakePip:
    """Installs what a requirements file of the runtime's SnapStart module would: its module and its metadata."""

    def __init__(self, returncode: int = 0) -> None:
        self.returncode = returncode
        self.commands: list[list[str]] = []

    def __call__(self, command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "snapshot_restore_py.py").write_text("")
        (target / "snapshot_restore_py-1.0.0.dist-info").mkdir(exist_ok=True)
        (target / "snapshot_restore_py-1.0.0.dist-info" / "METADATA").write_text("")
        return subprocess.CompletedProcess(command, self.returncode, stdout="", stderr="no matching wheel")


def test_pip_installs_binary_wheels_for_arm64_lambda_and_the_runtime_python() -> None:
    command = " ".join(PipBundler(lambda_.Runtime.PYTHON_3_14).pip_command("/out"))
    assert "-m pip install --requirement" in command
    assert "--target /out" in command
    assert "--platform manylinux2014_aarch64" in command
    assert "--implementation cp --python-version 3.14" in command
    assert "--only-binary=:all: --upgrade" in command


def test_the_bundle_holds_the_three_packages_without_bytecode_local_only_code_or_the_runtimes_own_modules(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip = FakePip()
    monkeypatch.setattr("infra.bundling.run", pip)
    out = tmp_path / "out"
    out.mkdir()

    assert PipBundler(lambda_.Runtime.PYTHON_3_14, source).try_bundle(str(out), image=IMAGE)

    assert len(pip.commands) == 1
    bundled = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert bundled == {
        "horizon/__init__.py",
        "horizon/dynamodb/eventstore.py",
        "domain/__init__.py",
        "functions/command_api.py",
    }


def test_a_pip_failure_stops_the_synth(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("infra.bundling.run", FakePip(returncode=1))
    with pytest.raises(RuntimeError, match="no matching wheel"):
        PipBundler(lambda_.Runtime.PYTHON_3_14, source).try_bundle(str(tmp_path), image=IMAGE)


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
def test_the_asset_hash_follows_the_bundled_sources_only(source: Path, changed: str, redeploys: bool) -> None:
    before = FileSystem.fingerprint(str(source), exclude=ASSET_EXCLUDES)
    (source / changed).write_text("changed")
    assert (FileSystem.fingerprint(str(source), exclude=ASSET_EXCLUDES) != before) is redeploys
