"""Settings every test tier shares, applied before any test module imports boto3 or aws_cdk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Node 20 is past its end of life for jsii; the banners it prints say nothing about our code.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# moto does not know the account-based endpoints recent botocore picks for DynamoDB Streams.
os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


@pytest.fixture(scope="session")
def asset_botocore(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the installed botocore, slimmed as the bundler ships it: put it first on PYTHONPATH."""
    from infra.sdk_data import copy_as_shipped

    return copy_as_shipped(tmp_path_factory.mktemp("asset"))
