# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small in-memory directory behind a real ``GraphClient``: users, groups, a service principal, assignments, $batch.

Only what the user and assignment code uses, with Graph's answers (docs/graph-facts.md: Users, App role assignments, Batching): ``in``/``eq``
filters on one property, 400 texts for conflicts and duplicates, 404 for objects still replicating.
Knobs: ``young`` (ids not visible yet), ``fail_next`` ((method, path prefix) -> replies to give instead, in turn),
``lose_answer`` (methods whose next write is done but answered 504).
"""

import json
import re
import uuid
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import Session
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import GraphClient
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import GRAPH_ROOT, FakeClock, Reply, graph_error, mount

DOMAINS = ("contoso.onmicrosoft.com", "contoso.example")
FILTER_RE = re.compile(r"^(\w+) (?:eq (.+)|in \((.+)\))$")


def _literals(text):
    return [value.replace("''", "'") for value in re.findall(r"'((?:[^']|'')*)'", text)]


class FakeDirectory:
    def __init__(self):
        self.users = {}
        self.groups = {}
        self.deleted_users = {}
        self.sps = {}
        self.assignments = {}
        self.young = set()
        self.fail_next = {}
        self.lose_answer = set()
        self.http = 0            # HTTP requests
        self.calls = []          # logical requests (each $batch item too): (method, path, query)
        self.clock = FakeClock()
        session = Session()
        mount(session, self)
        self.graph = GraphClient(session, GRAPH_ROOT, lambda: "token", sleep=self.clock.sleep, clock=self.clock)

    # ---- seeding
    def add_user(self, upn, **props):
        user = dict({"id": str(uuid.uuid4()), "userPrincipalName": upn, "displayName": upn.split("@")[0], "mailNickname": upn.split("@")[0],
                     "accountEnabled": True, "givenName": None, "surname": None, "usageLocation": None}, **props)
        self.users[user["id"]] = user
        return user

    def add_group(self, name):
        group = {"id": str(uuid.uuid4()), "displayName": name}
        self.groups[group["id"]] = group
        return group

    def add_sp(self, app_roles=(), name="SmartTrace"):
        sp = {"id": str(uuid.uuid4()), "appId": str(uuid.uuid4()), "displayName": name, "appRoles": list(app_roles)}
        self.sps[sp["id"]] = sp
        return sp

    def assign(self, principal, sp, role_id, kind="User"):
        assignment = {"id": "asg-" + uuid.uuid4().hex, "appRoleId": role_id, "principalId": principal["id"], "principalType": kind,
                      "principalDisplayName": principal.get("displayName"), "resourceId": sp["id"]}
        self.assignments[assignment["id"]] = assignment
        return assignment

    # ---- transport
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
        for (fail_method, prefix), replies in list(self.fail_next.items()):
            if method == fail_method and path.startswith(prefix) and replies:
                return replies.pop(0)
        reply = self.route(method, path, query, body)
        if method in self.lose_answer and reply.status < 300:
            self.lose_answer.discard(method)
            return graph_error(504, "UnknownError", "The gateway did not receive a timely response.")
        return reply

    def visible(self, items):
        return [item for item in items if item["id"] not in self.young]

    def route(self, method, path, query, body):
        parts = path.strip("/").split("/")
        if path == "/users" and method == "GET":
            return self.listing(self.visible(self.users.values()), query, path)
        if path == "/groups" and method == "GET":
            return self.listing(self.visible(self.groups.values()), query, path)
        if path == "/directory/deletedItems/microsoft.graph.user":
            return self.listing(list(self.deleted_users.values()), query, path)
        if path == "/domains":
            return Reply(200, {"value": [{"id": name, "isVerified": True} for name in DOMAINS] + [{"id": "fabrikam.example", "isVerified": False}]})
        if path == "/users" and method == "POST":
            return self.create_user(body)
        if parts[0] == "users" and len(parts) == 2:
            user = self.users.get(parts[1])
            if user is None or user["id"] in self.young:
                return graph_error(404, "Request_ResourceNotFound", "Resource '%s' does not exist." % parts[1])
            if method == "PATCH":
                user.update(dict((k, v) for k, v in body.items() if k != "passwordProfile"))
                return Reply(204)
            if method == "DELETE":
                self.deleted_users[user["id"]] = dict(self.users.pop(user["id"]), deletedDateTime="2026-01-01T00:00:00Z")
                return Reply(204)
        if parts[0].startswith("servicePrincipals"):
            return self.sp_route(method, parts, query, body)
        return graph_error(400, "BadRequest", "no fake route for %s %s" % (method, path))

    def listing(self, items, query, path):
        if "$filter" in query:
            prop, one, many = FILTER_RE.match(query["$filter"]).groups()
            wanted = set(value.lower() for value in _literals(one or many))
            items = [item for item in items if str(item.get(prop)).lower() in wanted]
        if "$select" in query:
            names = query["$select"].split(",")
            items = [dict((name, item.get(name)) for name in names) for item in items]
        top = int(query.get("$top", 100))
        start = int(query.get("$skiptoken", 0))
        page = {"value": items[start:start + top]}
        if start + top < len(items):
            page["@odata.nextLink"] = GRAPH_ROOT + "/v1.0" + path + "?" + urlencode(dict(query, **{"$skiptoken": start + top}))
        return Reply(200, page)

    def create_user(self, body):
        upn = body["userPrincipalName"]
        if upn.split("@")[1] not in DOMAINS:
            return graph_error(400, "Request_BadRequest", "The domain portion of the userPrincipalName property is invalid. "
                               "You must use one of the verified domain names in your organization.")
        if any(user["userPrincipalName"].lower() == upn.lower() for user in list(self.users.values()) + list(self.deleted_users.values())):
            return graph_error(400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.",
                               details=[{"code": "ObjectConflict", "target": "userPrincipalName"}])
        if len(body["passwordProfile"]["password"]) < 8:
            return graph_error(400, "Request_BadRequest", "The specified password does not comply with password complexity requirements.")
        user = self.add_user(upn, **dict((k, v) for k, v in body.items() if k not in ("passwordProfile", "userPrincipalName")))
        return Reply(201, {"id": user["id"], "userPrincipalName": upn, "displayName": user["displayName"]})

    def sp_route(self, method, parts, query, body):
        key = parts[0][len("servicePrincipals"):]
        if key.startswith("(appId="):
            app_id = _literals(key)[0]
            sp = next((sp for sp in self.sps.values() if sp["appId"] == app_id), None)
            rest = parts[1:]
        else:
            sp = self.sps.get(parts[1])
            rest = parts[2:]
        if sp is None or sp["id"] in self.young:
            return graph_error(404, "Request_ResourceNotFound", "Resource does not exist.")
        if not rest:
            return Reply(200, dict((name, sp.get(name)) for name in query.get("$select", "id").split(",")))
        mine = [item for item in self.assignments.values() if item["resourceId"] == sp["id"]]
        if len(rest) == 1 and method == "GET":
            return self.listing(mine, query, "/" + "/".join(parts))
        if len(rest) == 1 and method == "POST":
            principal = self.users.get(body["principalId"]) or self.groups.get(body["principalId"])
            if principal is None:
                return graph_error(404, "Request_ResourceNotFound", "Resource '%s' does not exist." % body["principalId"])
            if principal["id"] in self.young:
                return graph_error(400, "Request_BadRequest", "Not a valid reference update.")
            if any(item["principalId"] == principal["id"] and item["appRoleId"] == body["appRoleId"] for item in mine):
                return graph_error(400, "Request_BadRequest", "Permission being assigned already exists on the object.")
            kind = "User" if principal["id"] in self.users else "Group"
            return Reply(201, self.assign(principal, sp, body["appRoleId"], kind))
        if len(rest) == 2 and method == "DELETE":
            if self.assignments.pop(rest[1], None) is None:
                return graph_error(404, "Request_ResourceNotFound", "Resource does not exist.")
            return Reply(204)
        return graph_error(400, "BadRequest", "no fake route")
