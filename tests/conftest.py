"""Settings every test tier shares, applied before any test module imports boto3 or aws_cdk."""

from __future__ import annotations

import os

# Node 20 is past its end of life for jsii; the banners it prints say nothing about our code.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# moto does not know the account-based endpoints recent botocore picks for DynamoDB Streams.
os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
