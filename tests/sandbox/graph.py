"""The Microsoft Graph v1.0 surface of the sandbox: authentication, routing, errors and JSON batching.

Every request needs ``Authorization: Bearer <token>`` from the sandbox's token endpoint: no token is 401
``InvalidAuthenticationToken`` "Access token is empty.", a token for another audience "Access token
validation failure. Invalid audience.", an expired one "Access token has expired or is not yet valid.".
Errors use Graph's envelope ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}[, "details"]}}`` and answers carry ``request-id`` and ``client-request-id`` headers.

``POST /v1.0/$batch`` (contract 6.7): at most 20 requests with unique ids, relative urls, ``Content-Type``
whenever a body is sent, ``dependsOn`` (a failed dependency answers 424); each inner request passes the
fault knobs (``faults.before`` / ``faults.after_write``) on its own; the outer answer is 200 with the inner
responses in no particular order (seeded shuffle), each with id, status, headers and body.

Families of routes live in ``graph_apps`` (applications, service principals, templates), ``graph_directory``
(users, groups, domains, organization, deleted items) and ``graph_grants`` (app role assignments,
delegated permission grants).
"""
from __future__ import annotations

import base64
import datetime
import random
import urllib.parse

from . import graph_apps, graph_directory, graph_grants
from . import graph_base as gb
from .http import Request, Response, is_write
from .odata import GraphError, bad_request
from .tokens import TokenError

MAX_BATCH = 20
WWW_AUTHENTICATE = ('Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
                    'client_id="00000003-0000-0000-c000-000000000000"')

ROUTES = {
    "applications": graph_apps.route_applications,
    "servicePrincipals": graph_apps.route_service_principals,
    "applicationTemplates": graph_apps.route_application_templates,
    "users": graph_directory.route_users,
    "groups": graph_directory.route_groups,
    "domains": graph_directory.route_domains,
    "organization": graph_directory.route_organization,
    "directory": graph_directory.route_directory,
    "directoryObjects": graph_directory.route_directory_objects,
    "oauth2PermissionGrants": graph_grants.route_grants,
}
# Roots of Graph v1.0 the sandbox does not serve: 501 rather than a misleading 400.
KNOWN_ROOTS = ("contacts", "devices", "directoryRoles", "directoryRoleTemplates", "identity", "policies", "subscribedSkus", "invitations", "reports",
               "auditLogs", "identityGovernance", "roleManagement", "servicePrincipalsWithAppId", "agreements", "schemaExtensions", "sites", "drives",
               "teams", "chats", "solutions", "security", "admin", "print", "places", "communications", "education", "external", "search",
               "subscriptions", "deviceManagement", "deviceAppManagement", "informationProtection", "groupSettings", "groupSettingTemplates")


class GraphSurface:
    """Answers ``/v1.0/...`` requests against the directory (the caller already applied faults to the outer request)."""

    def __init__(self, directory, faults):
        self.directory = directory
        self.faults = faults
        self._shuffle = random.Random("batch-%d" % directory.seed)

    # ------------------------------------------------------------------ entry point

    def handle(self, req: Request) -> Response:
        request_id = getattr(req, "request_id", "") or self.directory.new_request_id()
        with self.directory.lock:
            try:
                ctx = self._authenticate(req, request_id)
                if req.path.rstrip("/") == "/v1.0/$batch":
                    response = self._batch(ctx)
                else:
                    response = self._dispatch(ctx)
            except GraphError as exc:
                response = self._error(req, request_id, exc)
        return self._with_ids(req, request_id, response)

    def _with_ids(self, req: Request, request_id: str, response: Response) -> Response:
        headers = dict(response.headers)
        headers.setdefault("request-id", request_id)
        headers.setdefault("client-request-id", req.header("client-request-id") or request_id)
        if response.body is not None and not isinstance(response.body, bytes):
            headers.setdefault("Content-Type", gb.JSON_TYPE)
        return Response(response.status, response.body, headers)

    def _error(self, req: Request, request_id: str, exc: GraphError) -> Response:
        error = {"code": exc.code, "message": exc.message}
        if exc.details:
            error["details"] = exc.details
        error["innerError"] = self._inner_error(req, request_id)
        headers = dict(exc.headers)
        if exc.status == 401:
            headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
        return Response(exc.status, {"error": error}, headers)

    def _inner_error(self, req: Request, request_id: str) -> dict:
        date = datetime.datetime.fromtimestamp(self.directory.now(), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        return {"date": date, "request-id": request_id, "client-request-id": req.header("client-request-id") or request_id}

    def _authenticate(self, req: Request, request_id: str) -> gb.Ctx:
        header = req.header("authorization") or ""
        scheme, _space, token = header.partition(" ")
        if not header or scheme.lower() != "bearer" or not token.strip():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        try:
            claims = self.directory.tokens.verify(token.strip(), self.directory.tenant_id)
        except TokenError as exc:
            raise GraphError(401, "InvalidAuthenticationToken", str(exc)) from None
        return gb.Ctx(req=req, directory=self.directory, faults=self.faults, claims=claims, request_id=request_id)

    # ------------------------------------------------------------------ routing

    def _dispatch(self, ctx: gb.Ctx) -> Response:
        path = ctx.req.path
        if not path.startswith("/v1.0/"):
            raise bad_request("Invalid version: %s" % path.split("/")[1] if path.count("/") else path, code="BadRequest")
        segments = gb.parse_segments(path[len("/v1.0/"):])
        if not segments:
            raise gb.not_implemented(ctx)
        root = segments[0].name
        if root == "me":
            raise bad_request("/me request is only valid with delegated authentication flow.", code="BadRequest")
        if root == "$batch":
            raise bad_request("Nested batch requests are not supported.", code="BadRequest")
        route = ROUTES.get(root)
        if route is not None:
            return route(ctx, segments)
        if root in KNOWN_ROOTS:
            raise gb.not_implemented(ctx)
        raise gb.segment_not_found(root)

    # ------------------------------------------------------------------ $batch

    def _batch(self, ctx: gb.Ctx) -> Response:
        """JSON batching: validate the envelope, run the requests in dependency order, answer 200."""
        if ctx.method != "POST":
            raise gb.method_not_allowed()
        if ctx.query:
            raise bad_request("Query options are not allowed on $batch.", code="BadRequest")
        body = ctx.body
        if not isinstance(body, dict) or not isinstance(body.get("requests"), list) or set(body) - {"requests"}:
            raise bad_request("Invalid batch payload format.", code="BadRequest")
        requests = body["requests"]
        if not requests:
            raise bad_request("Invalid batch payload format.", code="BadRequest")
        if len(requests) > MAX_BATCH:
            raise bad_request("The number of batch requests exceeds the allowed limit of %d." % MAX_BATCH, code="BadRequest")
        ids: list[str] = []
        for item in requests:
            if not isinstance(item, dict) or set(item) - {"id", "method", "url", "headers", "body", "dependsOn"}:
                raise bad_request("Invalid batch payload format.", code="BadRequest")
            rid, method, url = item.get("id"), item.get("method"), item.get("url")
            if not isinstance(rid, str) or not rid or not isinstance(method, str) or not isinstance(url, str) or not url:
                raise bad_request("Invalid batch payload format. Each request needs a string id, method and url.", code="BadRequest")
            if rid in ids:
                raise bad_request("Batch request contains duplicate request id '%s'." % rid, code="BadRequest")
            ids.append(rid)
            headers = item.get("headers")
            if headers is not None and (not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())):
                raise bad_request("Invalid batch payload format. Headers must be an object of strings.", code="BadRequest")
            if item.get("body") is not None and not any(k.lower() == "content-type" for k in (headers or {})):
                raise bad_request("Write request id : %s does not contain Content-Type header or body." % rid, code="BadRequest")
        for item in requests:
            depends = item.get("dependsOn")
            if depends is None:
                continue
            if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends) or any(d not in ids or d == item["id"] for d in depends):
                raise bad_request("Batch request id '%s' depends on a request id that is not in the batch." % item["id"], code="BadRequest")
        order = self._dependency_order(requests)
        results: dict[str, dict] = {}
        by_id = {item["id"]: item for item in requests}
        for rid in order:
            item = by_id[rid]
            failed = [d for d in item.get("dependsOn") or [] if results[d]["status"] >= 400]
            if failed:
                results[rid] = {"id": rid, "status": 424, "headers": {"Content-Type": "application/json"},
                                "body": {"error": {"code": "FailedDependency", "message": "Failed Dependency",
                                                   "innerError": self._inner_error(ctx.req, self.directory.new_request_id())}}}
                continue
            results[rid] = self._run_inner(ctx, item)
        responses = [results[rid] for rid in ids]
        self._shuffle.shuffle(responses)
        return Response(200, {"responses": responses})

    @staticmethod
    def _dependency_order(requests: list[dict]) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}
        by_id = {item["id"]: item for item in requests}

        def visit(rid: str) -> None:
            if state.get(rid) == 2:
                return
            if state.get(rid) == 1:
                raise bad_request("Batch requests have a circular dependsOn.", code="BadRequest")
            state[rid] = 1
            for dep in by_id[rid].get("dependsOn") or []:
                visit(dep)
            state[rid] = 2
            order.append(rid)

        for item in requests:
            visit(item["id"])
        return order

    def _run_inner(self, ctx: gb.Ctx, item: dict) -> dict:
        """One batch item: faults first, then the request as if it came alone (with the outer token)."""
        method = item["method"].upper()
        request_id = self.directory.new_request_id()
        headers = {k.lower(): v for k, v in (item.get("headers") or {}).items()}
        headers["authorization"] = ctx.req.header("authorization") or ""
        url = item["url"]
        inner = Request(method=method, path="", query={}, headers=headers, body=item.get("body"), base_url=ctx.req.base_url, surface="graph")
        response = None
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            response = self._error(inner, request_id, bad_request("Invalid method '%s' in batch request." % item["method"], code="BadRequest"))
        elif "://" in url or url.lower().startswith(("/v1.0/", "/beta/", "v1.0/", "beta/")):
            response = self._error(inner, request_id, bad_request(
                "Invalid request URL '%s': a batch request url is relative to the version root, e.g. /users." % url, code="BadRequest"))
        if response is None:
            path, _mark, query = url.partition("?")
            inner.path = "/v1.0/" + urllib.parse.unquote(path.lstrip("/"))
            inner.query = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            response = self.faults.before("graph", method, in_batch=True)
            if response is not None:
                response = self._fill_inner_error(inner, request_id, response)
            else:
                try:
                    if inner.path.rstrip("/") == "/v1.0/$batch":
                        raise bad_request("Nested batch requests are not supported.", code="BadRequest")
                    response = self._dispatch(gb.Ctx(req=inner, directory=self.directory, faults=self.faults, claims=ctx.claims, request_id=request_id))
                except GraphError as exc:
                    response = self._error(inner, request_id, exc)
                if is_write(method):
                    response = self._fill_inner_error(inner, request_id, self.faults.after_write("graph", method, response))
        response = self._with_ids(inner, request_id, response)
        headers = {k: v for k, v in response.headers.items() if k not in ("request-id", "client-request-id")}
        out = {"id": item["id"], "status": response.status, "headers": headers}
        if response.body is not None:
            if isinstance(response.body, bytes):
                out["body"] = base64.b64encode(response.body).decode()
            else:
                out["body"] = response.body
        return out

    def _fill_inner_error(self, req: Request, request_id: str, response: Response) -> Response:
        body = response.body
        if response.status >= 400 and isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = dict(body["error"])
            inner = dict(self._inner_error(req, request_id))
            inner.update({k: v for k, v in (error.get("innerError") or {}).items() if v})
            error["innerError"] = inner
            return Response(response.status, {"error": error}, dict(response.headers))
        return response
