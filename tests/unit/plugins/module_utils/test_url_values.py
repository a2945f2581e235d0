# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values in Graph URLs: quote doubling, percent-encoding, one segment per value; alone and inside $batch."""

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import Session
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_registration import grant_request
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import collection_url, in_filter
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.apps import app_path, find_application, sp_path
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.assignments import assignments_url, sp_path as assignment_sp_path
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import (
    GraphClient,
    entity_path,
    filter_eq,
    filter_query,
    key_path,
    odata_string,
    url_segment,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import is_guid
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.tenant import app_request, group_request, user_request
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import GRAPH_ROOT, FakeClock, Reply, mount, request_json

HOSTILE = "a')/owners?x=('"
HOSTILE_KEY = "/applications(uniqueName='a%27%27%29%2Fowners%3Fx%3D%28%27%27')"
NASTY = ["a')/owners?x=('", "x#y", "50% off", "a&b=c", "one/two", "..", "a b+c", "$count", "é"]


def odata_unquote(literal):
    assert literal.startswith("'") and literal.endswith("'")
    return literal[1:-1].replace("''", "'")


def test_key_path_doubles_quotes_then_percent_encodes():
    assert key_path("/applications", "uniqueName", HOSTILE) == "/applications(uniqueName='a''%29%2Fowners%3Fx%3D%28''')"
    assert key_path("/servicePrincipals", "appId", "00000003-0000-0000-c000-000000000000") == \
        "/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')"
    assert key_path("/applications", "uniqueName", "x", "owners") == "/applications(uniqueName='x')/owners"


@pytest.mark.parametrize("value", NASTY)
def test_every_value_stays_one_key_or_segment_and_round_trips(value):
    path = key_path("/applications", "uniqueName", value)
    encoded_key = path[len("/applications(uniqueName="):-1]
    assert "/" not in encoded_key and "?" not in encoded_key and "#" not in encoded_key and "(" not in encoded_key
    assert odata_unquote(unquote(encoded_key)) == value
    segment = url_segment(value)
    assert "/" not in segment and "?" not in segment and "#" not in segment and unquote(segment) == value
    assert entity_path("/users", value, "memberOf") == "/users/%s/memberOf" % segment


def test_user_principal_names_keep_their_at_sign():
    assert entity_path("/users", "B.Simon@contoso.com") == "/users/B.Simon@contoso.com"
    assert entity_path("/users", "o'brien#EXT#@x.example") == "/users/o%27brien%23EXT%23@x.example"


def test_filter_literals():
    assert odata_string("O'Brien") == "'O''Brien'"
    assert filter_eq("displayName", "O'Brien") == "displayName eq 'O''Brien'"
    url = filter_query("/groups", {"$filter": filter_eq("displayName", "R&D #1 ') or (1 eq 1"), "$select": "id"})
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/groups" and set(query) == {"$filter", "$select"}
    assert query["$filter"] == ["displayName eq 'R&D #1 '') or (1 eq 1'"]
    assert is_guid("00000003-0000-0000-c000-000000000000") and not is_guid("00000003-0000-0000-c000-000000000000/x") and not is_guid(None)


def test_every_url_builder_encodes():
    assert app_path(unique_name=HOSTILE) == key_path("/applications", "uniqueName", HOSTILE)
    assert app_path(app_id="x')/y") == "/applications(appId='x''%29%2Fy')"
    assert app_path(object_id="../users") == "/applications/..%2Fusers"
    assert sp_path(app_id="x')/y") == "/servicePrincipals(appId='x''%29%2Fy')"
    assert sp_path(object_id="a/b") == "/servicePrincipals/a%2Fb"
    assert assignment_sp_path("x')/y", None) == "/servicePrincipals(appId='x''%29%2Fy')"
    assert assignment_sp_path(None, "a/b?c") == "/servicePrincipals/a%2Fb%3Fc"
    assert assignments_url("a/b").startswith("/servicePrincipals/a%2Fb/appRoleAssignedTo?$select=")
    assert app_request(HOSTILE)["url"].startswith(key_path("/applications", "uniqueName", HOSTILE) + "?$select=")
    assert user_request(0, "a/b?c=d@x.example")["url"].startswith("/users/a%2Fb%3Fc%3Dd@x.example?$select=")
    group = urlsplit(group_request(0, "R&D')/members?x=(")["url"])
    assert group.path == "/groups" and parse_qs(group.query)["$filter"] == ["displayName eq 'R&D'')/members?x=('"]
    users = urlsplit(collection_url("/users", in_filter("userPrincipalName", ["a'&b@x", "c#d@x"]), ("id",)))
    assert users.path == "/users" and parse_qs(users.query)["$filter"] == ["userPrincipalName in ('a''&b@x','c#d@x')"]


class FakeGrantCurrent:
    grant = {"id": "g/1?x"}


def test_grant_urls_encode_the_id():
    assert grant_request(("delete", None), FakeGrantCurrent(), {"id": "sp"})["url"] == "/oauth2PermissionGrants/g%2F1%3Fx"


def _client(handler):
    session = Session()
    server = mount(session, handler)
    clock = FakeClock()
    return GraphClient(session, GRAPH_ROOT, lambda: "token", sleep=clock.sleep, clock=clock), server


def test_a_hostile_unique_name_is_sent_to_its_own_path_alone_and_in_batch():
    from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
    client, server = _client(lambda request: Reply(404, {"error": {"code": "Request_ResourceNotFound", "message": "not found"}}))
    assert find_application(client, unique_name=HOSTILE) is None
    sent = urlsplit(server.requests[0].url)
    assert sent.path == "/v1.0" + HOSTILE_KEY.replace("%27%27", "''") and server.requests[0].method == "GET"
    assert set(parse_qs(sent.query)) == {"$select"}  # nothing of the name became a query parameter

    def batch(request):
        inner = request_json(request)["requests"]
        return Reply(200, {"responses": [{"id": item["id"], "status": 404, "body": {"error": {"code": "Request_ResourceNotFound"}}}
                                         for item in inner]})
    client, server = _client(batch)
    results = client.batch([{"method": "GET", "url": app_path(unique_name=HOSTILE), "params": {"$select": "id"}},
                            {"method": "PATCH", "url": app_path(unique_name=HOSTILE), "body": {}}])
    urls = [item["url"] for item in request_json(server.requests[0])["requests"]]
    assert urls == [key_path("/applications", "uniqueName", HOSTILE) + "?$select=id", key_path("/applications", "uniqueName", HOSTILE)]
    assert all(isinstance(result, GraphError) and result.status == 404 for result in results)
