"""The local front door under a burst, beside waiting reads, with odd methods, and what it writes to its log."""

from __future__ import annotations

import http.client
import re
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.conftest import LocalStack, local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

CLIENTS = 100


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("front-door")) as stack:
        yield stack


def test_a_burst_of_a_hundred_clients_is_served_without_a_refused_or_reset_connection(local: LocalStack) -> None:
    start = threading.Barrier(CLIENTS)

    def one_client(_: int) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", local.port, timeout=30)
        start.wait()
        try:
            connection.request("GET", "/health")
            return connection.getresponse().status
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = list(pool.map(one_client, range(CLIENTS)))  # a reset or refusal would raise here
    assert statuses == [200] * CLIENTS


def test_health_answers_while_four_reads_wait_for_projections(local: LocalStack) -> None:
    client = local.client
    assert client.get("/health").status == 200
    waits = [f"/invitations/{uuid.uuid4()}?min_version=5" for _ in range(4)]  # never projected: a 2 s wait each
    with ThreadPoolExecutor(max_workers=4) as pool:
        waiting = [pool.submit(client.get, path) for path in waits]
        time.sleep(0.5)
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            assert client.get("/health").status == 200
            timings.append(time.perf_counter() - started)
            assert not all(w.done() for w in waiting), "the reads stopped waiting before health was measured"
        assert [w.result().status for w in waiting] == [404] * 4
    # Not a timing target: a health check queued behind the waiting reads would take their 2 s.
    assert statistics.median(timings) < 0.5, timings


def test_a_method_the_api_does_not_list_is_a_405_problem_not_an_html_page(local: LocalStack) -> None:
    answer = local.client.request("TRACE", "/health")
    assert answer.status == 405
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["Allow"] == "GET"
    assert "TRACE" in answer.body["detail"]


def test_the_log_has_one_access_line_per_request_and_one_line_per_consumer_batch(local: LocalStack) -> None:
    client, marker = local.client, uuid.uuid4()
    assert client.command("CreateInvite", id=str(marker), name="Logged").status == 200
    assert client.get(f"/invitations/{marker}?min_version=1").status == 200
    # The saga's queue receives acceptances only (its subscription's filter): one makes it run a batch.
    assert client.command("AcceptInvite", id=str(marker)).status == 200
    expected = [
        r'command-api "POST /commands/CreateInvite" 200 \d+ \d+ ms',
        rf'query-api "GET /invitations/{marker}\?min_version=1" 200 \d+ \d+ ms',
        r"INFO horizon\.local\.poller: projector: \d+ records in \d+ ms, 0 failed",
        r"INFO horizon\.local\.poller: fanout: \d+ records in \d+ ms, 0 failed",
        r"INFO horizon\.local\.queues: saga: \d+ messages in \d+ ms, 0 failed",
    ]

    def logged() -> str | None:  # each line is written just after its answer is sent
        log = local.log.read_text()
        return log if all(re.search(pattern, log) for pattern in expected) else None

    log = client.wait_for(logged, "the access and batch lines")
    assert len(re.findall(expected[1], log)) == 1


def test_log_level_warning_silences_the_access_lines(tmp_path: Path) -> None:
    with local_stack(tmp_path, LOG_LEVEL="WARNING") as stack:
        assert stack.client.get("/guestlist").status == 200
        log = stack.log.read_text()
    assert "GET /guestlist" not in log
    assert " INFO " not in log
