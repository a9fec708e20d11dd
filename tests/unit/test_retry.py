"""The one retry policy: bounded attempts, capped exponential backoff, full jitter, the last error raised."""

from __future__ import annotations

import pytest

from horizon.retry import READ_WAIT, RetryPolicy


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise TimeoutError(f"failure {self.calls}")
        return "done"


def test_an_operation_that_recovers_returns_after_one_pause_per_failure() -> None:
    sleeps: list[float] = []
    flaky = Flaky(failures=2)

    result = RetryPolicy(attempts=3, base_seconds=0.1, cap_seconds=1).run(flaky, TimeoutError, sleep=sleeps.append)

    assert (result, flaky.calls, len(sleeps)) == ("done", 3, 2)


def test_each_retried_failure_is_reported_with_its_attempt_number() -> None:
    heard: list[tuple[str, int]] = []
    policy = RetryPolicy(attempts=3, base_seconds=0.1, cap_seconds=1)

    with pytest.raises(TimeoutError):
        policy.run(
            Flaky(failures=5), TimeoutError, sleep=lambda s: None, on_retry=lambda e, n: heard.append((str(e), n))
        )

    assert heard == [("failure 1", 1), ("failure 2", 2)]


def test_the_last_attempts_error_is_raised_as_it_is() -> None:
    flaky = Flaky(failures=5)

    with pytest.raises(TimeoutError, match="failure 3"):
        RetryPolicy(attempts=3, base_seconds=0.1, cap_seconds=1).run(flaky, TimeoutError, sleep=lambda s: None)


def test_other_errors_are_not_retried() -> None:
    flaky = Flaky(failures=1)

    with pytest.raises(TimeoutError):
        RetryPolicy(attempts=3, base_seconds=0.1, cap_seconds=1).run(flaky, KeyError, sleep=lambda s: None)
    assert flaky.calls == 1


def test_pauses_double_up_to_the_cap_and_jitter_stays_below_the_ceiling() -> None:
    policy = RetryPolicy(attempts=10, base_seconds=0.1, cap_seconds=0.5, jitter=False)

    assert [policy.pause(n) for n in range(1, 6)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    jittered = RetryPolicy(attempts=10, base_seconds=0.1, cap_seconds=0.5)
    assert jittered.pause(3, uniform=lambda low, high: high) == pytest.approx(0.4)
    assert jittered.pause(3, uniform=lambda low, high: low) == 0


def test_the_read_wait_grows_without_jitter_to_a_quarter_second() -> None:
    assert [READ_WAIT.pause(n) for n in range(1, 6)] == [0.02, 0.04, 0.08, 0.16, 0.25]
