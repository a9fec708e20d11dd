"""What the Lambda code asset holds from this repository, and which services' botocore data; read by the bundler
and by the bench, which builds no CDK app (importing aws_cdk starts a Node process)."""

from functions.settings import AWS_SERVICES

SOURCE_PACKAGES = ("horizon", "domain", "functions")
"""What the functions import from this repository; everything else stays out of the asset."""

LOCAL_ONLY = (
    "horizon/local",
    "horizon/cli",
    "horizon/__main__.py",
    "functions/local.py",
    "functions/local_preload.py",
)
"""Source that runs only on a laptop (the local front door, poller and moto set-up; the CLI), never on Lambda."""

TRACING_SERVICES = ("xray",)
"""Services the X-Ray SDK builds a client of itself: where it finds no LAMBDA_TASK_ROOT, its import builds one
for its centralised sampler. Lambda sets the variable, but the asset must not fail where it is missing."""

SDK_SERVICES = (*AWS_SERVICES, *TRACING_SERVICES)
"""The services whose botocore data the asset ships (infra/sdk_data.py): those the functions call and the SDK's."""
