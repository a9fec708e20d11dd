"""`make run`: the whole guest-list stack on one machine, on moto, with no AWS account.

    python -m functions.local [--host 127.0.0.1] [--port 3000]

Two processes. This one is the data plane: moto's DynamoDB, Streams, SQS and KMS at http://127.0.0.1:8000
(`DYNAMODB_PORT`), saved under `.local/data/` (`HORIZON_LOCAL_DATA`) at most every second and on exit. Its child
runs the functions: API Gateway's routes become a local HTTP server, the Streams and SQS event source mappings
become pollers, and the same Lambda handlers run behind them, talking to the data plane over HTTP. A change to
a Python file under domain/, horizon/ or functions/ restarts the child (`RELOAD=0` turns that off).
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from horizon import resource_names

if TYPE_CHECKING:
    from horizon.local.fanout import LocalFanout
    from horizon.projection import EventTypes
    from horizon.retry import RetryPolicy

ROOT = Path(__file__).resolve().parents[1]
WATCHED = [ROOT / "domain", ROOT / "horizon", ROOT / "functions"]
"""Where a saved change restarts the functions (RELOAD_DIRS, separated by the path separator, overrides it)."""

LOCAL_ENV = {
    "EVENTS_TABLE": resource_names.EVENTS_TABLE,
    "READ_TABLE": resource_names.READ_TABLE,
    "POWERTOOLS_SERVICE_NAME": "horizon-local",
    # Readable lines instead of JSON (functions/observability.py); EMF metrics would only be noise here.
    "HORIZON_LOG_FORMAT": "text",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


TEST_DOMAIN = "HORIZON_LOCAL_DOMAIN"
"""A module to compose the local functions from instead of `domain` (a test's poisoned projector)."""


def _setup(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--functions", action="store_true", help=argparse.SUPPRESS)  # the child's mode
    parser.add_argument("--dead-letters", action="store_true", help="list the running stack's dead letters")
    parser.add_argument("--redrive", action="store_true", help="hand the dead letters to their consumers again")
    args = parser.parse_args(argv)
    for name, value in LOCAL_ENV.items():
        os.environ.setdefault(name, value)
    from horizon.local.fake_aws import use_fake_aws

    # Credentials from the developer's shell must never reach a real account from here.
    use_fake_aws()
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("botocore", "urllib3", "werkzeug", "watchfiles"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return args


def main(argv: list[str] | None = None) -> int:
    """Start the data plane and the functions; run until interrupted, then save the data."""
    args = _setup(argv)
    if args.functions:
        return serve_functions(args.host, args.port)
    if args.dead_letters or args.redrive:
        return dead_letters(redrive=args.redrive)
    from horizon.local.dataplane import DataPlane
    from horizon.local.supervisor import Supervisor, python_command

    data_dir = Path(os.environ.get("HORIZON_LOCAL_DATA", ROOT / ".local" / "data"))
    data_port = int(os.environ.get("DYNAMODB_PORT", "8000"))
    plane = DataPlane("127.0.0.1", data_port, data_dir, interval=float(os.environ.get("SNAPSHOT_SECONDS", "10")))
    try:
        plane.start()
    except OSError as error:
        print(
            f"cannot listen on 127.0.0.1:{data_port}: {error.strerror}; set DYNAMODB_PORT to another port",
            file=sys.stderr,
        )
        return 1
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    try:
        _prepare(plane.endpoint_url)
        reload = os.environ.get("RELOAD", "1") != "0"
        reloading = "code under domain/, horizon/ and functions/ reloads on save" if reload else "reload is off"
        print(
            f"Horizon local stack: http://{args.host}:{args.port}  (GUEST_LIMIT={os.environ.get('GUEST_LIMIT', '2')};"
            " Ctrl-C stops)\n"
            f"  data: {plane.endpoint_url} ({'restored from' if plane.restored else 'new in'} {data_dir};"
            " make reset deletes it)\n"
            f"  try:  aws dynamodb scan --table-name {os.environ['EVENTS_TABLE']} --endpoint-url {plane.endpoint_url}"
            f" --region us-east-1\n  {reloading}",
            flush=True,
        )
        env = {**os.environ, "DYNAMODB_ENDPOINT_URL": plane.endpoint_url}
        supervisor = Supervisor(
            python_command("functions.local", "--functions", "--host", args.host, "--port", str(args.port)),
            env,
            [Path(p) for p in os.environ.get("RELOAD_DIRS", "").split(os.pathsep) if p] or WATCHED,
        )
        return supervisor.run(stopped, reload=reload)
    finally:
        plane.stop()


def _prepare(endpoint_url: str) -> None:
    """Create what the functions need in the data plane, unless a restored snapshot already has it."""
    import boto3

    from functions.composition import Settings
    from horizon.dynamodb.datakeys import create_local_keys
    from horizon.dynamodb.tables import create_tables
    from horizon.local.checkpoints import TableCheckpoints
    from horizon.local.deadletters import QueueDeadLetters
    from horizon.local.fanout import LocalFanout
    from horizon.secrets import create_local_secret

    client = boto3.client("dynamodb", endpoint_url=endpoint_url)
    if os.environ["EVENTS_TABLE"] not in client.list_tables()["TableNames"]:
        create_tables(client, os.environ["EVENTS_TABLE"], os.environ["READ_TABLE"])
    settings = Settings.from_env()
    if settings.keys_table not in client.list_tables()["TableNames"]:
        kms = boto3.client("kms", endpoint_url=endpoint_url)
        create_local_keys(client, kms, settings.keys_table, settings.kms_key_id)
    secrets = boto3.client("secretsmanager", endpoint_url=endpoint_url)
    if not secrets.list_secrets(Filters=[{"Key": "name", "Values": [settings.claims_secret_id]}])["SecretList"]:
        # Generated once and kept with the data, as on AWS: a new key would orphan every stored claim.
        create_local_secret(secrets, settings.claims_secret_id)
    TableCheckpoints(client).create_table()
    _ = QueueDeadLetters(boto3.client("sqs", endpoint_url=endpoint_url)).url
    fanout = LocalFanout(boto3.client("sqs", endpoint_url=endpoint_url))
    fanout.create(queued_types(settings.guest_limit), receives=local_redelivery().attempts)


def queued_types(guest_limit: int) -> dict[str, EventTypes]:
    """What each queued function reacts to, in the domain the local functions run: what its queue is sent."""
    from functions import subscriptions

    domain = os.environ.get(TEST_DOMAIN, "domain")  # the functions run the test domain's consumers, if any
    return {name: subscriptions.reacts_to(name, guest_limit, domain) for name in subscriptions.QUEUED}


def dispatch_locally(fanout: LocalFanout, guest_limit: int) -> None:
    """Give this process's dispatcher the environment the stack gives it: each queued consumer's queue and types."""
    os.environ.update(fanout.environment(queued_types(guest_limit)))


def dead_letters(*, redrive: bool) -> int:
    """`make dead-letters` / `make redrive`: against the running stack's data plane (DYNAMODB_PORT)."""
    import boto3

    from functions import subscriptions
    from functions.composition import Settings
    from horizon.local import redrive as local_redrive
    from horizon.local.deadletters import QueueDeadLetters
    from horizon.local.fanout import LocalFanout

    endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL") or f"http://127.0.0.1:{os.environ.get('DYNAMODB_PORT', '8000')}"
    os.environ["DYNAMODB_ENDPOINT_URL"] = endpoint
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    queue = QueueDeadLetters(sqs)
    fanout = LocalFanout(sqs)
    dispatch_locally(fanout, Settings.from_env().guest_limit)  # re-driving the fan-out's own letters sends
    queued = fanout.dead_letter_queues()
    names = (*subscriptions.STREAM_READERS, *subscriptions.QUEUED)
    handlers = {name.lower(): handler_of(name) for name in names}
    if redrive:
        streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
        done, failing = local_redrive.redrive(queue, streams, handlers)
        for consumer, url in queued.items():
            if consumer not in handlers:
                print(f"{url}: {consumer} is no consumer of this stack any more; its letters stay", file=sys.stderr)
                continue
            healed, still = local_redrive.redrive_queue(QueueDeadLetters(sqs, url=url), consumer, handlers[consumer])
            done, failing = done + healed, failing + still
        print(f"re-drove {done} dead letters; {failing} still failing (kept in the queue)")
        return 0 if failing == 0 else 2
    letters = local_redrive.dead_letters(queue)
    for letter in letters:
        print(f"{letter.consumer}\t{letter.sequence_number}\t{letter.attempts} attempts\t{letter.shard_id}")
    count = len(letters)
    for consumer, url in queued.items():
        for held in local_redrive.queue_letters(QueueDeadLetters(sqs, url=url), consumer):
            print(f"{held.consumer}\t{held.commit}\t{held.attempts} attempts\t{url}")
            count += 1
    print(f"{count} dead letters in {queue.url} and {len(queued)} consumer dead-letter queues")
    return 0


def local_redelivery() -> RetryPolicy:
    """How often a failed record or message is delivered before it is dead-lettered: `LOCAL_STREAM_RETRIES`
    retries (fewer than on AWS: tests, demos), else the stack's."""
    from horizon.retry import STREAM_REDELIVERY

    retries = os.environ.get("LOCAL_STREAM_RETRIES")
    return replace(STREAM_REDELIVERY, attempts=1 + int(retries)) if retries else STREAM_REDELIVERY


def handler_of(name: str) -> Any:
    """The Lambda handler of a function by its stack name (Saga → functions.saga.handler)."""
    import importlib

    return importlib.import_module(f"functions.{name.lower()}").handler


def serve_functions(host: str, port: int) -> int:
    """The child: front door, poller and functions against the data plane at DYNAMODB_ENDPOINT_URL."""
    from horizon.local.supervisor import CANNOT_LISTEN, exit_with_parent

    exit_with_parent()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack: a stuck poller, say
    import boto3
    from botocore.config import Config

    from functions import composition, subscriptions
    from functions.api import OPEN_ROUTES
    from functions.routes import function_for
    from horizon.dynamodb.streams import is_commit_record
    from horizon.local.auth import authorizer, signing_key
    from horizon.local.checkpoints import TableCheckpoints
    from horizon.local.deadletters import QueueDeadLetters
    from horizon.local.environments import Environments, preload
    from horizon.local.fanout import LocalFanout
    from horizon.local.poller import StreamPoller, Subscription
    from horizon.local.queues import QueuePoller
    from horizon.local.server import serve
    from horizon.retry import AWS_RETRIES

    endpoint = composition.Settings.from_env().endpoint_url
    config = Config(retries=AWS_RETRIES, max_pool_connections=16)  # type: ignore[arg-type]
    sqs = boto3.client("sqs", endpoint_url=endpoint, config=config)
    fanout = LocalFanout(sqs)
    dispatch_locally(fanout, composition.Settings.from_env().guest_limit)
    settings = composition.Settings.from_env()
    client = boto3.client("dynamodb", endpoint_url=endpoint, config=config)
    # A test composition (tests/e2e/poisoned_domain.py) loads only here: the Lambda handlers never read this variable.
    composition.use(composition.Container(settings, client, domain=os.environ.get(TEST_DOMAIN, "domain")))
    limit = int(os.environ.get("LOCAL_CONCURRENCY", "8"))
    preload("functions.local_preload")
    functions = {
        "command-api": Environments("functions.command_api:handler", limit),
        "query-api": Environments("functions.query_api:handler", limit),
    }
    stream_arn = client.describe_table(TableName=settings.events_table)["Table"]["LatestStreamArn"]
    dead_letters = QueueDeadLetters(sqs)
    redelivery = local_redelivery()
    # One poller (one thread) per event source mapping, as each polls on its own on AWS: a slow saga does not
    # hold the projector back. The stream has its two readers, as on the stack; every other consumer reads
    # its own queue of the fan-out (functions/subscriptions.py).
    pollers: list[StreamPoller | QueuePoller] = [
        StreamPoller(
            boto3.client("dynamodbstreams", endpoint_url=endpoint, config=config),
            stream_arn,
            [Subscription(name.lower(), handler_of(name), accepts=is_commit_record)],
            checkpoints=TableCheckpoints(client),
            dead_letters=dead_letters,
            retry=redelivery,
        )
        for name in subscriptions.STREAM_READERS
    ]
    for name in subscriptions.QUEUED:
        url = fanout.queue_url(name)
        pollers.append(QueuePoller(sqs, name.lower(), url, fanout.arn(url), handler_of(name), retry=redelivery))

    # The HTTP API's JWT authorizer, in front of the functions, with the development key `make token` signs with.
    gateway = authorizer(signing_key(), OPEN_ROUTES)
    gated = {name: gateway(environments) for name, environments in functions.items()}

    def route(method: str, path: str) -> tuple[str, Any]:
        name = function_for(method, path)
        return name, gated[name]

    try:
        server = serve(host, port, route)
    except OSError as error:
        print(f"cannot listen on {host}:{port}: {error.strerror}; set PORT to another port", file=sys.stderr)
        return CANNOT_LISTEN
    for poller in pollers:
        poller.start()
    for warming in functions.values():
        threading.Thread(target=warming.warm, daemon=True).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    logging.getLogger(__name__).info("functions ready on http://%s:%d", host, port)
    stopped.wait()
    server.shutdown()
    for poller in pollers:
        poller.stop()
    for environments in functions.values():
        environments.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
