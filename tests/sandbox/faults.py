"""Fault knobs of the sandbox: all off by default, deterministic (request counters, seeded ids).

Knobs (set with CLI flags, SANDBOX_* environment variables or ``POST /_sandbox/faults``):

- ``replication_delay`` (seconds): a newly created object is not visible for that long: GET/PATCH of
  it answer 404, creating a service principal for a new app answers 400 NoBackingApplicationObject,
  a new password credential's keyId is missing from GET, an assignment naming a new principal or
  resource answers 400 "Not a valid reference update".
- ``throttle_every`` (N): every Nth faultable request answers 429 with ``Retry-After``.
- ``throttle_batch_every`` (N): every Nth sub-request of a ``$batch`` answers 429 with ``Retry-After``
  (counted on their own; 1: a sub-request is throttled whenever it travels in a ``$batch``, and only then).
- ``unavailable_every`` (N): every Nth faultable request answers 503 with ``Retry-After``.
- ``timeout_after_write_every`` (N): every Nth write is carried out and then answered 504, so a
  client that blindly re-sends a create makes a duplicate.
- ``reject_writes`` (0 or 1): SmartTrace PUT and PATCH with a valid body answer 422 ``validation_failed``
  naming the body's first property, like a rule of the vendor that a client cannot check beforehand.
- ``retry_after`` (seconds, default 1): the Retry-After value sent with 429 and 503.
- ``page_size`` (default 100): the page size of Graph collections (``$top`` may ask for less).
- ``seed`` (default 0): seeds the generator of ids and secrets, so a run is repeatable.

Faultable requests are Graph requests (each sub-request of a ``$batch`` counts on its own) and
SmartTrace requests; login and ``/_sandbox`` requests are never faulted.
"""
from __future__ import annotations

import dataclasses
import os
import threading

from .http import Response, is_write

FAULTABLE_SURFACES = ("graph", "smarttrace")


@dataclasses.dataclass
class FaultConfig:
    replication_delay: float = 0.0
    throttle_every: int = 0
    throttle_batch_every: int = 0
    unavailable_every: int = 0
    timeout_after_write_every: int = 0
    reject_writes: int = 0
    retry_after: int = 1
    page_size: int = 100
    seed: int = 0

    @classmethod
    def from_env(cls, environ=None) -> "FaultConfig":
        environ = os.environ if environ is None else environ
        values = {}
        for field in dataclasses.fields(cls):
            raw = environ.get("SANDBOX_" + field.name.upper())
            if raw not in (None, ""):
                values[field.name] = float(raw) if field.type in (float, "float") else int(raw)
        return cls(**values)

    def updated(self, changes: dict) -> "FaultConfig":
        known = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError("unknown fault knob(s): %s; known: %s" % (", ".join(unknown), ", ".join(sorted(known))))
        values = dataclasses.asdict(self)
        for name, value in changes.items():
            values[name] = float(value) if known[name].type in (float, "float") else int(value)
        return FaultConfig(**values)


class Faults:
    """Decides, per request, whether a fault replaces the real answer."""

    def __init__(self, config: FaultConfig | None = None):
        self._lock = threading.Lock()
        self.config = config or FaultConfig()
        self.requests = 0
        self.batch_requests = 0
        self.writes = 0
        self.injected = {"429": 0, "503": 0, "504": 0}

    def configure(self, changes: dict) -> FaultConfig:
        with self._lock:
            self.config = self.config.updated(changes)
            self.requests = 0
            self.batch_requests = 0
            self.writes = 0
            return self.config

    def reset(self, config: FaultConfig | None = None) -> None:
        with self._lock:
            self.config = config or FaultConfig()
            self.requests = 0
            self.batch_requests = 0
            self.writes = 0
            self.injected = {"429": 0, "503": 0, "504": 0}

    def before(self, surface: str, method: str, in_batch: bool = False) -> Response | None:
        """Call before handling a faultable request (``in_batch``: a ``$batch`` sub-request); a Response means: answer this instead."""
        if surface not in FAULTABLE_SURFACES:
            return None
        with self._lock:
            self.requests += 1
            n, cfg = self.requests, self.config
            if in_batch and cfg.throttle_batch_every:
                self.batch_requests += 1
                if self.batch_requests % cfg.throttle_batch_every == 0:
                    self.injected["429"] += 1
                    return _fault(surface, 429, cfg.retry_after)
            if cfg.throttle_every and n % cfg.throttle_every == 0:
                self.injected["429"] += 1
                return _fault(surface, 429, cfg.retry_after)
            if cfg.unavailable_every and n % cfg.unavailable_every == 0:
                self.injected["503"] += 1
                return _fault(surface, 503, cfg.retry_after)
        return None

    def after_write(self, surface: str, method: str, response: Response) -> Response:
        """Call after a faultable request was carried out; may swap a success for a 504."""
        if surface not in FAULTABLE_SURFACES or not is_write(method) or response.status >= 400:
            return response
        with self._lock:
            self.writes += 1
            cfg = self.config
            if cfg.timeout_after_write_every and self.writes % cfg.timeout_after_write_every == 0:
                self.injected["504"] += 1
                return _fault(surface, 504, None)
        return response

    @property
    def replication_delay(self) -> float:
        return self.config.replication_delay

    @property
    def page_size(self) -> int:
        return self.config.page_size


_MESSAGES = {
    429: ("TooManyRequests", "throttled", "Too many requests. Retry after the time given in Retry-After."),
    503: ("serviceNotAvailable", "internal", "The service is temporarily unavailable. Please retry later."),
    504: ("UnknownError", "internal", "The gateway did not receive a timely response."),
}


def _fault(surface: str, status: int, retry_after: int | None) -> Response:
    graph_code, smarttrace_code, message = _MESSAGES[status]
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if surface == "graph":
        body = {"error": {"code": graph_code, "message": message, "innerError": {}}}
    else:
        body = {"error": {"code": smarttrace_code, "message": message, "field": None}}
    return Response(status, body, headers)
