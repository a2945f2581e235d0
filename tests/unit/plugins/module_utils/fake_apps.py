# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applications and their client secrets in memory, behind a real ``GraphClient`` (docs/graph-facts.md, Client secrets).

``GET /applications/{id}`` and ``(appId='..')`` with ``$select``, ``addPassword`` (200 with ``secretText``),
``removePassword`` (204, 404 for an unknown keyId) and ``$batch``. Knobs: ``hidden`` (keyId -> how many more
reads miss it: replication), ``app_hidden_reads`` (reads that answer 404 for the app), ``lose_add_answers``
(addPassword carried out, answered 504), ``max_lifetime_days`` (an app management policy), ``fail_next``,
``newest_first`` (True, the default: list the secrets newest first, as real Graph does; False lists them oldest first,
which Graph does not promise either: the collection must give the same result for both).
"""

import datetime
import json
import string
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import Session
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import GraphClient
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import GRAPH_ROOT, FakeClock, Reply, graph_error, mount

NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def credential(name, days_left, started_days_ago=10, key_id=None, now=NOW):
    return {"customKeyIdentifier": None, "displayName": name, "keyId": key_id or str(uuid.uuid4()), "hint": "Abc", "secretText": None,
            "startDateTime": iso(now - datetime.timedelta(days=started_days_ago)), "endDateTime": iso(now + datetime.timedelta(days=days_left))}


class FakeApps:
    def __init__(self):
        self.app = {"id": str(uuid.uuid4()), "appId": str(uuid.uuid4()), "displayName": "SmartTrace", "passwordCredentials": []}
        self.now = NOW           # what the fake takes as "now" (module tests use the real clock)
        self.hidden = {}
        self.app_hidden_reads = 0
        self.lose_add_answers = 0
        self.max_lifetime_days = None
        self.newest_first = True
        self.fail_next = []
        self.secrets = []        # every value handed out
        self.calls = []          # (method, path, query) of every logical request (each $batch item too)
        self.http = 0
        self.clock = FakeClock()
        session = Session()
        mount(session, self)
        self.graph = GraphClient(session, GRAPH_ROOT, lambda: "token", sleep=self.clock.sleep, clock=self.clock)

    def add(self, name, days_left, **kwargs):
        item = credential(name, days_left, now=self.now, **kwargs)
        self.app["passwordCredentials"].append(item)
        return item

    def key_ids(self, name=None):
        return [c["keyId"] for c in self.app["passwordCredentials"] if name is None or c["displayName"] == name]

    def __call__(self, request):
        self.http += 1
        url = urlsplit(request.url)
        path = unquote(url.path)[len("/v1.0"):]
        if path == "/$batch":
            answers = []
            for item in json.loads(request.body)["requests"]:
                inner = urlsplit(item["url"])
                reply = self.dispatch(item["method"], unquote(inner.path), parse_qs(inner.query), item.get("body"))
                answers.append({"id": item["id"], "status": reply.status, "headers": reply.headers, "body": reply.body})
            return Reply(200, {"responses": list(reversed(answers))})
        return self.dispatch(request.method, path, parse_qs(url.query), json.loads(request.body) if request.body else None)

    def dispatch(self, method, path, query, body):
        query = dict((key, values[0]) for key, values in query.items())
        self.calls.append((method, path, query))
        if self.fail_next:
            return self.fail_next.pop(0)
        app = self.app
        for prefix in ("/applications(appId='%s')" % app["appId"], "/applications/%s" % app["id"]):
            if path == prefix or path.startswith(prefix + "/"):
                return self.route(method, path[len(prefix):], query, body)
        return graph_error(404, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects "
                           "are not present." % path.split("/")[-1])

    def route(self, method, rest, query, body):
        app = self.app
        if rest == "" and method == "GET":
            if self.app_hidden_reads:
                self.app_hidden_reads -= 1
                return graph_error(404, "Request_ResourceNotFound", "Resource does not exist.")
            shown = []
            for item in app["passwordCredentials"]:
                if self.hidden.get(item["keyId"]):
                    self.hidden[item["keyId"]] -= 1
                    continue
                shown.append(dict(item))
            view = dict(app, passwordCredentials=shown[::-1] if self.newest_first else shown)
            return Reply(200, dict((name, view.get(name)) for name in query.get("$select", "id,appId,displayName,passwordCredentials").split(",")))
        if rest == "/addPassword" and method == "POST":
            wanted = body["passwordCredential"]
            end = datetime.datetime.strptime(wanted["endDateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
            if self.max_lifetime_days is not None and end - self.now > datetime.timedelta(days=self.max_lifetime_days):
                return graph_error(400, "CredentialInvalidLifetimeAsPerAppPolicy",
                                   "Credential lifetime exceeds the max value allowed as per assigned policy 9b1e3c4d.")
            value = "%sQ~%s" % (string.ascii_letters[len(self.secrets) % 52] * 3, uuid.uuid4().hex)
            self.secrets.append(value)
            item = {"customKeyIdentifier": None, "displayName": wanted.get("displayName"), "keyId": str(uuid.uuid4()), "hint": value[:3],
                    "secretText": None, "startDateTime": iso(self.now), "endDateTime": wanted["endDateTime"]}
            app["passwordCredentials"].append(item)
            if self.lose_add_answers:
                self.lose_add_answers -= 1
                return graph_error(504, "UnknownError", "The gateway did not receive a timely response.")
            return Reply(200, dict(item, secretText=value))
        if rest == "/removePassword" and method == "POST":
            before = len(app["passwordCredentials"])
            app["passwordCredentials"] = [c for c in app["passwordCredentials"] if c["keyId"] != body["keyId"]]
            if len(app["passwordCredentials"]) == before:
                return graph_error(404, "Request_ResourceNotFound", "No password credential found with keyId '%s'." % body["keyId"])
            return Reply(204)
        return graph_error(400, "BadRequest", "no fake route for %s %s" % (method, rest))
