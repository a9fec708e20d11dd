"""Problem `type` URIs are a contract: stable across Python versions, and each one documented in the README."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from horizon.http.problems import TITLES, problem

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*ROOT.glob("horizon/**/*.py"), *ROOT.glob("functions/*.py")]


def documented_types() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    return set(re.findall(r"^\| \d{3} \| `([a-z-]+)` \|", readme, flags=re.MULTILINE))


def slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def titles_in_the_code() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        found |= set(re.findall(r'title="([^"]+)"', source.read_text()))
    return found - {"Horizon guest list"}  # the OpenAPI document's title, not a problem's


def test_every_problem_title_in_the_code_has_its_type_in_the_readme() -> None:
    titles = titles_in_the_code() | set(TITLES.values())

    assert {slug(t) for t in titles} <= documented_types()
    assert len(titles) >= 12


def test_every_documented_type_is_one_the_code_can_answer() -> None:
    assert documented_types() <= {slug(t) for t in titles_in_the_code() | set(TITLES.values())}


@pytest.mark.parametrize(
    ("status", "expected"), [(413, "body-too-large"), (401, "unauthorized"), (500, "internal-error")]
)
def test_default_types_do_not_depend_on_the_python_version(status: int, expected: str) -> None:
    body = json.loads(str(problem(status, "detail").body))

    assert body["type"] == f"https://horizon.dev/problems/{expected}"
