"""Helpers for the Entra ID tests: a tenant (directory, login, Graph) driven directly, without the HTTPS server.

``Tenant(tmp_path)`` builds the three parts on a controllable clock; ``tenant.call(...)`` sends one Graph
request with a bearer token from the real token endpoint and records it in the request-log format the
Graph conformance checker reads (``method``, ``path``, ``query``, ``body``, ``status``).
"""
from __future__ import annotations

import json
import pathlib
import typing as t

from sandbox.directory import Directory
from sandbox.faults import FaultConfig, Faults
from sandbox.graph import GraphSurface
from sandbox.http import Request, Response
from sandbox.login import LoginSurface

BASE = "https://127.0.0.1:8443"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
START = 1_780_000_000.0     # 2026-05-28T20:26:40Z


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = START):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Tenant:
    """Directory + login + Graph surfaces on a fake clock, with helpers to call them."""

    def __init__(self, tmp_path: pathlib.Path, seed: int = 0, **knobs: t.Any):
        self.clock = FakeClock()
        self.faults = Faults(FaultConfig(**knobs))
        self.state_dir = tmp_path / "state"
        self.directory = Directory(self.state_dir, self.faults, seed=seed, clock=self.clock)
        self.login = LoginSurface(self.directory)
        self.graph = GraphSurface(self.directory, self.faults)
        self.fields = self.directory.endpoint_fields()
        self.log: list[dict] = []
        self._tokens: dict[tuple[str, str], str] = {}

    # ---- login
    def token_request(self, form: dict | None, tenant: str | None = None, method: str = "POST", headers: dict | None = None,
                      path: str | None = None) -> Response:
        tenant = tenant or self.fields["tenant_id"]
        req = Request(method=method, path=path or "/%s/oauth2/v2.0/token" % tenant, query={}, headers={k.lower(): v for k, v in (headers or {}).items()},
                      body=form, base_url=BASE, surface="login")
        return self.login.handle(req)

    def login_get(self, path: str, query: dict | None = None, headers: dict | None = None) -> Response:
        req = Request(method="GET", path=path, query=query or {}, headers={k.lower(): v for k, v in (headers or {}).items()}, base_url=BASE,
                      surface="login")
        return self.login.handle(req)

    def secret_form(self, client_id: str | None = None, secret: str | None = None, scope: str = GRAPH_SCOPE) -> dict:
        return {"grant_type": "client_credentials", "client_id": client_id or self.fields["client_id"],
                "client_secret": secret or self.fields["client_secret"], "scope": scope}

    def token(self, client_id: str | None = None, secret: str | None = None, fresh: bool = False) -> str:
        key = (client_id or self.fields["client_id"], secret or self.fields["client_secret"])
        if fresh or key not in self._tokens:
            response = self.token_request(self.secret_form(*key))
            assert response.status == 200, response.body
            self._tokens[key] = response.body["access_token"]
        return self._tokens[key]

    def limited_token(self) -> str:
        return self.token(self.fields["limited_client_id"], self.fields["limited_client_secret"])

    def set_roles(self, roles: list[str]) -> str:
        """Give the automation app exactly these Graph roles and return a new token carrying them.

        The default token (``token()``) is fetched first, so it keeps the seeded roles.
        """
        self.token()
        response = self.directory.admin("set-graph-roles", {"client_id": self.fields["client_id"], "roles": roles})
        assert response.status == 200, response.body
        response = self.token_request(self.secret_form())
        assert response.status == 200, response.body
        return response.body["access_token"]

    # ---- Graph
    def request(self, method: str, path: str, body: t.Any = None, query: dict | None = None, headers: dict | None = None) -> Request:
        full = path if path.startswith("/v1.0") else "/v1.0" + path
        return Request(method=method, path=full, query=dict(query or {}), headers={k.lower(): v for k, v in (headers or {}).items()}, body=body,
                       base_url=BASE, surface="graph")

    def call(self, method: str, path: str, body: t.Any = None, query: dict | None = None, headers: dict | None = None,
             token: str | None = "default") -> Response:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers.setdefault("Authorization", "Bearer " + (self.token() if token == "default" else token))
        req = self.request(method, path, body, query, all_headers)
        response = self.graph.handle(req)
        record = {"method": req.method, "path": req.path, "query": req.query, "status": response.status}
        if body is not None:
            record["body"] = body
        self.log.append(record)
        if not isinstance(response.body, bytes):
            json.dumps(response.body)   # every answer must be JSON-able
        return response

    def ok(self, method: str, path: str, body: t.Any = None, query: dict | None = None, headers: dict | None = None, status: int | None = None,
           token: str | None = "default") -> t.Any:
        response = self.call(method, path, body, query, headers, token)
        expected = status or {"POST": 201, "PATCH": 204, "DELETE": 204}.get(method, 200)
        assert response.status == expected, (response.status, response.body)
        return response.body

    def fails(self, status: int, method: str, path: str, body: t.Any = None, query: dict | None = None, headers: dict | None = None,
              token: str | None = "default") -> dict:
        """The ``error`` object of an answer that must have this status."""
        response = self.call(method, path, body, query, headers, token)
        assert response.status == status, (response.status, response.body)
        assert set(response.body) == {"error"}, response.body
        return response.body["error"]

    # ---- seeded objects
    @property
    def automation_sp(self) -> dict:
        return self.directory.automation_sp

    @property
    def graph_sp_id(self) -> str:
        return self.directory.graph_sp_id

    def user(self, nickname: str) -> dict:
        return self.directory.user_by_upn("%s@contoso.onmicrosoft.com" % nickname)

    def group(self, name: str) -> dict:
        return next(g for g in self.directory.groups.values() if g["displayName"] == name)

    def new_app(self, name: str = "SmartTrace SSO", **extra: t.Any) -> dict:
        return self.ok("POST", "/applications", dict({"displayName": name}, **extra))

    def new_app_with_sp(self, name: str = "SmartTrace SSO", **extra: t.Any) -> tuple[dict, dict]:
        app = self.new_app(name, **extra)
        sp = self.ok("POST", "/servicePrincipals", {"appId": app["appId"]})
        return app, sp


def strong_password() -> str:
    return "Xw7!kq2Lp#9z"


def new_user_body(upn: str = "jdoe@contoso.example", **extra: t.Any) -> dict:
    body = {"accountEnabled": True, "displayName": "Jane Doe", "mailNickname": upn.split("@")[0], "userPrincipalName": upn,
            "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": strong_password()}}
    body.update(extra)
    return body
