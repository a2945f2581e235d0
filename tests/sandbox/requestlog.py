"""The request log: one JSON object per line in ``<state>/requests.jsonl``, secrets masked.

Each line: ``time``, ``surface``, ``method``, ``path``, ``query`` (object), ``body``, ``status``,
``client_request_id`` (the caller's header, or null) and ``request_id`` (the sandbox's).
The Authorization header is never logged. Masking replaces only string leaves whose key names a
secret; objects and lists keep their shape, so a logged Graph body can still be checked against
the Graph schema (``passwordProfile`` stays an object, its ``password`` becomes ``"***"``).
"""
from __future__ import annotations

import datetime
import json
import os
import pathlib
import threading
import typing as t

MASK = "***"
SECRET_KEYS = frozenset((
    "client_secret", "secretText", "password", "access_token", "refresh_token", "client_assertion",
    "api_token", "smarttrace_token",
))


def _is_secret(key: t.Any, item: t.Any) -> bool:
    """A string leaf under a secret key (objects and lists under such keys are walked, not replaced)."""
    return key in SECRET_KEYS and isinstance(item, str)


def mask(value: t.Any) -> t.Any:
    """A copy of value in which every string under a secret key is replaced by ``"***"``."""
    if isinstance(value, dict):
        return {key: MASK if _is_secret(key, item) else mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask(item) for item in value]
    return value


def secret_values(value: t.Any) -> set[str]:
    """Every non-empty string found under a secret key in value (to scrub free text such as tracebacks)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_secret(key, item):
                found.add(item)
            else:
                found |= secret_values(item)
    elif isinstance(value, list):
        for item in value:
            found |= secret_values(item)
    return found


def scrub(text: str, secrets: t.Iterable[str]) -> str:
    """text with every occurrence of the given (non-empty) secrets replaced by ``"***"``, longest first."""
    for secret in sorted({secret for secret in secrets if secret}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class RequestLog:
    """Appends request records to a JSON-lines file; safe to call from many threads."""

    def __init__(self, path: pathlib.Path | str):
        self.path = pathlib.Path(path)
        self._lock = threading.Lock()

    def record(self, surface: str, method: str, path: str, query: dict | None, body: t.Any, status: int,
               client_request_id: str | None, request_id: str | None = None) -> dict:
        """Append one (masked) record and return it."""
        entry = {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "surface": surface,
            "method": method,
            "path": path,
            "query": mask(dict(query or {})),
            "body": mask(body),
            "status": status,
            "client_request_id": client_request_id,
            "request_id": request_id,
        }
        line = (json.dumps(entry, separators=(",", ":"), default=str) + "\n").encode()
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line)
            finally:
                os.close(descriptor)
        return entry

    def read(self) -> list[dict]:
        """All records so far (for tests)."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]
