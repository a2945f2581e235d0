# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test doubles: an in-process HTTP server for ``_http.Session``, a fake clock, a fake login endpoint."""

import json
from urllib.parse import parse_qs, urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import Headers, Response, proxy_for

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "00000000-aaaa-bbbb-cccc-000000000001"
SECRET = "s3cret-Value~with.enough_length"
LOGIN_ROOT = "https://login.example.test"
GRAPH_ROOT = "https://graph.example.test"


class FakeClock:
    """``clock()`` and ``sleep()`` for one fake timeline; ``sleeps`` records every wait."""

    def __init__(self, now=1000.0):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class Reply:
    """One scripted answer."""

    def __init__(self, status=200, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = headers or {}


class FakeRequest:
    """What the fake server is given: ``method``, ``url`` (with the query), ``body`` (text or None), ``headers``."""

    def __init__(self, method, url, body, headers):
        self.method = method
        self.url = url
        self.body = body.decode("utf-8") if isinstance(body, bytes) else body
        self.headers = headers


class FakeServer:
    """Stands in for the network of an ``_http.Session``: answers from ``handler(request) -> Reply | Exception``; records every request."""

    def __init__(self, handler, session=None):
        self.handler = handler
        self.session = session
        self.requests = []
        self.send_options = []

    def send(self, method, url, parts, body, headers, timeout):
        request = FakeRequest(method, url, body, Headers(headers))
        self.requests.append(request)
        self.send_options.append({"timeout": timeout, "verify": getattr(self.session, "verify", None), "proxy": proxy_for(url)})
        reply = self.handler(request)
        if isinstance(reply, Exception):
            raise reply
        headers = Headers(reply.headers)
        if reply.body is None:
            content = b""
        elif isinstance(reply.body, (bytes, str)):
            content = reply.body if isinstance(reply.body, bytes) else reply.body.encode("utf-8")
        else:
            content = json.dumps(reply.body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        return Response(reply.status, headers, content, url, method=method, reason="fake")

    def paths(self):
        return ["%s %s" % (request.method, urlsplit(request.url).path) for request in self.requests]


def mount(session, handler):
    """Answer every request of ``session`` (an ``_http.Session``) with a ``FakeServer``; return it."""
    server = FakeServer(handler, session)
    session._send = server.send  # pylint: disable=protected-access
    return server


def scripted(*replies):
    """A handler answering the given replies in turn (the last one repeats)."""
    queue = list(replies)

    def handler(request):
        return queue.pop(0) if len(queue) > 1 else queue[0]
    return handler


def request_json(request):
    return json.loads(request.body) if request.body else None


def graph_error(status, code, message, request_id="req-1", details=None, headers=None):
    error = {"code": code, "message": message, "innerError": {"date": "2026-01-01T00:00:00", "request-id": request_id, "client-request-id": "c-1"}}
    if details:
        error["details"] = details
    return Reply(status, {"error": error}, headers)


class FakeLogin:
    """The login endpoint msal talks to: OpenID configuration and token endpoint with scripted token answers."""

    def __init__(self, root=LOGIN_ROOT, tenant=TENANT, token_replies=None, expires_in=3599):
        self.root = root
        self.tenant = tenant
        self.token_replies = list(token_replies or [])
        self.expires_in = expires_in
        self.issued = 0
        self.token_forms = []

    def __call__(self, request):
        path = urlsplit(request.url).path
        base = "%s/%s" % (self.root, self.tenant)
        if request.method == "GET" and path == "/%s/v2.0/.well-known/openid-configuration" % self.tenant:
            return Reply(200, {"issuer": base + "/v2.0", "authorization_endpoint": base + "/oauth2/v2.0/authorize",
                               "token_endpoint": base + "/oauth2/v2.0/token", "jwks_uri": base + "/discovery/v2.0/keys"})
        if request.method == "POST" and path == "/%s/oauth2/v2.0/token" % self.tenant:
            self.token_forms.append(dict((key, values[0]) for key, values in parse_qs(request.body).items()))
            if self.token_replies:
                return self.token_replies.pop(0)
            self.issued += 1
            return Reply(200, {"token_type": "Bearer", "expires_in": self.expires_in, "ext_expires_in": self.expires_in,
                               "access_token": "eyJhbGciOiJub25lIn0.eyJ0b2tlbiI6%d.sig" % self.issued})
        return Reply(404, {"error": "not_found", "error_description": "no route %s %s" % (request.method, path)})
