"""Transport-neutral request and response objects shared by every surface of the sandbox."""
from __future__ import annotations

import dataclasses
import json
import typing as t


@dataclasses.dataclass
class Request:
    """One HTTP request as a surface sees it."""

    method: str                     # upper case
    path: str                       # URL path, percent-decoded, without the query string
    query: dict[str, str]           # query options, decoded, last value wins
    headers: dict[str, str]         # header names in lower case
    body: t.Any = None              # parsed JSON, or dict for form bodies, else None
    raw_body: bytes = b""
    base_url: str = ""              # e.g. https://127.0.0.1:8443 (for absolute links)
    surface: str = ""               # login, graph, smarttrace, sandbox
    request_id: str = ""            # the sandbox's id of this request (request-id header, innerError)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclasses.dataclass
class Response:
    """What a surface answers: a JSON-able body (dict/list), raw bytes, or None for no body."""

    status: int
    body: t.Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str | None]:
        """Body bytes and content type."""
        if self.body is None:
            return b"", None
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        return json.dumps(self.body).encode(), "application/json"


def is_write(method: str) -> bool:
    return method.upper() in ("POST", "PATCH", "PUT", "DELETE")
