"""The package root exports the building blocks lazily: importing it costs nothing until a name is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import horizon

ROOT = Path(__file__).resolve().parents[2]


def test_every_exported_name_resolves_to_the_class_in_its_module() -> None:
    from horizon.commands import Command
    from horizon.eventstore import EventStore

    assert horizon.Command is Command
    assert horizon.EventStore is EventStore
    assert all(getattr(horizon, name) is not None for name in horizon.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = horizon.Nope


def test_importing_the_package_imports_no_submodule_and_no_pydantic() -> None:
    probe = "import sys, horizon; print(sorted(m for m in sys.modules if m.startswith(('horizon.', 'pydantic'))))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_no_test_imports_the_benchmarks() -> None:
    # The benchmarks are never part of `make test`: a test that imports bench/ would make them part of it.
    import ast
    from pathlib import Path

    tests = Path(__file__).resolve().parents[1]
    importers = []
    for source in tests.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "bench" or name.startswith("bench.") for name in names):
                importers.append(source.name)
    assert importers == []
