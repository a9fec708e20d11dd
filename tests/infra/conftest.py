"""The Horizon stack, synthesized once per test module: jsii starts slowly, so the tests share it."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.stack import HorizonStack

SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}
"""No stack is bundled: the tests never run pip, and the asset hash comes from the sources alone."""


@pytest.fixture(scope="module")
def app_and_stack() -> tuple[App, HorizonStack]:
    """The app as `infra/app.py` builds it, without the cdk-nag plugin: the tests run the checks themselves."""
    return build_app(SKIP_BUNDLING, nag=False)


@pytest.fixture(scope="module")
def stack(app_and_stack: tuple[App, HorizonStack]) -> HorizonStack:
    return app_and_stack[1]


@pytest.fixture(scope="module")
def template(stack: HorizonStack) -> Template:
    return Template.from_stack(stack)
