"""`make run`: the whole guest-list stack on one machine, on embedded moto, with no AWS account.

    python -m functions.local [--host 127.0.0.1] [--port 3000]

API Gateway's routes become a local HTTP server, the Streams event source mappings become a poller, and the
same four Lambda handlers run behind them.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Any

LOCAL_ENV = {
    "EVENTS_TABLE": "horizon-events",
    "READ_TABLE": "horizon-read",
    "POWERTOOLS_SERVICE_NAME": "horizon-local",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def main(argv: list[str] | None = None) -> int:
    """Start moto, the tables, the HTTP front door and the stream poller; run until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    args = parser.parse_args(argv)
    for name, value in LOCAL_ENV.items():
        os.environ.setdefault(name, value)
    from horizon.local.fake_aws import use_fake_aws

    # Credentials from the developer's shell must never reach a real account from here.
    use_fake_aws()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import boto3
    from moto import mock_aws

    from functions import command_api, composition, projector, query_api, saga
    from functions.api import OPEN_ROUTES
    from horizon.dynamodb.streams import is_commit_record
    from horizon.dynamodb.tables import create_tables
    from horizon.local.auth import authorizer, signing_key
    from horizon.local.moto_patches import patch_moto
    from horizon.local.poller import StreamPoller, Subscription
    from horizon.local.serialized import one_at_a_time, serialized
    from horizon.local.server import serve

    # The HTTP API's JWT authorizer, with the development key `make token` signs with.
    gateway = authorizer(signing_key(), OPEN_ROUTES)
    command_function, query_function = (
        gateway(one_at_a_time(command_api.handler)),
        gateway(one_at_a_time(query_api.handler)),
    )

    def route(method: str, path: str) -> tuple[str, Any]:
        # The HTTP API's table: POST /commands/{proxy+} → command function, $default → query function.
        if method == "POST" and path.startswith("/commands/"):
            return "command-api", command_function
        return "query-api", query_function

    patch_moto()
    with mock_aws():
        lock = threading.RLock()
        settings = composition.Settings.from_env()
        client = serialized(boto3.client("dynamodb"), lock)
        stream_arn = create_tables(client, settings.events_table, settings.read_table)
        composition.use(composition.Container(settings, client))
        poller = StreamPoller(
            serialized(boto3.client("dynamodbstreams"), lock),
            stream_arn,
            [
                Subscription("projector", projector.handler, accepts=is_commit_record),
                Subscription("saga", saga.handler, accepts=is_commit_record),
            ],
        )
        try:
            server = serve(args.host, args.port, route)
        except OSError as error:
            print(
                f"cannot listen on {args.host}:{args.port}: {error.strerror}; set PORT to another port", file=sys.stderr
            )
            return 1
        poller.start()
        host, port = str(server.server_address[0]), server.server_address[1]
        print(f"Horizon local stack: http://{host}:{port}  (GUEST_LIMIT={settings.guest_limit}; Ctrl-C stops)")
        sys.stdout.flush()
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        stopped.wait()
        server.shutdown()
        poller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
