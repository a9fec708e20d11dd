"""A local SQS event source mapping: a consumer invoked from its FIFO queue, with partial batch responses.

Like Lambda's mapping on an SQS FIFO queue, it receives up to 10 messages, hands them to the function in the
Lambda SQS event shape, deletes the ones that succeeded, and leaves the failed ones in the queue. The queue
itself redelivers them (a FIFO queue holds back the rest of a message group while one of its messages is in
flight) and moves a message to its dead-letter queue after its redrive policy's receive count. Locally a failed
message becomes visible again after the retry policy's pause instead of the visibility timeout, so a retry
comes in about a second, as the local stream poller's do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from horizon.dynamodb.fanout import QUEUE_SOURCE
from horizon.local.fake_aws import REGION
from horizon.local.lambda_context import LocalContext
from horizon.retry import STREAM_REDELIVERY, RetryPolicy

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

logger = logging.getLogger(__name__)

QueueHandler = Callable[[dict[str, Any], Any], dict[str, Any] | None]

BATCH_SIZE = 10
VISIBILITY_SECONDS = 60
"""How long a received message stays hidden if the functions' process dies before answering for it."""


def as_lambda_record(message: MessageTypeDef, queue_arn: str) -> dict[str, Any]:
    """An SQS message in the shape Lambda hands a function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": QUEUE_SOURCE,
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class QueuePoller:
    """Polls one consumer's queue and invokes its handler until `stop()`."""

    def __init__(
        self,
        client: SQSClient,
        name: str,
        queue_url: str,
        queue_arn: str,
        handler: QueueHandler,
        *,
        retry: RetryPolicy = STREAM_REDELIVERY,
        idle_seconds: float = 0.1,
    ) -> None:
        self.name = name
        self._client = client
        self._url = queue_url
        self._arn = queue_arn
        self._handler = handler
        self._retry = retry
        self._idle = idle_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"horizon-queue-{name}", daemon=True)

    def start(self) -> None:
        """Begin polling in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the current batch to finish."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once() > 0
            except Exception:
                logger.exception("%s: queue poll failed; retrying", self.name)
                busy = False
            if not busy:
                self._stop.wait(self._idle)

    def poll_once(self) -> int:
        """Receive one batch and deliver it; return how many messages it held."""
        # No long polling: the data plane serves one request at a time, and a waiting receive would hold it.
        page = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=BATCH_SIZE,
            VisibilityTimeout=VISIBILITY_SECONDS,
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages = page.get("Messages", [])
        if not messages:
            return 0
        records = [as_lambda_record(message, self._arn) for message in messages]
        failed = self._invoke(records)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._client.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        for message in messages:
            if message["MessageId"] in failed:
                received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                pause = round(self._retry.pause(received))  # SQS counts visibility in whole seconds
                self._client.change_message_visibility(
                    QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=pause
                )
        return len(messages)

    def _invoke(self, records: list[dict[str, Any]]) -> set[str]:
        """Deliver one batch; the message ids to keep in the queue."""
        started = time.perf_counter()
        try:
            response = self._handler({"Records": records}, LocalContext(self.name)) or {}
            failed = {str(f.get("itemIdentifier")) for f in response.get("batchItemFailures", [])}
        except Exception:
            logger.exception("%s: the whole batch failed", self.name)
            failed = {str(record["messageId"]) for record in records}
        logger.info(
            "%s: %d messages in %.0f ms, %d failed",
            self.name,
            len(records),
            (time.perf_counter() - started) * 1000,
            len(failed),
        )
        return failed
