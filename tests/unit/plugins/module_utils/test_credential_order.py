# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Graph promises no order for an app's credentials (real Graph lists them newest first; older fakes oldest first).

Every choice and every listing the collection makes from them must be the same for both orders, including ties
(secrets added in the same second with the same end).
"""

import copy
import datetime

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.concurrent_runs import ahead_of, in_flight
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.apps import credentials_view
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_expiry import expiry_warnings, in_use
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_options import plan_absent, plan_present
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.tenant import app_result
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fake_apps import NOW, credential

KEYS = ["%08d-0000-4000-8000-000000000000" % number for number in range(1, 5)]


def _secrets():
    """Oldest first: an old one close to its end, two twins (same start, same end), one added a minute ago."""
    old = credential("smarttrace", 5, started_days_ago=700, key_id=KEYS[0])
    twin_a = credential("smarttrace", 400, started_days_ago=3, key_id=KEYS[2])
    twin_b = credential("smarttrace", 400, started_days_ago=3, key_id=KEYS[1])
    fresh = dict(credential("smarttrace", 20, started_days_ago=0, key_id=KEYS[3]),
                 startDateTime=(NOW - datetime.timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return [old, twin_a, twin_b, fresh]


ORDERS = pytest.mark.parametrize("order", ["oldest first", "newest first", "shuffled"])


def _in(order):
    items = _secrets()
    return {"oldest first": items, "newest first": items[::-1], "shuffled": [items[2], items[0], items[3], items[1]]}[order]


def _keys(items):
    return [item.get("keyId") or item.get("key_id") for item in items]


@ORDERS
def test_the_secret_in_use_does_not_depend_on_the_order(order):
    assert in_use(_in(order), NOW)["keyId"] == in_use(_secrets(), NOW)["keyId"] == KEYS[2]   # the twins tie: the larger key id
    current, add = plan_present(_in(order), "smarttrace", 30, NOW)
    assert (current["keyId"], add) == (KEYS[2], False)


@ORDERS
def test_warnings_and_listings_do_not_depend_on_the_order(order):
    assert expiry_warnings(_in(order), 30, NOW, "app X") == expiry_warnings(_secrets(), 30, NOW, "app X")
    assert len(expiry_warnings(_in(order), 30, NOW, "app X")) == 2
    app = {"passwordCredentials": _in(order), "keyCredentials": []}
    assert credentials_view(copy.deepcopy(app), NOW) == credentials_view({"passwordCredentials": _secrets(), "keyCredentials": []}, NOW)
    assert _keys(credentials_view(app, NOW)["secrets"]) == [KEYS[0], KEYS[3], KEYS[1], KEYS[2]]
    described = app_result("u", {"id": "o", "appId": "a", "displayName": "d", "passwordCredentials": _in(order)}, NOW)["secrets"]
    assert _keys(described) == [KEYS[0], KEYS[3], KEYS[1], KEYS[2]]


@ORDERS
def test_retiring_and_runs_in_flight_do_not_depend_on_the_order(order):
    assert sorted(_keys(plan_absent(_in(order), "smarttrace", NOW, keep_key_id=KEYS[1]))) == [KEYS[0], KEYS[2], KEYS[3]]
    flying = in_flight(_in(order), "smarttrace", KEYS[0], NOW, 3600)
    assert _keys(flying) == [KEYS[3]]
    assert _keys(in_flight(_in(order), "smarttrace", None, NOW, 7 * 86400)) == [KEYS[1], KEYS[2], KEYS[3]]
    assert _keys(ahead_of(_in(order), "smarttrace", None, NOW, 7 * 86400, KEYS[3])) == [KEYS[1], KEYS[2]]
