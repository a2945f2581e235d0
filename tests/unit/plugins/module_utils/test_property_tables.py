# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The property tables: what is derived from them (argument spec, $select, body, view, check mode's prediction), that the
modules' DOCUMENTATION agrees with the derived argument spec, and that a property is one row."""

import yaml
import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._entra import app_properties as props
from ansible_collections.smarttrace.sso.plugins.module_utils._common import property_table as table
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_plan import desired_properties
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_view import settings
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.plugins.modules import entra_app

APP = {"id": "o1", "appId": "a1", "displayName": "X", "uniqueName": "x", "signInAudience": "AzureADMyOrg", "notes": "kept",
       "web": {"homePageUrl": None, "logoutUrl": "https://a.example/out", "redirectUris": ["https://b.example/cb", "https://a.example/cb"],
               "redirectUriSettings": [], "implicitGrantSettings": {"enableIdTokenIssuance": True, "enableAccessTokenIssuance": False}},
       "tags": ["b", "a"], "appRoles": [], "requiredResourceAccess": []}


def options(**given):
    base = dict((name, None) for name in props.ARGUMENT_SPEC)
    base.update(display_name="X", sign_in_audience="AzureADMyOrg", list_mode="exact", state="present")
    base.update(given)
    return base


# ---------------------------------------------------------------------------------------------- the documentation agrees

def documented_spec(documentation):
    def spec_of(doc_options):
        spec = {}
        for name, doc in doc_options.items():
            entry = dict(type=doc.get("type", "str"))
            for key in ("elements", "choices", "default", "required", "aliases"):
                if doc.get(key) not in (None, False):
                    entry[key] = doc[key]
            if "suboptions" in doc:
                entry["options"] = spec_of(doc["suboptions"])
            spec[name] = entry
        return spec
    return spec_of(yaml.safe_load(documentation)["options"])


def normalised(spec):
    """A spec as documentation can show it: no ``no_log`` (never documented), no empty values."""
    return dict((name, dict((key, normalised(value) if key == "options" else value) for key, value in entry.items()
                            if value not in (None, False) and key != "no_log"))
                for name, entry in spec.items())


def test_entra_app_documentation_and_the_derived_argument_spec_agree():
    assert normalised(entra_app.ARGUMENT_SPEC) == normalised(documented_spec(entra_app.DOCUMENTATION))


def test_entra_app_return_documents_exactly_the_view_keys():
    documented = set(yaml.safe_load(entra_app.RETURN)["app"]["contains"])
    assert documented == set(row.key for row in props.APP_PROPERTIES if row.key)


def test_every_row_is_consistent():
    for row in props.APP_PROPERTIES:
        assert row.obj in (props.APP, props.SP, None), row
        if row.list_modes:
            assert row.type == "list" and row.compare == table.ORDER_INSENSITIVE, row
        if row.path is None and row.key is not None:
            assert row.view is not None, row  # shown, but from no Graph path: a handler's view
    with pytest.raises(ValueError):
        table.Prop("x", "x", compare="fuzzy")


# ---------------------------------------------------------------------------------------------- derived

def test_select_names_every_top_level_property_once():
    assert props.APP_SELECT.count("web") == 1
    assert set(props.APP_SELECT) >= {"signInAudience", "web", "requiredResourceAccess", "appRoles", "notes", "tags", "applicationTemplateId"}
    assert set(props.SP_SELECT) >= {"id", "appId", "appRoleAssignmentRequired", "appOwnerOrganizationId"}


def test_the_web_object_is_sent_whole_with_the_others_kept():
    body = desired_properties(options(logout_url=""), APP, None)
    assert body["web"] == {"homePageUrl": None, "logoutUrl": None, "redirectUris": ["https://b.example/cb", "https://a.example/cb"],
                           "implicitGrantSettings": {"enableIdTokenIssuance": True, "enableAccessTokenIssuance": False}}
    assert "redirectUriSettings" not in body["web"] and "notes" not in body and "tags" not in body


def test_a_new_app_gets_the_empty_web_values_and_list_modes_merge():
    assert desired_properties(options(id_token_issuance=True), None, None)["web"] == {
        "homePageUrl": None, "logoutUrl": None, "redirectUris": [],
        "implicitGrantSettings": {"enableIdTokenIssuance": True, "enableAccessTokenIssuance": False}}
    assert desired_properties(options(tags=["c"], list_mode="append"), APP, None)["tags"] == ["b", "a", "c"]
    assert desired_properties(options(tags=["a"], list_mode="remove"), APP, None)["tags"] == ["b"]


def test_check_mode_predicts_what_it_can_and_marks_the_rest():
    predicted = table.predict_created(props.APP_PROPERTIES, props.APP, {"displayName": "X", "tags": ["t"]})
    assert predicted["id"] == predicted["appId"] == KNOWN_AFTER_RUN
    assert predicted["tags"] == ["t"] and predicted["web"]["redirectUris"] == [] and predicted["appRoles"] == []
    sp = table.predict_created(props.APP_PROPERTIES, props.SP, {"tags": ["t"]})
    assert sp == {"id": KNOWN_AFTER_RUN, "appRoleAssignmentRequired": False, "tags": ["t"]}
    view = settings(predicted, sp, tenant_id="t1")
    assert view["app_id"] == view["object_id"] == view["service_principal_id"] == KNOWN_AFTER_RUN and view["tenant_id"] == "t1"


def test_the_view_sorts_order_insensitive_lists_and_leaves_out_what_is_unknown():
    view = settings(APP, None)
    assert view["redirect_uris"] == ["https://a.example/cb", "https://b.example/cb"] and view["tags"] == ["a", "b"]
    assert view["id_token_issuance"] is True and view["access_token_issuance"] is False
    assert "owners" not in view and "admin_consent_scopes" not in view and "service_principal_owners" not in view
    assert settings(APP, None, grant=None, grant_known=True, owners=[], sp_owners=[])["admin_consent_scopes"] == []


@pytest.mark.parametrize("compare, have, want, differs", [
    (table.EXACT, "A", "a", True),
    (table.CASE_INSENSITIVE, "A", "a", False),
    (table.ORDER_INSENSITIVE, ["a", "b"], ["b", "a"], False),
    (table.ORDER_INSENSITIVE, None, [], False),
    (table.EXACT, ["a", "b"], ["b", "a"], True),
])
def test_comparisons(compare, have, want, differs):
    assert table.differs(table.Prop("x", "x", compare=compare), have, want) is differs


# ---------------------------------------------------------------------------------------------- a property is one row

def test_a_plain_property_is_one_row_notes_walk_through():
    """Everything entra_app does with ``notes`` comes from its row: without the row, no option, no $select, no body, no view."""
    without = tuple(row for row in props.APP_PROPERTIES if row.option != "notes")
    with_row = props.APP_PROPERTIES
    assert "notes" in table.argument_spec(with_row) and "notes" not in table.argument_spec(without)
    assert "notes" in table.select(with_row, props.APP) and "notes" not in table.select(without, props.APP)
    given = options(notes="owned by IT")
    assert table.desired(with_row, props.APP, given, APP) == {"displayName": "X", "signInAudience": "AzureADMyOrg", "notes": "owned by IT"}
    assert "notes" not in table.desired(without, props.APP, given, APP)
    assert table.view(with_row, {props.APP: APP})["notes"] == "kept" and "notes" not in table.view(without, {props.APP: APP})
    assert table.changed_options(with_row, props.APP, APP, {"notes": "owned by IT"}) == ["notes"]


# ---------------------------------------------------------------------------------------------- decided on codes, not on words

def test_a_held_unique_name_is_decided_on_the_conflict_detail_not_the_message():
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_apply import unique_name_held
    from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError

    def conflict(target, message="anything at all"):
        detail = {"code": "ObjectConflict"} if target is None else {"code": "ObjectConflict", "target": target}
        return GraphError(message, status=400, code="Request_BadRequest", details=[detail])
    assert unique_name_held(conflict("uniqueName")) and unique_name_held(conflict(None))
    assert not unique_name_held(conflict("identifierUris", "Another object with the same value for property uniqueName already exists."))
    assert not unique_name_held(GraphError("uniqueName is taken", status=400, code="Request_BadRequest"))


def test_an_app_role_not_disabled_yet_is_recognised_by_the_one_place_that_reads_words():
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_apply import roles_not_disabled_yet
    from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
    text = "Property value of app role must be disabled first before it can be deleted."
    assert roles_not_disabled_yet(GraphError(text, status=400, code="Request_BadRequest"))
    assert not roles_not_disabled_yet(GraphError(text, status=403, code="Authorization_RequestDenied"))


# ---------------------------------------------------------------------------------------------- entra_user

def test_entra_user_documentation_and_the_derived_argument_spec_agree():
    from ansible_collections.smarttrace.sso.plugins.modules import entra_user
    assert normalised(entra_user.argument_spec()) == normalised(documented_spec(entra_user.DOCUMENTATION))


def test_entra_user_return_documents_exactly_the_view_keys():
    from ansible_collections.smarttrace.sso.plugins.modules import entra_user
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.user_properties import USER_PROPERTIES
    documented = yaml.safe_load(entra_user.RETURN)["users"]["contains"]
    assert set(row.key for row in USER_PROPERTIES if row.key) <= set(documented)
    assert set(documented) - set(row.key for row in USER_PROPERTIES if row.key) == {"action", "changed", "changes", "error", "reason"}


def test_a_user_is_compared_created_and_shown_from_its_rows():
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra import user_properties as users
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.users import desired_properties
    entry = dict((name, None) for name in users.USER_OPTIONS)
    entry.update(user_principal_name="b.simon@contoso.example", usage_location="de", account_enabled=False, password="Secret-123")
    assert desired_properties(entry, creating=False) == {"usageLocation": "DE", "accountEnabled": False}
    assert desired_properties(entry, creating=True) == {"usageLocation": "DE", "accountEnabled": False, "mailNickname": "b.simon",
                                                        "displayName": "b.simon"}
    current = {"id": "u1", "userPrincipalName": "B.Simon@contoso.example", "usageLocation": "DE", "accountEnabled": True}
    assert table.changed_options(users.USER_PROPERTIES, users.USER, current, desired_properties(entry, False)) == ["account_enabled"]
    assert users.user_view("b.simon@contoso.example", "u1", dict(current, employeeType="sso")) == {
        "user_principal_name": "b.simon@contoso.example", "id": "u1", "display_name": None, "mail_nickname": None, "given_name": None,
        "surname": None, "account_enabled": True, "usage_location": "DE", "employee_type": "sso"}
    assert "passwordProfile" not in users.USER_SELECT and "password" not in users.shown(current)


def test_a_upn_conflict_is_decided_on_the_detail_code_and_refusals_through_message_kind():
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.users import _is_upn_conflict
    from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
    assert _is_upn_conflict(GraphError("whatever the words", status=400, code="Request_BadRequest", details=[{"code": "ObjectConflict"}]))
    assert _is_upn_conflict(GraphError("Another object with the same value for property userPrincipalName already exists.", status=400))
    assert not _is_upn_conflict(GraphError("Another object with the same value for property userPrincipalName already exists.", status=409))


def test_a_gallery_app_is_predicted_with_the_values_of_a_new_app_and_the_gallerys_home_page():
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_plan import gallery_app
    app = gallery_app({"id": "t1", "homePageUrl": "https://smarttrace.example"}, "SmartTrace (st)")
    assert app["web"] == {"homePageUrl": "https://smarttrace.example", "redirectUris": [],
                          "implicitGrantSettings": {"enableIdTokenIssuance": False, "enableAccessTokenIssuance": False}}
    assert app["applicationTemplateId"] == "t1" and app["uniqueName"] is None and app["id"] == KNOWN_AFTER_RUN


def test_entra_app_info_documents_every_view_key_it_can_return():
    from ansible_collections.smarttrace.sso.plugins.modules import entra_app_info
    documented = set(yaml.safe_load(entra_app_info.RETURN)["apps"]["contains"])
    shown = set(row.key for row in props.APP_PROPERTIES if row.key) - {"admin_consent_scopes"}  # entra_app_info reads no grant
    assert shown <= documented
    assert documented - shown == {"created", "service_principal", "credentials", "assignments_count"}
