# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_reconcile: order-insensitive comparison, list merges, minimal PATCH bodies, secret-free diffs."""

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common.reconcile import (
    changed_properties,
    deep_merge,
    lists_equal,
    make_diff,
    merge_list,
    values_equal,
)

GRAPH = "00000003-0000-0000-c000-000000000000"
OPENID = {"id": "37f7f235-527c-4136-accd-4a02d197296e", "type": "Scope"}
PROFILE = {"id": "14dad69e-099b-42c9-810b-d002981feec1", "type": "Scope"}


def test_lists_compare_order_insensitively_as_multisets():
    assert lists_equal(["b", "a"], ["a", "b"])
    assert not lists_equal(["a", "a"], ["a"])
    assert lists_equal(None, [])
    assert not lists_equal([1], [True])
    assert lists_equal([{"type": "Scope", "id": "1"}, {"id": "2", "type": "Role"}], [{"id": "2", "type": "Role"}, {"id": "1", "type": "Scope"}])


def test_nested_lists_of_dicts():
    current = [{"resourceAppId": GRAPH, "resourceAccess": [OPENID, PROFILE]}]
    wanted = [{"resourceAccess": [PROFILE, OPENID], "resourceAppId": GRAPH}]
    assert values_equal(current, wanted)
    assert not values_equal(current, [{"resourceAppId": GRAPH, "resourceAccess": [OPENID]}])


@pytest.mark.parametrize("mode, expected", [
    ("exact", ["https://c/cb", "https://a/cb"]),
    ("append", ["https://a/cb", "https://b/cb", "https://c/cb"]),
    ("remove", ["https://b/cb"]),
])
def test_merge_list_modes(mode, expected):
    assert merge_list(["https://a/cb", "https://b/cb"], ["https://c/cb", "https://a/cb", "https://c/cb"], mode) == expected


def test_merge_list_unchanged_comes_back_identical_and_by_key():
    current = ["https://a/cb", "https://b/cb"]
    assert merge_list(current, ["https://b/cb"], "append") == current
    roles = [{"id": "r1", "value": "Admin", "isEnabled": True}]
    assert merge_list(roles, [{"id": "r1", "value": "Admin", "isEnabled": False}], "append", key=lambda role: role["id"]) == roles
    assert merge_list(roles, [{"id": "r1"}], "remove", key=lambda role: role["id"]) == []
    with pytest.raises(ValueError):
        merge_list([], [], "replace")


def test_changed_properties_returns_only_what_differs():
    current = {"displayName": "SmartTrace", "signInAudience": "AzureADMyOrg", "tags": ["b", "a"],
               "web": {"redirectUris": ["https://x/cb"], "logoutUrl": None, "implicitGrantSettings": {"enableIdTokenIssuance": False}}}
    desired = {"displayName": "SmartTrace", "tags": ["a", "b"], "notes": None,
               "web": {"redirectUris": ["https://x/cb"], "logoutUrl": "https://x/logout", "implicitGrantSettings": {"enableIdTokenIssuance": False}}}
    assert changed_properties(current, desired) == {"web": {"logoutUrl": "https://x/logout"}}
    assert changed_properties(current, {"tags": ["a", "b"], "web": {"redirectUris": ["https://x/cb"]}}) == {}
    assert changed_properties(None, {"web": {"a": 1}}) == {"web": {"a": 1}}
    assert changed_properties({"notes": "x"}, {"notes": None}, ignore_none=False) == {"notes": None}


def test_deep_merge_builds_the_whole_nested_object():
    current = {"redirectUris": ["https://x/cb"], "implicitGrantSettings": {"enableIdTokenIssuance": False, "enableAccessTokenIssuance": False}}
    merged = deep_merge(current, {"logoutUrl": "https://x/logout", "implicitGrantSettings": {"enableIdTokenIssuance": True}})
    assert merged == {"redirectUris": ["https://x/cb"], "logoutUrl": "https://x/logout",
                      "implicitGrantSettings": {"enableIdTokenIssuance": True, "enableAccessTokenIssuance": False}}
    assert current["implicitGrantSettings"]["enableIdTokenIssuance"] is False  # not modified


def test_make_diff_never_shows_no_log_values_or_secret_fields():
    before = {"displayName": "k", "passwordCredentials": [{"keyId": "1", "hint": "abc"}]}
    after = {"displayName": "k", "secretText": "abcSECRETvalue", "note": "made with token tok-12345", "passwordProfile": {"password": "P@ss"}}
    diff = make_diff(before, after, no_log_values={"tok-12345"})
    text = repr(diff)
    assert "abcSECRETvalue" not in text and "tok-12345" not in text and "P@ss" not in text
    assert diff["before"] == before and diff["after"]["displayName"] == "k"
    assert make_diff(None, {"a": 1}) == {"before": {}, "after": {"a": 1}}
