"""What the Lambda code asset holds from this repository; read by the bundler and by the bench, which builds
no CDK app (importing aws_cdk starts a Node process)."""

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
