# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra_app's logic without HTTP: validation, list merges, planning (what differs, in which order), the view, creation by upsert."""

import copy
import datetime

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._entra import app_registration as reg
from ansible_collections.smarttrace.sso.plugins.module_utils._entra import apps
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.concurrent_runs import ConcurrentRunError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import batch_url

GRAPH_SP = {"id": "99999999-0000-0000-0000-000000000001", "appId": apps.GRAPH_APP_ID, "oauth2PermissionScopes": [
    {"id": "37f7f235-527c-4136-accd-4a02d197296e", "value": "openid"},
    {"id": "14dad69e-099b-42c9-810b-d002981feec1", "value": "profile"},
    {"id": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "value": "email"},
    {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "value": "User.Read"},
]}
OPENID, PROFILE, EMAIL, USER_READ = (scope["id"] for scope in GRAPH_SP["oauth2PermissionScopes"])
APP_ID = "6d316b4a-7f6b-4793-b318-ad4c1db2b452"


def params(**given):
    base = dict(display_name="SmartTrace", app_id=None, unique_name=None, gallery_template=None, sign_in_audience="AzureADMyOrg",
                redirect_uris=None, logout_url=None, home_page_url=None, id_token_issuance=None, access_token_issuance=None,
                graph_permissions=None, admin_consent=None, app_role_assignment_required=None, app_roles=None, notes=None, tags=None,
                list_mode="exact", state="present", tenant_id=None)
    base.update(given)
    return base


def role(value, **given):
    return dict(dict(value=value, display_name=None, description=None, allowed_member_types=["User"], enabled=True, id=None), **given)


def existing_app(**given):
    app = {"id": "7aa56a18-1fd3-4017-97f9-8d1ecff4c56b", "appId": APP_ID, "displayName": "SmartTrace", "uniqueName": "st", "signInAudience": "AzureADMyOrg",
           "web": {"homePageUrl": None, "logoutUrl": "https://a.example/logout", "redirectUriSettings": [],
                   "redirectUris": ["https://a.example/cb", "https://b.example/cb"],
                   "implicitGrantSettings": {"enableIdTokenIssuance": False, "enableAccessTokenIssuance": False}},
           "requiredResourceAccess": [{"resourceAppId": apps.GRAPH_APP_ID, "resourceAccess": [{"id": OPENID, "type": "Scope"},
                                                                                              {"id": PROFILE, "type": "Scope"}]}],
           "appRoles": [], "notes": None, "tags": ["b", "a"], "createdDateTime": "2026-01-01T00:00:00Z"}
    app.update(given)
    return app


SP = {"id": "bc18a40b-55c7-4d9d-8d49-85dc09aedbd0", "appId": APP_ID, "tags": [apps.ENTERPRISE_APP_TAG], "appRoleAssignmentRequired": True,
      "appOwnerOrganizationId": "e3e70682-c209-4cac-a29f-6fbed82c07cd"}


# ---------------------------------------------------------------------------------------------- validation

@pytest.mark.parametrize("uri, fragment", [
    ("http://acme.example/cb", "use https"),
    ("https://acme.example/" + "a" * 240, "at most 256"),
    ("https://acme.example/cb;x", "';'"),
    ("https://acme.example/c b", "white space"),
    ("/relative", "absolute https URL"),
    ("ftp://acme.example/cb", "absolute https URL"),
])
def test_bad_redirect_uris_name_the_option(uri, fragment):
    with pytest.raises(reg.OptionError) as caught:
        reg.validate(params(redirect_uris=[uri]))
    assert str(caught.value).startswith("redirect_uris: ")
    assert fragment in str(caught.value)


@pytest.mark.parametrize("uri", ["https://acme.example/cb", "http://localhost:8400/cb", "http://127.0.0.1/cb", "http://[::1]:3000/cb",
                                 "https://acme.example/cb?x=1"])
def test_good_redirect_uris(uri):
    reg.validate(params(redirect_uris=[uri]))


def test_personal_accounts_refuse_wildcards_and_queries():
    with pytest.raises(reg.OptionError, match="personal Microsoft accounts"):
        reg.validate(params(sign_in_audience="PersonalMicrosoftAccount", redirect_uris=["https://acme.example/cb?x=1"]))


@pytest.mark.parametrize("given, fragment", [
    (dict(app_id="smarttrace"), "app_id 'smarttrace' is not a GUID"),
    (dict(logout_url="http://acme.example/logout"), "logout_url: "),
    (dict(home_page_url="acme.example"), "home_page_url: "),
    (dict(tags=[""]), "tags: "),
    (dict(graph_permissions=["User Read"]), "graph_permissions: "),
    (dict(app_roles=[role("SmartTrace User")]), "app_roles: value 'SmartTrace User'"),
    (dict(app_roles=[role(".hidden")]), "app_roles: value '.hidden'"),
    (dict(app_roles=[role("A"), role("A")]), "given twice"),
    (dict(app_roles=[role("A", id="nope")]), "not a GUID"),
    (dict(app_roles=[role("A", allowed_member_types=[])]), "allowed_member_types"),
    (dict(unique_name=" "), "unique_name must not be empty"),
])
def test_validation_names_the_option(given, fragment):
    with pytest.raises(reg.OptionError) as caught:
        reg.validate(params(**given))
    assert fragment in str(caught.value)


def test_absent_checks_only_app_id():
    reg.validate(params(state="absent", redirect_uris=["http://acme.example"]))
    with pytest.raises(reg.OptionError):
        reg.validate(params(state="absent", app_id="x"))


def test_unknown_scope_suggests_the_right_name():
    with pytest.raises(reg.OptionError) as caught:
        reg.scope_ids(GRAPH_SP, ["openid", "User.Raed"])
    assert "'User.Raed' is not a delegated permission" in str(caught.value)
    assert "did you mean User.Read?" in str(caught.value)
    assert reg.scope_ids(GRAPH_SP, ["OPENID", "user.read"]) == [OPENID, USER_READ]


def test_derived_unique_name_is_stable_and_has_candidates():
    first = reg.derived_unique_name("SmartTrace (Prod)")
    assert first == reg.derived_unique_name("SmartTrace (Prod)")
    assert first.startswith("smarttrace-sso-smarttrace-prod-")
    assert first != reg.derived_unique_name("smarttrace (prod)")
    assert reg.derived_unique_name("SmartTrace (Prod)", 2) == first + "-3"


# ---------------------------------------------------------------------------------------------- merges

def test_roles_keep_their_ids_and_merge_by_value():
    current = [{"id": "11111111-1111-1111-1111-111111111111", "value": "A", "displayName": "A", "description": "A", "isEnabled": True,
                "allowedMemberTypes": ["User"], "origin": "Application"}]
    exact = reg.merged_roles(current, [role("A", display_name="Role A"), role("B")], "exact")
    assert [item["id"] for item in exact][0] == "11111111-1111-1111-1111-111111111111"
    assert exact[0]["displayName"] == "Role A" and "origin" not in exact[0]
    assert exact[1]["id"] == reg.merged_roles([], [role("B")], "exact")[0]["id"]  # derived from the value: check mode predicts it
    append = reg.merged_roles(current, [role("B")], "append")
    assert [item["value"] for item in append] == ["A", "B"]
    assert reg.merged_roles(current, [role("A")], "remove") == []


def test_roles_to_disable_only_when_an_enabled_role_goes():
    current = [{"id": "1", "value": "A", "isEnabled": True}, {"id": "2", "value": "B", "isEnabled": False}]
    assert reg.roles_to_disable(current, [{"id": "1"}]) is None
    assert reg.roles_to_disable(current, [{"id": "2"}]) == [{"id": "1", "value": "A", "isEnabled": False}, {"id": "2", "value": "B", "isEnabled": False}]


def test_required_resource_access_keeps_app_permissions_and_other_apis():
    other = {"resourceAppId": "00000002-0000-0000-c000-000000000000", "resourceAccess": [{"id": "x", "type": "Scope"}]}
    app = {"requiredResourceAccess": [other, {"resourceAppId": apps.GRAPH_APP_ID, "resourceAccess": [
        {"id": "role-id", "type": "Role"}, {"id": OPENID, "type": "Scope"}]}]}
    merged = reg.required_resource_access(app, [EMAIL], "exact")
    assert merged[0] == other
    assert merged[1]["resourceAccess"] == [{"id": "role-id", "type": "Role"}, {"id": EMAIL, "type": "Scope"}]
    assert reg.required_resource_access({"requiredResourceAccess": [app["requiredResourceAccess"][1]]}, [OPENID], "remove")[0]["resourceAccess"] == [
        {"id": "role-id", "type": "Role"}]
    assert reg.required_resource_access({}, [OPENID], "remove") == []


# ---------------------------------------------------------------------------------------------- planning

def current(app=None, sp=None, grant=None):
    return reg.Current(app=app, sp=sp, graph_sp=GRAPH_SP, grant=grant, grant_read=True)


def test_nothing_differs_when_only_the_order_does():
    app = existing_app()
    todo = reg.plan(params(redirect_uris=["https://b.example/cb", "https://a.example/cb"], tags=["a", "b"], graph_permissions=["profile", "openid"],
                           logout_url="https://a.example/logout", app_role_assignment_required=True), current(app, SP))
    assert not todo.changes
    assert todo.app_patch == {} and todo.sp_patch == {}


def test_web_is_sent_whole_and_only_what_differs():
    todo = reg.plan(params(redirect_uris=["https://c.example/cb"], list_mode="append", id_token_issuance=True), current(existing_app(), SP))
    assert set(todo.app_patch) == {"web"}
    assert todo.app_patch["web"] == {"homePageUrl": None, "logoutUrl": "https://a.example/logout",
                                     "redirectUris": ["https://a.example/cb", "https://b.example/cb", "https://c.example/cb"],
                                     "implicitGrantSettings": {"enableIdTokenIssuance": True, "enableAccessTokenIssuance": False}}
    assert reg.settings(todo.app, todo.sp)["id_token_issuance"] is True


def test_empty_logout_url_removes_it():
    todo = reg.plan(params(logout_url=""), current(existing_app(), SP))
    assert todo.app_patch["web"]["logoutUrl"] is None


def test_new_app_is_planned_with_unknown_ids_and_a_derived_unique_name():
    todo = reg.plan(params(redirect_uris=["https://a.example/cb"], graph_permissions=["openid"], app_role_assignment_required=True,
                           admin_consent=True), current())
    assert todo.create_app["uniqueName"] == reg.derived_unique_name("SmartTrace")
    assert todo.create_app["web"]["redirectUris"] == ["https://a.example/cb"]
    assert todo.create_sp == {"tags": [apps.ENTERPRISE_APP_TAG], "appRoleAssignmentRequired": True}
    assert todo.grant_op == ("create", "openid")
    view = reg.settings(todo.app, todo.sp, GRAPH_SP, todo.grant, True, "tenant")
    assert view["app_id"] == view["object_id"] == view["service_principal_id"] == apps.UNKNOWN
    assert view["tenant_id"] == "tenant"
    assert view["admin_consent_scopes"] == ["openid"]


def test_gallery_app_is_instantiated_then_patched_keeping_the_gallery_home_page():
    template = {"id": "t-id", "displayName": "SmartTrace", "homePageUrl": "https://www.smarttrace.example/"}
    todo = reg.plan(params(redirect_uris=["https://a.example/cb"], app_role_assignment_required=True), current(), template)
    unique_name = reg.derived_unique_name("SmartTrace")
    # added under a claim name, so that no other run takes it for an app made by hand to adopt; the PATCH names it
    assert todo.template_id == "t-id" and todo.create_sp is None
    assert todo.create_app == {"displayName": "SmartTrace (%s)" % unique_name}
    assert set(todo.app_patch) == {"web", "uniqueName", "displayName"}
    assert todo.app_patch["displayName"] == "SmartTrace" and todo.app_patch["uniqueName"] == unique_name
    assert todo.app_patch["web"]["redirectUris"] == ["https://a.example/cb"]
    assert todo.app_patch["web"]["homePageUrl"] == "https://www.smarttrace.example/"
    assert todo.sp_patch == {"appRoleAssignmentRequired": True, "displayName": "SmartTrace"}
    view = reg.settings(todo.app, todo.sp)
    assert view["gallery_template_id"] == "t-id" and view["home_page_url"] == "https://www.smarttrace.example/"
    assert view["display_name"] == "SmartTrace"


def test_unique_name_cannot_change_but_is_set_on_adoption():
    with pytest.raises(reg.OptionError, match="cannot change"):
        reg.plan(params(unique_name="other"), current(existing_app(), SP))
    todo = reg.plan(params(unique_name="new"), current(existing_app(uniqueName=None), SP))
    assert todo.app_patch == {"uniqueName": "new"}


def test_service_principal_gets_the_enterprise_tag_kept_with_others():
    todo = reg.plan(params(), current(existing_app(), dict(SP, tags=["HideApp"])))
    assert todo.sp_patch == {"tags": ["HideApp", apps.ENTERPRISE_APP_TAG]}


@pytest.mark.parametrize("consent, grant, operation", [
    (True, None, ("create", "openid profile")),
    (True, {"id": "g", "scope": "profile openid"}, None),
    (True, {"id": "g", "scope": "openid"}, ("patch", "openid profile")),
    (False, {"id": "g", "scope": "openid"}, ("delete", None)),
    (False, None, None),
    (None, {"id": "g", "scope": "x"}, None),
])
def test_admin_consent_follows_the_requested_permissions(consent, grant, operation):
    todo = reg.plan(params(admin_consent=consent), current(existing_app(), SP, grant))
    assert todo.grant_op == operation


def test_personal_audience_asks_for_v2_tokens():
    todo = reg.plan(params(sign_in_audience="AzureADandPersonalMicrosoftAccount"), current(existing_app(), SP))
    assert todo.app_patch == {"signInAudience": "AzureADandPersonalMicrosoftAccount", "api": {"requestedAccessTokenVersion": 2}}


def test_too_many_redirect_uris_after_merging():
    app = existing_app()
    app["web"]["redirectUris"] = ["https://a.example/%d" % number for number in range(99)]
    with pytest.raises(reg.OptionError, match="at most 100"):
        reg.plan(params(sign_in_audience="PersonalMicrosoftAccount", redirect_uris=["https://b.example/1", "https://b.example/2"],
                        list_mode="append"), current(app, SP))


# ---------------------------------------------------------------------------------------------- Graph calls (scripted)

class ScriptedGraph:
    """Answers ``request``/``get``/``batch`` from a list of callables or values; records the calls."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def _next(self, call):
        self.calls.append(call)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def request(self, method, path, params=None, body=None, headers=None, retry_on=(), **kwargs):
        return self._next((method, path, body, headers))

    def get(self, path, params=None, **kwargs):
        return self._next(("GET", path, None, None))

    def get_or_none(self, path, params=None, headers=None, **kwargs):
        try:
            return self._next(("GET", path, params, headers))
        except GraphError as error:
            if error.status == 404:
                return None
            raise

    def batch(self, requests):
        return self._next(("BATCH", [batch_url(item["url"], item.get("params")) for item in requests], None, None))


def conflict():
    return GraphError("Another object with the same value for property uniqueName already exists.", status=400, code="Request_BadRequest",
                      details=[{"code": "ObjectConflict", "target": "uniqueName"}])


def test_create_app_reads_it_when_the_upsert_found_it():
    graph = ScriptedGraph(None, {"id": "o", "appId": "a"})
    app = reg.create_app(graph, {"displayName": "X", "uniqueName": "u"}, False)
    assert app == {"id": "o", "appId": "a"}
    assert graph.calls[0] == ("PATCH", "/applications(uniqueName='u')", {"displayName": "X"}, {"Prefer": "create-if-missing"})
    assert graph.calls[1][:2] == ("GET", "/applications(uniqueName='u')")


def test_create_app_moves_to_the_next_derived_name_held_by_a_deleted_app():
    graph = ScriptedGraph(conflict(), {"id": "o", "appId": "a"})
    reg.create_app(graph, {"displayName": "X", "uniqueName": reg.derived_unique_name("X")}, False)
    assert graph.calls[1][1] == "/applications(uniqueName='%s')" % reg.derived_unique_name("X", 1)


def test_create_app_with_a_given_unique_name_held_by_a_deleted_app_says_what_to_do():
    with pytest.raises(reg.OptionError, match="held by a deleted app registration"):
        reg.create_app(ScriptedGraph(conflict()), {"displayName": "X", "uniqueName": "mine"}, True)


def test_read_many_batches_and_maps_404_to_none():
    missing = GraphError("gone", status=404)
    graph = ScriptedGraph([{"id": "1"}, missing])
    assert apps.read_many(graph, [("/applications(appId='a')", {"$select": "id"}), ("/servicePrincipals", {"$filter": "displayName eq 'A & B+'"})]) == [
        {"id": "1"}, None]
    assert graph.calls[0][1] == ["/applications(appId='a')?$select=id", "/servicePrincipals?$filter=displayName%20eq%20'A%20%26%20B%2B'"]
    with pytest.raises(GraphError):
        apps.read_many(ScriptedGraph([GraphError("denied", status=403), None]), [("/a", None), ("/b", None)])


def test_read_many_sends_one_request_alone():
    graph = ScriptedGraph({"id": "1"})
    assert apps.read_many(graph, [("/applications/1", None)]) == [{"id": "1"}]
    assert graph.calls[0][0] == "GET"


def test_several_apps_with_the_display_name_are_listed_not_guessed():
    found = {"value": [{"appId": "a1", "id": "o1", "displayName": "X", "createdDateTime": "2026-01-01T00:00:00Z"},
                       {"appId": "a2", "id": "o2", "displayName": "X", "createdDateTime": "2026-02-01T00:00:00Z"}]}
    with pytest.raises(apps.AmbiguousApplicationError) as caught:
        apps.one_application(found, "X")
    assert "2 app registrations are named 'X'" in str(caught.value)
    assert "app_id a2 (object id o2, created 2026-02-01T00:00:00Z)" in str(caught.value)
    assert [match["app_id"] for match in caught.value.to_dict()] == ["a1", "a2"]
    assert apps.one_application({"value": []}, "X") is None


def test_service_principal_409_means_it_exists():
    class Graph(ScriptedGraph):
        def create(self, path, body, find_existing, retry_on=(), **kwargs):
            return self._next(("CREATE", path, body, None))

    graph = Graph(GraphError("in use", status=409, code="Request_MultipleObjectsWithSameKeyValue"), {"id": "sp"})
    assert apps.create_service_principal(graph, "a", {"tags": ["t"]}) == {"id": "sp"}
    assert graph.calls[0][2] == {"tags": ["t"], "appId": "a"}


def test_apply_batches_independent_writes_of_existing_objects():
    app = existing_app()
    todo = reg.plan(params(redirect_uris=["https://c.example/cb"], app_role_assignment_required=False, graph_permissions=["openid"],
                           admin_consent=True), current(app, SP, {"id": "g", "scope": "openid profile"}))
    graph = ScriptedGraph([None, None, None])
    after_app, after_sp = reg.apply(graph, params(), current(app, SP, {"id": "g", "scope": "openid profile"}), todo)
    assert graph.calls == [("BATCH", ["/applications/%s" % app["id"], "/servicePrincipals/%s" % SP["id"], "/oauth2PermissionGrants/g"], None, None)]
    assert after_app["web"]["redirectUris"] == ["https://c.example/cb"] and after_sp["appRoleAssignmentRequired"] is False


def test_settings_never_show_credentials():
    view = reg.settings(existing_app(passwordCredentials=[{"keyId": "k", "secretText": None, "hint": "abc"}]), SP, GRAPH_SP)
    assert "passwordCredentials" not in str(view) and "hint" not in view
    assert view["graph_permissions"] == ["openid", "profile"]
    assert view["tags"] == ["a", "b"]
    assert reg.settings(None, None) == {}


def test_credentials_view_counts_days_and_marks_expired():
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    app = {"passwordCredentials": [{"keyId": "k1", "displayName": "old", "hint": "abc", "secretText": None, "endDateTime": "2025-12-31T00:00:00Z"},
                                   {"keyId": "k2", "displayName": "new", "hint": "xyz", "endDateTime": "2026-03-02T00:00:00Z"}],
           "keyCredentials": [{"keyId": "c1", "displayName": "CN=x", "type": "AsymmetricX509Cert", "usage": "Verify", "key": "MII...",
                               "endDateTime": "2027-01-01T00:00:00Z"}]}
    view = apps.credentials_view(copy.deepcopy(app), now)
    assert [(item["key_id"], item["days_left"], item["expired"]) for item in view["secrets"]] == [("k1", -1, True), ("k2", 60, False)]
    assert view["certificates"][0]["days_left"] == 365 and "key" not in view["certificates"][0]
    assert "secretText" not in str(view)


class GalleryGraph(ScriptedGraph):
    """ScriptedGraph with the create/patch/delete steps of a gallery instantiate."""

    def create(self, path, body, find_existing, retry_on=(), **kwargs):
        return self._next(("CREATE", path, body, None))

    def patch(self, path, body, **kwargs):
        return self._next(("PATCH", path, body, None))

    def delete(self, path, missing_ok=False, **kwargs):
        return self._next(("DELETE", path, None, None))


def gallery_run(*answers):
    template = {"id": "t-id", "displayName": "SmartTrace", "homePageUrl": None}
    wanted = params(unique_name="st-acme", redirect_uris=["https://a.example/cb"])
    todo = reg.plan(wanted, current(), template)
    added = {"application": {"id": "o-mine", "appId": "a-mine", "displayName": "SmartTrace (st-acme)", "uniqueName": None},
             "servicePrincipal": {"id": "sp-mine", "appId": "a-mine", "displayName": "SmartTrace (st-acme)", "tags": [apps.ENTERPRISE_APP_TAG]}}
    graph = GalleryGraph(added, *answers)
    return graph, lambda: reg.apply(graph, wanted, current(), todo)


def test_a_gallery_app_is_added_under_its_claim_name_then_named():
    graph, run = gallery_run(None, None)
    app, sp = run()
    assert graph.calls[0] == ("CREATE", "/applicationTemplates/t-id/instantiate", {"displayName": "SmartTrace (st-acme)"}, None)
    assert graph.calls[1][:2] == ("PATCH", "/applications/o-mine")
    assert graph.calls[1][2]["uniqueName"] == "st-acme" and graph.calls[1][2]["displayName"] == "SmartTrace"
    assert graph.calls[2] == ("PATCH", "/servicePrincipals/sp-mine", {"displayName": "SmartTrace"}, None)
    assert app["displayName"] == sp["displayName"] == "SmartTrace" and app["uniqueName"] == "st-acme"


def test_a_gallery_app_whose_unique_name_another_run_took_is_deleted_and_the_run_stops():
    graph, run = gallery_run(conflict(), None)
    with pytest.raises(ConcurrentRunError) as caught:
        run()
    assert [call[:2] for call in graph.calls[1:]] == [("PATCH", "/applications/o-mine"), ("DELETE", "/applications/o-mine")]
    assert str(caught.value).startswith("Another run is configuring this instance: its run added the app registration with the unique name "
                                        "'st-acme' first. This run deleted the gallery app it had added")
    assert "a deleted app registration holds that unique name: restore or permanently delete it" in str(caught.value)


# ---------------------------------------------------------------------------------------------- gallery template with the app's read (likely_new)

TEMPLATE = {"id": "t-id", "displayName": "SmartTrace", "homePageUrl": None}
TEMPLATE_ID = "5c2a9f3e-8b1d-4e6a-9c07-3f4d2b1a8e65"
TEMPLATE_BY_NAME = "/applicationTemplates?$select=id,displayName,homePageUrl&$filter=displayName%20eq%20'SmartTrace'"


class TemplateGraph(GalleryGraph):
    """GalleryGraph that also pages collections (the separate template lookup)."""

    def list_all(self, path, params=None, **kwargs):
        return self._next(("LIST", batch_url(path, params), None, None))["value"]


def no_app_answers(*template_answer):
    """The first $batch of a gallery app that does not exist: by uniqueName, by display name, its service principal, Graph's."""
    return [None, {"value": []}, {"value": []}, GRAPH_SP] + list(template_answer)


def test_a_likely_new_gallery_app_reads_its_template_with_the_app_then_is_added_under_its_claim_name_then_named():
    wanted = params(unique_name="st-acme", gallery_template="SmartTrace", redirect_uris=["https://a.example/cb"], likely_new=True)
    added = {"application": {"id": "o-mine", "appId": "a-mine", "displayName": "SmartTrace (st-acme)", "uniqueName": None},
             "servicePrincipal": {"id": "sp-mine", "appId": "a-mine", "displayName": "SmartTrace (st-acme)", "tags": [apps.ENTERPRISE_APP_TAG]}}
    graph = TemplateGraph(no_app_answers({"value": [TEMPLATE]}), added, None, None)
    found = reg.read_current(graph, wanted)
    template = reg.resolve_template(graph, "SmartTrace", found.template_answer)
    app, sp = reg.apply(graph, wanted, found, reg.plan(wanted, found, template))
    assert template == TEMPLATE
    assert graph.calls[0][0] == "BATCH" and graph.calls[0][1][-1] == TEMPLATE_BY_NAME and len(graph.calls[0][1]) == 5
    assert [call[:2] for call in graph.calls[1:]] == [("CREATE", "/applicationTemplates/t-id/instantiate"), ("PATCH", "/applications/o-mine"),
                                                      ("PATCH", "/servicePrincipals/sp-mine")]
    assert graph.calls[1][2] == {"displayName": "SmartTrace (st-acme)"}
    assert app["displayName"] == sp["displayName"] == "SmartTrace" and app["uniqueName"] == "st-acme"


def test_without_the_hint_the_template_is_read_only_when_the_app_must_be_created():
    wanted = params(unique_name="st-acme", gallery_template="SmartTrace")
    graph = TemplateGraph(no_app_answers(), {"value": [TEMPLATE]})
    found = reg.read_current(graph, wanted)
    assert len(graph.calls[0][1]) == 4 and not any("applicationTemplates" in url for url in graph.calls[0][1])
    assert reg.resolve_template(graph, "SmartTrace", found.template_answer) == TEMPLATE
    assert graph.calls[1] == ("LIST", TEMPLATE_BY_NAME, None, None)


def test_the_hint_never_changes_the_outcome_for_an_app_that_exists():
    denied = GraphError("Insufficient privileges to complete the operation.", status=403, code="Authorization_RequestDenied")
    wanted = params(unique_name="st", gallery_template="SmartTrace", likely_new=True)
    graph = TemplateGraph([existing_app(), {"value": []}, {"value": [SP]}, GRAPH_SP, denied])
    found = reg.read_current(graph, wanted)
    assert found.app["id"] == existing_app()["id"] and found.sp == SP and len(graph.calls) == 1


def test_an_error_of_the_template_read_with_the_app_is_raised_when_the_app_must_be_created():
    denied = GraphError("Insufficient privileges to complete the operation.", status=403, code="Authorization_RequestDenied")
    graph = TemplateGraph(no_app_answers(denied))
    found = reg.read_current(graph, params(unique_name="st-acme", gallery_template="SmartTrace", likely_new=True))
    with pytest.raises(GraphError) as caught:
        reg.resolve_template(graph, "SmartTrace", found.template_answer)
    assert caught.value is denied and len(graph.calls) == 1


@pytest.mark.parametrize("template, batch_answer, alone_answer, message", [
    ("SmartTrace", {"value": []}, {"value": []}, "gallery_template: no gallery application is named 'SmartTrace'; give its exact name or its template id"),
    ("SmartTrace", {"value": [TEMPLATE, dict(TEMPLATE, id="t-2")]}, {"value": [TEMPLATE, dict(TEMPLATE, id="t-2")]},
     "gallery_template: more than one gallery application is named 'SmartTrace'; give its exact name or its template id"),
    (TEMPLATE_ID, GraphError("not found", status=404, code="Request_ResourceNotFound"), GraphError("not found", status=404),
     "gallery_template: no gallery application is identified by '%s'; give its exact name or its template id" % TEMPLATE_ID),
])
def test_the_template_read_with_the_app_fails_as_the_separate_read_does(template, batch_answer, alone_answer, message):
    messages = []
    for hint, answers in ((True, [no_app_answers(batch_answer)]), (False, [no_app_answers(), alone_answer])):
        graph = TemplateGraph(*answers)
        found = reg.read_current(graph, params(unique_name="st-acme", gallery_template=template, likely_new=hint))
        with pytest.raises(reg.OptionError) as caught:
            reg.resolve_template(graph, template, found.template_answer)
        messages.append(str(caught.value))
        assert len(graph.calls) == (1 if hint else 2)
    assert messages == [message, message]


def test_a_template_read_by_id_with_the_app_is_used_as_the_separate_get_would_be():
    template = dict(TEMPLATE, id=TEMPLATE_ID)
    graph = TemplateGraph(no_app_answers(template))
    found = reg.read_current(graph, params(unique_name="st-acme", gallery_template=TEMPLATE_ID.upper(), likely_new=True))
    assert graph.calls[0][1][-1] == "/applicationTemplates/%s?$select=id,displayName,homePageUrl" % TEMPLATE_ID
    assert reg.resolve_template(graph, TEMPLATE_ID.upper(), found.template_answer) == template and len(graph.calls) == 1


def test_templates_on_more_than_one_page_are_read_whole():
    graph = TemplateGraph({"value": [TEMPLATE], "@odata.nextLink": "https://graph.microsoft.com/v1.0/applicationTemplates?$skiptoken=x"},
                          {"value": [TEMPLATE, dict(TEMPLATE, id="t-2")]})
    with pytest.raises(reg.OptionError, match="more than one gallery application is named 'SmartTrace'"):
        reg.resolve_template(graph, "SmartTrace", graph.answers.pop(0))
    assert graph.calls == [("LIST", TEMPLATE_BY_NAME, None, None)]


def test_read_many_returns_the_errors_it_is_told_to_keep():
    denied = GraphError("denied", status=403)
    assert apps.read_many(ScriptedGraph([{"id": "1"}, denied]), [("/a", None), ("/b", None)], keep_errors=(1,)) == [{"id": "1"}, denied]
    assert apps.read_many(ScriptedGraph(denied), [("/b", None)], keep_errors=(0,)) == [denied]
