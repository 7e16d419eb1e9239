"""Retry rules shared by the sync hook and the async hook: what to retry, how long to wait."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total time.

    :param max_retries: retries after the first attempt (0 disables retrying).
    :param max_seconds: total time budget for one call including waits.
    :param base_delay: first backoff step in seconds.
    :param max_delay: cap on one wait (``Retry-After`` is honoured up to the remaining budget).
    """

    max_retries: int = 6
    max_seconds: float = 300.0
    base_delay: float = 0.5
    max_delay: float = 30.0

    @classmethod
    def default(cls) -> RetryPolicy:
        return cls()

    def with_overrides(self, *, max_retries: int | None = None, max_seconds: float | None = None) -> RetryPolicy:
        """This policy with the connection's or the task's bounds (``None`` keeps this policy's)."""
        return replace(
            self,
            max_retries=self.max_retries if max_retries is None else max(0, int(max_retries)),
            max_seconds=self.max_seconds if max_seconds is None else max(0.0, float(max_seconds)),
        )

    def start(self) -> RetryBudget:
        return RetryBudget(self, time.monotonic())


@dataclass
class RetryBudget:
    """The state of one call's retries."""

    policy: RetryPolicy
    started: float
    retries: int = 0

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` when the budget is spent."""
        if self.retries >= self.policy.max_retries:
            return None
        remaining = self.policy.max_seconds - (time.monotonic() - self.started)
        backoff = min(self.policy.max_delay, self.policy.base_delay * (2**self.retries))
        delay = random.uniform(backoff / 2, backoff)  # jitter: spread concurrent clients apart
        if retry_after is not None:
            delay = max(delay, retry_after)
        if delay > remaining:
            return None
        self.retries += 1
        return delay


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
