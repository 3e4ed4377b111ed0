"""Per-operation fault injection: latency, a token-bucket TPS limit, and injected errors.

Rates and latency use real (monotonic) time, not the emulator clock: they model the service's
behaviour under load, which is what the benchmarks measure.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

#: Operation key that matches every ECR operation (other services are addressed as "sqs:*").
ALL_OPERATIONS = "*"

#: HTTP status per injected error code; unknown codes are client errors (400).
_ERROR_STATUS = {
    "ServerException": 500,
    "InternalFailure": 500,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "ServiceUnavailableException": 503,
    "ThrottlingException": 400,
}


def status_for(error_code: str) -> int:
    return _ERROR_STATUS.get(error_code, 400)


@dataclass
class InjectedFault:
    """What the dispatcher must do with one call: sleep, then maybe answer with an error."""

    latency: float = 0.0
    error_code: str | None = None
    message: str = ""

    @property
    def status(self) -> int:
        return status_for(self.error_code or "ServerException")


@dataclass
class FaultRule:
    operation: str
    latency: float = 0.0
    tps: float | None = None
    error_rate: float = 0.0
    error_code: str = "ServerException"
    burst: int | None = None
    count: int | None = None
    _tokens: float = field(default=0.0, repr=False)
    _refilled_at: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError("latency must be >= 0")
        if self.tps is not None and self.tps <= 0:
            raise ValueError("tps must be > 0")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be within [0, 1]")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be >= 0")
        self._tokens = float(self.capacity)

    @property
    def capacity(self) -> float:
        if self.burst is not None:
            return float(max(1, self.burst))
        return max(1.0, self.tps or 1.0)

    def take_token(self) -> bool:
        """Token bucket: ``tps`` tokens per second, at most ``burst`` saved up."""
        if self.tps is None:
            return True
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._refilled_at) * self.tps)
        self._refilled_at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class FaultInjector:
    """The ``emu.faults`` object. Thread-safe: the server answers calls on many threads."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, FaultRule] = {}
        self._random = random.Random(seed)
        self._seed = seed
        self.throttled: Counter[str] = Counter()

    def set(
        self,
        operation: str,
        *,
        latency: float = 0.0,
        tps: float | None = None,
        error_rate: float = 0.0,
        error_code: str = "ServerException",
        burst: int | None = None,
        count: int | None = None,
    ) -> FaultRule:
        """Replace the fault rule for ``operation`` (an API name such as ``UpdateImageStorageClass``,
        ``"*"`` for every ECR operation, or ``"service:Action"`` / ``"service:*"`` for other services).
        ``count=N`` fails exactly the next N calls with ``error_code``; ``error_rate`` draws from a
        seeded random generator so runs are reproducible."""
        rule = FaultRule(operation, latency, tps, error_rate, error_code, burst, count)
        with self._lock:
            self._rules[operation] = rule
        return rule

    def clear(self, operation: str | None = None) -> None:
        with self._lock:
            if operation is None:
                self._rules.clear()
            else:
                self._rules.pop(operation, None)

    def reset(self) -> None:
        with self._lock:
            self._rules.clear()
            self._random = random.Random(self._seed)
            self.throttled.clear()

    def rules(self) -> dict[str, FaultRule]:
        with self._lock:
            return dict(self._rules)

    def _matching(self, key: str, service: str) -> list[FaultRule]:
        candidates = [key]
        if service == "ecr":
            candidates.append(ALL_OPERATIONS)
        else:
            candidates.append(f"{service}:*")
        return [self._rules[c] for c in candidates if c in self._rules]

    def decide(self, key: str, service: str) -> InjectedFault | None:
        """Consult the rules for one incoming call. ``key`` is the counted operation name."""
        with self._lock:
            rules = self._matching(key, service)
            if not rules:
                return None
            fault = InjectedFault(latency=max(r.latency for r in rules))
            for rule in rules:
                if not rule.take_token():
                    self.throttled[key] += 1
                    fault.error_code = "ThrottlingException"
                    fault.message = "Rate exceeded"
                    return fault
            for rule in rules:
                if rule.count is not None:
                    # count=N bounds the failures: the next N calls fail, then the rule stops
                    # injecting errors even when error_rate is also set.
                    failing = rule.count > 0
                    rule.count = max(rule.count - 1, 0)
                else:
                    failing = bool(rule.error_rate) and self._random.random() < rule.error_rate
                if failing:
                    fault.error_code = rule.error_code
                    fault.message = f"Injected fault ({rule.error_code}) for {key}"
                    if rule.error_code == "ThrottlingException":
                        self.throttled[key] += 1
                    return fault
            return fault
