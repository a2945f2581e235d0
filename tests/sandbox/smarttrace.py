"""The SmartTrace surface: the integration API of /work/shared/reference/smarttrace-api.yaml under ``/smarttrace/v1``.

Routes: ``POST /auth/login`` (no token), then with ``Authorization: Bearer <token>``:
``GET|PUT|PATCH|DELETE /instances/{instance}/integrations/azure-ad`` and
``POST /instances/{instance}/integrations/azure-ad/test``.

Choices where the contract is silent:
- Order of checks: 401 (token) -> 404 ``not_found`` / 405 (route, method) -> 404 ``instance_not_found``
  -> 403 (viewer writes) -> 422 (body; then the ``reject_writes`` fault knob) -> 409 (state).
- An instance name that does not match the pattern answers 404 ``instance_not_found`` (never 422):
  such an instance cannot exist, and GET, DELETE and test declare no 422 in the contract.
- Malformed login bodies answer 401, as the contract declares only 401 for login.
- ``PUT`` saves and enables the integration; uuids are stored lower-case; date-times as sent.
- A ``PATCH`` with ``client_secret`` but no ``client_secret_id`` clears the stored id (only the id).
- Client secrets live only in memory; answers and snapshots carry ``client_secret_hint`` (3 chars).
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import os
import re
import secrets
import threading
import time
import typing as t

from .http import Request, Response

BASE_PATH = "/smarttrace/v1"
PUBLIC_API_URL = "https://api.smarttrace.ai/v1"
SEEDED_INSTANCES = ("acme", "globex", "initech")
# More instances for benchmarks (a fleet): SANDBOX_EXTRA_INSTANCES="fleet-01,fleet-02,..." (comma-separated names).
EXTRA_INSTANCES_VARIABLE = "SANDBOX_EXTRA_INSTANCES"
TOKEN_LIFETIME = 3600
SECRET_MIN_LENGTH, SECRET_MAX_LENGTH = 16, 256
HINT_LENGTH = 3

INSTANCE_PATTERN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
DATE_TIME_PATTERN = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)

# Request body properties and their JSON Schema kinds (smarttrace-api.yaml).
PUT_PROPERTIES = {
    "application_id": "uuid",
    "tenant_id": "uuid",
    "client_secret": "secret",
    "client_secret_id": "uuid",
    "client_secret_expires_at": "date-time",
}
PUT_REQUIRED = ("application_id", "tenant_id", "client_secret")
PATCH_PROPERTIES = dict(PUT_PROPERTIES, enabled="boolean")

ADMIN, VIEWER = "admin", "viewer"
INTEGRATION_ROUTE = "/integrations/azure-ad"
TEST_ROUTE = INTEGRATION_ROUTE + "/test"
ROUTE_METHODS = {INTEGRATION_ROUTE: ("GET", "PUT", "PATCH", "DELETE"), TEST_ROUTE: ("POST",)}


class ApiError(Exception):
    """An error answer of the SmartTrace API."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers or {}

    def response(self) -> Response:
        return Response(self.status, {"error": {"code": self.code, "message": self.message, "field": self.field}}, dict(self.headers))


@dataclasses.dataclass
class _Integration:
    enabled: bool = False
    application_id: str | None = None
    tenant_id: str | None = None
    client_secret: str | None = dataclasses.field(default=None, repr=False)
    client_secret_id: str | None = None
    client_secret_expires_at: str | None = None
    updated_at: str | None = None


@dataclasses.dataclass
class _Session:
    role: str
    expires_at: float | None  # None: an API token that does not expire


def _derived(seed: int, label: str, length: int) -> str:
    """A repeatable random-looking string for a seed (seeded credentials of the sandbox)."""
    digest = hashlib.sha256(("smarttrace-sandbox:%d:%s" % (seed, label)).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


class SmartTraceSurface:
    """In-memory SmartTrace: seeded instances, an administrator, an admin and a viewer API token."""

    def __init__(self, directory: t.Any, seed: int = 0, clock: t.Callable[[], float] = time.time, extra_instances: t.Iterable[str] | None = None):
        self.directory = directory
        if extra_instances is None:
            extra_instances = os.environ.get(EXTRA_INSTANCES_VARIABLE, "").split(",")
        self.seeded_instances = SEEDED_INSTANCES + tuple(name.strip() for name in extra_instances
                                                         if name.strip() and name.strip() not in SEEDED_INSTANCES)
        self.seed = seed
        self.clock = clock
        self.username = "sso-admin@sandbox.smarttrace.test"
        self.password = "Sbx-" + _derived(seed, "password", 20)
        self.admin_token = "st_admin_" + _derived(seed, "admin-token", 40)
        self.viewer_token = "st_viewer_" + _derived(seed, "viewer-token", 40)
        self._lock = threading.Lock()
        self._instances: dict[str, _Integration] = {}
        self._sessions: dict[str, _Session] = {}
        self.reset()

    # ------------------------------------------------------------------ sandbox interface

    def reset(self) -> None:
        """Forget every integration and login token; reseed instances and API tokens."""
        with self._lock:
            self._instances = {name: _Integration() for name in self.seeded_instances}
            self._sessions = {self.admin_token: _Session(ADMIN, None), self.viewer_token: _Session(VIEWER, None)}

    def endpoint_fields(self) -> dict:
        return {
            "smarttrace_token": self.admin_token,
            "smarttrace_viewer_token": self.viewer_token,
            "smarttrace_username": self.username,
            "smarttrace_password": self.password,
            "instances": list(self.seeded_instances),
        }

    def known_secrets(self) -> set[str]:
        """Every secret this surface holds (for scrubbing tracebacks): password, tokens, stored client secrets."""
        with self._lock:
            stored = {integration.client_secret for integration in self._instances.values() if integration.client_secret}
            return {self.password} | set(self._sessions) | stored

    def snapshot(self) -> dict:
        """State without secrets: each instance's integration as GET shows it, and token counts."""
        with self._lock:
            now = self.clock()
            return {
                "instances": {name: self._view(name, integration) for name, integration in sorted(self._instances.items())},
                "username": self.username,
                "login_tokens": sum(1 for s in self._sessions.values() if s.expires_at is not None and s.expires_at > now),
            }

    # ------------------------------------------------------------------ HTTP

    def handle(self, req: Request) -> Response:
        try:
            return self._route(req)
        except ApiError as error:
            return error.response()

    def _route(self, req: Request) -> Response:
        route = req.path[len(BASE_PATH):] if req.path.startswith(BASE_PATH) else req.path
        if route == "/auth/login":
            _require_method(req, ("POST",))
            return self._login(req.body)
        role = self._authenticate(req.header("authorization"))
        instance, action = _split_instance_route(route)
        _require_method(req, ROUTE_METHODS[action])
        if not INSTANCE_PATTERN.fullmatch(instance):
            raise ApiError(404, "instance_not_found", "%r is not a valid instance name (lower-case letters, digits and hyphens, 1-63 characters)" % instance)
        if instance not in self._instances:
            raise ApiError(404, "instance_not_found", "instance %r does not exist" % instance)
        if req.method != "GET" and role != ADMIN:
            raise ApiError(403, "forbidden", "this token may read but not change integrations")
        if action == TEST_ROUTE:
            return self._test(instance)
        if req.method == "GET":
            with self._lock:
                return Response(200, self._view(instance, self._instances[instance]))
        if req.method == "DELETE":
            with self._lock:
                self._instances[instance] = _Integration()
            return Response(204)
        if req.method == "PUT":
            return self._put(instance, req.body)
        return self._patch(instance, req.body)

    def _login(self, body: t.Any) -> Response:
        email = body.get("email") if isinstance(body, dict) else None
        password = body.get("password") if isinstance(body, dict) else None
        if not (isinstance(email, str) and isinstance(password, str)
                and email.lower() == self.username.lower() and secrets.compare_digest(password.encode(), self.password.encode())):
            raise ApiError(401, "unauthorized", "invalid e-mail or password")
        token = "st_session_" + secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = _Session(ADMIN, self.clock() + TOKEN_LIFETIME)
        return Response(200, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME})

    def _authenticate(self, authorization: str | None) -> str:
        scheme, _space, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthorized", "a bearer token is required", headers={"WWW-Authenticate": 'Bearer realm="smarttrace"'})
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and session.expires_at is not None and session.expires_at <= self.clock():
                del self._sessions[token]
                session = None
        if session is None:
            raise ApiError(401, "unauthorized", "the bearer token is invalid or has expired",
                           headers={"WWW-Authenticate": 'Bearer realm="smarttrace", error="invalid_token"'})
        return session.role

    def _put(self, instance: str, body: t.Any) -> Response:
        _validate(body, PUT_PROPERTIES, PUT_REQUIRED)
        self._vendor_rule(body)
        integration = _Integration(
            enabled=True,
            application_id=body["application_id"].lower(),
            tenant_id=body["tenant_id"].lower(),
            client_secret=body["client_secret"],
            client_secret_id=body["client_secret_id"].lower() if "client_secret_id" in body else None,
            client_secret_expires_at=body.get("client_secret_expires_at"),
            updated_at=self._now(),
        )
        with self._lock:
            self._instances[instance] = integration
            return Response(200, self._view(instance, integration))

    def _patch(self, instance: str, body: t.Any) -> Response:
        _validate(body, PATCH_PROPERTIES, (), min_properties=1)
        self._vendor_rule(body)
        with self._lock:
            integration = self._instances[instance]
            if integration.client_secret is None:
                raise ApiError(409, "not_configured", "the integration of %r was never configured; configure it with PUT first" % instance)
            for name in ("application_id", "tenant_id", "client_secret_id"):
                if name in body:
                    setattr(integration, name, body[name].lower())
            if "client_secret" in body:
                integration.client_secret = body["client_secret"]
                if "client_secret_id" not in body:
                    integration.client_secret_id = None
            if "client_secret_expires_at" in body:
                integration.client_secret_expires_at = body["client_secret_expires_at"]
            if "enabled" in body:
                integration.enabled = body["enabled"]
            integration.updated_at = self._now()
            return Response(200, self._view(instance, integration))

    def _vendor_rule(self, body: dict) -> None:
        """Fault knob ``reject_writes``: refuse a valid body with 422, as a rule of the vendor a client cannot check first would."""
        faults = getattr(self.directory, "faults", None)
        if faults is not None and faults.config.reject_writes:
            field = next(iter(body))
            raise ApiError(422, "validation_failed", "%s was refused by a rule of this SmartTrace instance (sandbox fault reject_writes)" % field, field)

    def _test(self, instance: str) -> Response:
        with self._lock:
            integration = dataclasses.replace(self._instances[instance])
        if integration.client_secret is None:
            raise ApiError(409, "not_configured", "the integration of %r is not configured; nothing to test" % instance)
        ok, error = self.directory.redeem_client_secret(integration.tenant_id, integration.application_id, integration.client_secret)
        return Response(200, {"ok": bool(ok), "error": None if ok else (error or "the identity provider refused the credentials")})

    def _view(self, instance: str, integration: _Integration) -> dict:
        secret = integration.client_secret
        return {
            "instance": instance,
            "enabled": integration.enabled,
            "application_id": integration.application_id,
            "tenant_id": integration.tenant_id,
            "client_secret_set": secret is not None,
            "client_secret_hint": secret[:HINT_LENGTH] if secret is not None else None,
            "client_secret_id": integration.client_secret_id,
            "client_secret_expires_at": integration.client_secret_expires_at,
            "redirect_uri": "%s/auth/callback/azure/%s" % (PUBLIC_API_URL, instance),
            "logout_uri": "%s/auth/callback/azure-logout/%s" % (PUBLIC_API_URL, instance),
            "updated_at": integration.updated_at,
        }

    def _now(self) -> str:
        return datetime.datetime.fromtimestamp(self.clock(), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _require_method(req: Request, allowed: tuple[str, ...]) -> None:
    if req.method not in allowed:
        raise ApiError(405, "method_not_allowed", "%s is not allowed here; use %s" % (req.method, ", ".join(allowed)),
                       headers={"Allow": ", ".join(allowed)})


def _split_instance_route(route: str) -> tuple[str, str]:
    """(instance, action route) of ``/instances/{instance}/integrations/azure-ad[/test]``, else 404 not_found."""
    prefix = "/instances/"
    if route.startswith(prefix):
        instance, slash, rest = route[len(prefix):].partition("/")
        action = slash + rest
        if instance and action in ROUTE_METHODS:
            return instance, action
    raise ApiError(404, "not_found", "no such route: %s%s" % (BASE_PATH, route))


def _validate(body: t.Any, properties: dict[str, str], required: tuple[str, ...], min_properties: int = 0) -> None:
    """422 validation_failed (naming the field) unless body fits the request schema."""
    if not isinstance(body, dict):
        raise ApiError(422, "validation_failed", "the request body must be a JSON object")
    unknown = sorted(set(body) - set(properties))
    if unknown:
        raise ApiError(422, "validation_failed", "unknown property %r" % unknown[0], unknown[0])
    if len(body) < min_properties:
        raise ApiError(422, "validation_failed", "give at least %d propert%s" % (min_properties, "y" if min_properties == 1 else "ies"))
    for name in required:
        if name not in body:
            raise ApiError(422, "validation_failed", "%s is required" % name, name)
    for name, kind in properties.items():
        if name in body:
            problem = _format_problem(kind, body[name])
            if problem:
                raise ApiError(422, "validation_failed", "%s %s" % (name, problem), name)


def _format_problem(kind: str, value: t.Any) -> str | None:
    """Why value does not fit the schema kind (without echoing the value), or None."""
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be a boolean"
    if not isinstance(value, str):
        return "must be a string"
    if kind == "uuid":
        return None if UUID_PATTERN.fullmatch(value) else "must be a UUID"
    if kind == "secret":
        if SECRET_MIN_LENGTH <= len(value) <= SECRET_MAX_LENGTH:
            return None
        return "must be %d to %d characters long" % (SECRET_MIN_LENGTH, SECRET_MAX_LENGTH)
    if kind == "date-time":
        match = DATE_TIME_PATTERN.fullmatch(value)
        try:
            if match:
                datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
                return None
        except ValueError:
            pass
        return "must be an RFC 3339 date-time with a time zone, e.g. 2027-01-31T12:00:00Z"
    raise ValueError("unknown schema kind %s" % kind)
