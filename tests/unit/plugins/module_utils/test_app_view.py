# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_app_view.read_app_infos: what entra_app_info reads, in how many round trips, and the Graph service principal only on need."""

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_view import read_app_infos
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.apps import GRAPH_APP_ID

APP_ID = "6d316b4a-7f6b-4793-b318-ad4c1db2b452"
SP_ID = "bc18a40b-55c7-4d9d-8d49-85dc09aedbd0"
OPENID = "37f7f235-527c-4136-accd-4a02d197296e"
OPENID_SCOPE = [{"id": OPENID, "value": "openid"}]


class StubGraph:
    """Answers GETs by path (a missing path is a 404: None); records each round trip as the list of paths it carried."""

    def __init__(self, answers):
        self.answers = answers
        self.round_trips = []

    def get_or_none(self, path, params=None, headers=None):
        self.round_trips.append([path])
        return self.answers.get(path)

    def batch(self, requests):
        self.round_trips.append([request["url"] for request in requests])
        return [self.answers.get(request["url"]) for request in requests]


def app(scopes=()):
    access = [{"resourceAppId": GRAPH_APP_ID, "resourceAccess": [{"id": scope, "type": "Scope"} for scope in scopes]}] if scopes else []
    return {"id": "obj-1", "appId": APP_ID, "displayName": "SmartTrace", "uniqueName": "smarttrace-acme", "createdDateTime": "2026-06-01T12:00:00Z",
            "requiredResourceAccess": access, "passwordCredentials": [], "keyCredentials": [],
            "owners": [{"@odata.type": "#microsoft.graph.user", "id": "u-1", "userPrincipalName": "AdeleV@contoso.example"}]}


def answers(the_app):
    return {
        "/applications(uniqueName='smarttrace-acme')": the_app,
        "/applications(appId='%s')" % APP_ID: the_app,
        "/applications": {"value": [the_app]},
        "/servicePrincipals(appId='%s')" % APP_ID: {"id": SP_ID, "appId": APP_ID, "displayName": "SmartTrace", "owners": []},
        "/servicePrincipals": {"value": [{"id": SP_ID, "appId": APP_ID, "displayName": "SmartTrace", "owners": []}]},
        "/servicePrincipals(appId='%s')" % GRAPH_APP_ID: {"id": "graph-sp", "appId": GRAPH_APP_ID, "oauth2PermissionScopes": OPENID_SCOPE},
        "/servicePrincipals/%s/appRoleAssignedTo" % SP_ID: {"@odata.count": 2, "value": []},
    }


@pytest.mark.parametrize("lookup, trips", [
    ({"unique_name": "smarttrace-acme"}, 3),
    ({"app_id": APP_ID}, 2),
    ({"display_name": "SmartTrace"}, 2),
])
def test_an_app_without_graph_permissions_never_reads_the_graph_service_principal(lookup, trips):
    graph = StubGraph(answers(app()))
    infos = read_app_infos(graph, **lookup)
    assert len(graph.round_trips) == trips
    assert all("/servicePrincipals(appId='%s')" % GRAPH_APP_ID not in trip for trip in graph.round_trips)
    assert [(info["app_id"], info["service_principal_id"], info["assignments_count"], info["graph_permissions"]) for info in infos] == [
        (APP_ID, SP_ID, 2, [])]
    assert infos[0]["owners"] == ["AdeleV@contoso.example"] and infos[0]["service_principal_owners"] == []  # expanded: no request of their own


@pytest.mark.parametrize("lookup, trips", [
    ({"unique_name": "smarttrace-acme"}, 3),
    ({"app_id": APP_ID}, 2),
    ({"display_name": "SmartTrace"}, 2),
])
def test_the_graph_service_principal_travels_in_the_second_round_when_an_app_asks_for_graph_permissions(lookup, trips):
    graph = StubGraph(answers(app(scopes=[OPENID])))
    infos = read_app_infos(graph, **lookup)
    assert len(graph.round_trips) == trips
    assert "/servicePrincipals(appId='%s')" % GRAPH_APP_ID in graph.round_trips[1]
    assert infos[0]["graph_permissions"] == ["openid"] and infos[0]["assignments_count"] == 2


def test_no_app_is_one_round_trip():
    graph = StubGraph({})
    assert read_app_infos(graph, unique_name="smarttrace-acme") == []
    assert graph.round_trips == [["/applications(uniqueName='smarttrace-acme')"]]


@pytest.mark.parametrize("reverse", [False, True])
def test_apps_created_in_the_same_second_come_in_one_order_whatever_order_graph_lists_them_in(reverse):
    twins = [{"keyId": key_id, "displayName": "a", "startDateTime": "2026-06-01T12:00:00Z", "endDateTime": "2027-06-01T12:00:00Z"}
             for key_id in ("k1", "k2")]
    first = dict(app(), id="obj-1", passwordCredentials=twins)
    second = dict(app(), id="obj-2", appId="7e427c5b-8f7c-4894-a429-be5d1ec3c563")
    found = [first, second]
    if reverse:
        found = [second, dict(first, passwordCredentials=first["passwordCredentials"][::-1])]
    graph = StubGraph(dict(answers(first), **{"/applications": {"value": found}}))
    infos = read_app_infos(graph, display_name="SmartTrace")
    assert [info["app_id"] for info in infos] == [APP_ID, "7e427c5b-8f7c-4894-a429-be5d1ec3c563"]
    assert [secret["key_id"] for secret in infos[0]["credentials"]["secrets"]] == ["k1", "k2"]
