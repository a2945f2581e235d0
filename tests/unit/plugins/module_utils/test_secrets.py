# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_secrets: dates, the secret in use, expiry warnings, option checks, plans, and the Graph steps of entra_secret."""

import datetime
import json

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common import dates as _dates
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import parse_date_time
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_expiry import days_left, expiry_warnings, in_use, lifetime_problem
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_options import (
    SecretOptionError,
    check_options,
    explain_add_error,
    plan_absent,
    plan_present,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secrets import SIGHTINGS, AppSecrets, ensure_absent, ensure_present
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fake_apps import NOW, FakeApps, credential
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import graph_error

UTC = datetime.timezone.utc
KEY = "2f1b3d1e-8c3c-4a51-9f55-3a8d1d2e4b6c"


def params(**overrides):
    base = dict(app_id=None, app_object_id=None, display_name="smarttrace", state="present", expires_in_days=None, end_date=None,
                rotate_before_days=30, force=False, key_id=None, keep_key_id=None, wait_timeout=120)
    base.update(overrides)
    return base


def store_for(fake, **kwargs):
    return AppSecrets(fake.graph, app_id=fake.app["appId"], sleep=fake.clock.sleep, clock=fake.clock, **kwargs)


# ---------------------------------------------------------------------------------------------- dates
@pytest.mark.parametrize("text, expected", [
    ("2027-01-31", datetime.datetime(2027, 1, 31, tzinfo=UTC)),
    ("2027-01-31T12:00:00Z", datetime.datetime(2027, 1, 31, 12, tzinfo=UTC)),
    ("2027-01-31T12:00:00.1234567Z", datetime.datetime(2027, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)),
    ("2027-01-31T14:00:00+02:00", datetime.datetime(2027, 1, 31, 12, tzinfo=UTC)),
    ("2027-01-31T12:00", datetime.datetime(2027, 1, 31, 12, tzinfo=UTC)),
    (datetime.date(2027, 1, 31), datetime.datetime(2027, 1, 31, tzinfo=UTC)),
    ("next tuesday", None),
    ("2027-02-30", None),
    (None, None),
])
def test_parse_date_time(text, expected):
    assert parse_date_time(text) == expected


def test_days_left_rounds_down_and_goes_negative():
    assert days_left(credential("a", 180, now=NOW), NOW) == 180
    assert days_left({"endDateTime": "2026-06-02T11:59:59Z"}, NOW) == 0
    assert days_left({"endDateTime": "2026-05-30T12:00:00Z"}, NOW) == -2
    assert days_left({"endDateTime": None}, NOW) is None


# ---------------------------------------------------------------------------------------------- in use, warnings
def test_in_use_is_the_valid_secret_that_ends_last():
    old, new = credential("s", 5), credential("s", 170, started_days_ago=0)
    future = credential("s", 400, started_days_ago=-3)  # not started yet
    assert in_use([old, new, future], NOW) is new
    assert in_use([old, new], NOW, key_id=old["keyId"].upper()) is old
    expired = [credential("s", -5), credential("s", -1)]
    assert in_use(expired, NOW) is expired[1]
    assert in_use([], NOW) is None


def test_no_warning_while_the_secret_in_use_has_time():
    assert expiry_warnings([credential("s", 31)], 30, NOW, "app X") == []


def test_warning_for_the_secret_in_use_close_to_its_end():
    soon = credential("s", 12)
    warnings = expiry_warnings([soon, credential("other", 200)], 30, NOW, "app X")
    assert len(warnings) == 1
    assert soon["keyId"] in warnings[0] and "expires in 12 days" in warnings[0] and "rotate_before_days=30" in warnings[0]
    assert "app X" in warnings[0]


def test_warning_for_an_older_secret_points_at_the_newer_one():
    old, new = credential("s", 3), credential("s", 180, started_days_ago=0)
    warnings = expiry_warnings([old, new], 30, NOW, "app X")
    assert len(warnings) == 1
    assert old["keyId"] in warnings[0] and "keep_key_id=%s" % new["keyId"] in warnings[0]


def test_warning_when_every_secret_expired_and_none_for_expired_leftovers():
    gone = credential("s", -2)
    assert "expired on" in expiry_warnings([gone], 30, NOW, "app X")[0]
    assert expiry_warnings([gone, credential("s", 100)], 30, NOW, "app X") == []


def test_warnings_are_grouped_by_display_name_and_hold_no_value():
    items = [credential("a", 1), credential("b", 2), credential(None, 3)]
    items[0]["secretText"] = "never-shown-value"
    warnings = expiry_warnings(items, 30, NOW, "app X")
    assert len(warnings) == 3
    assert not any("never-shown-value" in text for text in warnings)
    assert "less than a day" not in warnings[0]
    assert "less than a day" in expiry_warnings([{"displayName": "x", "keyId": KEY, "endDateTime": "2026-06-01T18:00:00Z"}], 30, NOW, "a")[0]


def test_warnings_also_from_a_module_view_of_the_credentials():
    old, new = credential("s", 3), credential("s", 180, started_days_ago=0)
    view = [{"key_id": c["keyId"], "display_name": c["displayName"], "hint": c["hint"], "start": c["startDateTime"], "end": c["endDateTime"],
             "days_left": 0, "expired": False} for c in (old, new)]
    assert expiry_warnings(view, 30, NOW, "app X") == expiry_warnings([old, new], 30, NOW, "app X")
    assert len(expiry_warnings(view, 30, NOW, "app X")) == 1


# ---------------------------------------------------------------------------------------------- options
def test_default_lifetime_is_180_days():
    assert check_options(params(), NOW) == NOW + datetime.timedelta(days=180)
    assert check_options(params(expires_in_days=31), NOW) == NOW + datetime.timedelta(days=31)
    assert check_options(params(end_date="2027-01-31"), NOW) == datetime.datetime(2027, 1, 31, tzinfo=UTC)
    assert check_options(params(state="absent", keep_key_id=KEY), NOW) is None


def test_lifetimes_beyond_24_months_only_when_allowed():
    assert check_options(params(expires_in_days=730), NOW) == NOW + datetime.timedelta(days=730)
    assert check_options(params(expires_in_days=3000, allow_long_lifetime=True), NOW) == NOW + datetime.timedelta(days=3000)
    assert check_options(params(end_date="2030-01-01", allow_long_lifetime=True), NOW) == datetime.datetime(2030, 1, 1, tzinfo=UTC)
    assert lifetime_problem(730.9, False) is None  # whole days count (an end date at midnight)
    assert lifetime_problem(731, False).startswith("expires_in_days gives the secret 731 days")
    assert lifetime_problem(5000, True) is None


@pytest.mark.parametrize("overrides, message", [
    (dict(app_id="my-app"), "app_id must be a GUID"),
    (dict(app_object_id="x"), "app_object_id must be a GUID such as 00000000-0000-0000-0000-000000000000, got 'x': the Object ID"),
    (dict(state="absent", keep_key_id="latest"), "keep_key_id must be a GUID"),
    (dict(display_name="  "), "display_name must not be empty"),
    (dict(rotate_before_days=-1), "rotate_before_days must be 0 or more"),
    (dict(wait_timeout=-5), "wait_timeout must be 0 or more"),
    (dict(expires_in_days=0, rotate_before_days=0), "expires_in_days must be 1 or more"),
    (dict(expires_in_days=30), "rotate_before_days (30) must be less than expires_in_days (30)"),
    (dict(end_date="2026-05-01"), "end_date 2026-05-01T00:00:00Z is in the past (now is 2026-06-01T12:00:00Z)"),
    (dict(end_date="soon"), "end_date 'soon' is not a date: give YYYY-MM-DD"),
    (dict(end_date="2026-06-20"), "is only 18.5 days away, not more than rotate_before_days (30)"),
    (dict(key_id=KEY), "key_id is used only with state=absent: remove it, or set state=absent."),
    (dict(state="absent", force=True), "force is used only with state=present"),
    (dict(state="absent", expires_in_days=10), "expires_in_days is used only with state=present"),
    (dict(expires_in_days=3000), "expires_in_days gives the secret 3000 days, more than the 730 days (24 months) Microsoft recommends"),
    (dict(expires_in_days=731), "or set allow_long_lifetime to true to allow it."),
    (dict(end_date="2030-01-01"), "end_date 2030-01-01T00:00:00Z gives the secret 1309 days, more than the 730 days"),
    (dict(state="absent", allow_long_lifetime=True), "allow_long_lifetime is used only with state=present"),
])
def test_options_that_cannot_work_are_named(overrides, message):
    with pytest.raises(SecretOptionError) as caught:
        check_options(params(**overrides), NOW)
    assert message in str(caught.value)


def test_policy_errors_are_explained():
    lifetime = GraphError("Credential lifetime exceeds the max value allowed as per assigned policy 1.", status=400,
                          code="CredentialInvalidLifetimeAsPerAppPolicy")
    assert explain_add_error(lifetime, params(expires_in_days=400)).startswith("expires_in_days=400 is longer than the tenant allows")
    assert explain_add_error(lifetime, params(end_date="2030-01-01")).startswith("end_date=2030-01-01 is longer")
    blocked = GraphError("Password addition is not allowed as per assigned policy 1.", status=400, code="CredentialTypeNotAllowedAsPerAppPolicy")
    assert "does not allow client secrets" in explain_add_error(blocked, params())
    assert explain_add_error(GraphError("Insufficient privileges", status=403, code="Authorization_RequestDenied"), params()) is None
    assert explain_add_error(ValueError("x"), params()) is None


# ---------------------------------------------------------------------------------------------- plans
def test_present_keeps_a_secret_with_enough_days_and_adds_otherwise():
    fresh, stale = credential("s", 31), credential("s", 30)
    assert plan_present([fresh, credential("other", 1)], "s", 30, NOW) == (fresh, False)
    assert plan_present([stale], "s", 30, NOW) == (stale, True)
    assert plan_present([credential("other", 300)], "s", 30, NOW) == (None, True)
    assert plan_present([fresh], "s", 30, NOW, force=True) == (fresh, True)
    assert plan_present([stale, fresh], "s", 30, NOW) == (fresh, False)


def test_absent_plans_touch_only_this_display_name():
    old, new, other = credential("s", 3), credential("s", 180), credential("other", 3)
    everything = [old, new, other]
    assert plan_absent(everything, "s", NOW) == [old, new]
    assert plan_absent(everything, "s", NOW, key_id=old["keyId"].upper()) == [old]
    assert plan_absent(everything, "s", NOW, key_id=KEY) == []
    assert plan_absent(everything, "s", NOW, keep_key_id=new["keyId"]) == [old]
    with pytest.raises(SecretOptionError, match="belongs to the secret named 'other', not 's': nothing was removed"):
        plan_absent(everything, "s", NOW, key_id=other["keyId"])
    with pytest.raises(SecretOptionError, match="is not a secret named 's'"):
        plan_absent(everything, "s", NOW, keep_key_id=other["keyId"])
    expired = credential("s", -1)
    with pytest.raises(SecretOptionError, match="expired on .* nothing was removed"):
        plan_absent([old, expired], "s", NOW, keep_key_id=expired["keyId"])


# ---------------------------------------------------------------------------------------------- Graph steps
def test_unchanged_present_is_one_read():
    fake = FakeApps()
    kept = fake.add("smarttrace", 100)
    outcome = ensure_present(store_for(fake), params(), NOW, False, NOW + datetime.timedelta(days=180))
    assert outcome["changed"] is False
    assert outcome["result"]["key_id"] == kept["keyId"] and outcome["result"]["days_left"] == 100
    assert "secret" not in outcome["result"]
    assert fake.calls == [("GET", "/applications(appId='%s')" % fake.app["appId"], {"$select": "id,appId,displayName,passwordCredentials"})]
    assert outcome["before"] == outcome["after"] and outcome["warnings"] == []


def test_check_mode_predicts_without_writing():
    fake = FakeApps()
    old = fake.add("smarttrace", 10)
    outcome = ensure_present(store_for(fake), params(), NOW, True, NOW + datetime.timedelta(days=180))
    assert outcome["changed"] is True and fake.http == 1
    result = outcome["result"]
    assert (result["key_id"], result["hint"], result["start_date"]) == (KNOWN_AFTER_RUN,) * 3
    assert result["end_date"] == "2026-11-28T12:00:00Z" and result["days_left"] == 180
    assert [s["key_id"] for s in outcome["after"]["secrets"]] == [old["keyId"], KNOWN_AFTER_RUN]
    assert len(outcome["warnings"]) == 1 and "newer one exists (key_id %s)" % KNOWN_AFTER_RUN in outcome["warnings"][0]


def test_add_returns_the_value_once_and_waits_for_it():
    fake = FakeApps()
    old = fake.add("smarttrace", 10)
    outcome = ensure_present(store_for(fake), params(), NOW, False, NOW + datetime.timedelta(days=180))
    result = outcome["result"]
    assert outcome["changed"] is True and result["secret"] == fake.secrets[0]
    assert result["hint"] == fake.secrets[0][:3] and result["key_id"] == fake.key_ids("smarttrace")[1]
    assert fake.key_ids() == [old["keyId"], result["key_id"]]  # the old one stays
    methods = [(method, path.rsplit("/", 1)[-1]) for method, path, _query in fake.calls]
    assert methods == [("GET", "applications(appId='%s')" % fake.app["appId"]), ("POST", "addPassword")] + [("GET", fake.app["id"])] * SIGHTINGS
    shown = json.dumps([outcome["before"], outcome["after"], outcome["warnings"], dict(result, secret=None)])
    assert fake.secrets[0] not in shown and fake.secrets[0][:8] not in shown
    assert sum(fake.clock.sleeps) == SIGHTINGS - 1


def test_a_forced_rotation_returns_the_new_secret_although_graph_stamps_it_later():
    # Graph sets startDateTime with its own clock, a moment after the module's now: the result must still describe the new
    # secret, not the older one that is also valid (the role saves that key id in SmartTrace and retires the others).
    fake = FakeApps()
    old = fake.add("smarttrace", 170)
    fake.now = NOW + datetime.timedelta(seconds=1.4)
    outcome = ensure_present(store_for(fake), params(force=True), NOW, False, NOW + datetime.timedelta(days=180))
    result = outcome["result"]
    assert result["key_id"] == fake.key_ids("smarttrace")[1] != old["keyId"]
    assert result["secret"] == fake.secrets[0] and result["hint"] == fake.secrets[0][:3]
    assert result["start_date"] == "2026-06-01T12:00:01Z"


def test_a_secret_started_within_the_clock_skew_counts_as_started():
    old, new = credential("s", 170), credential("s", 180, started_days_ago=-1.0 / 24 / 60)  # starts in a minute (clock skew)
    later = credential("s", 400, started_days_ago=-1)  # starts tomorrow
    assert in_use([old, new, later], NOW) is new


def test_replication_lag_is_waited_out():
    fake = FakeApps()
    store = store_for(fake)
    original_route = fake.route

    def hide_new(method, rest, query, body):
        reply = original_route(method, rest, query, body)
        if rest == "/addPassword":
            fake.hidden[reply.body["keyId"]] = 3
        return reply
    fake.route = hide_new
    outcome = ensure_present(store, params(), NOW, False, NOW + datetime.timedelta(days=180))
    assert outcome["warnings"] == []
    assert len([call for call in fake.calls if call[0] == "GET"]) == 1 + 3 + SIGHTINGS


def test_no_wait_with_wait_timeout_zero_and_a_warning_when_it_runs_out():
    fake = FakeApps()
    ensure_present(store_for(fake, wait_timeout=0), params(wait_timeout=0), NOW, False, NOW + datetime.timedelta(days=180))
    assert len(fake.calls) == 2
    fake = FakeApps()
    original_route = fake.route

    def hide_forever(method, rest, query, body):
        reply = original_route(method, rest, query, body)
        if rest == "/addPassword":
            fake.hidden[reply.body["keyId"]] = 10 ** 6
        return reply
    fake.route = hide_forever
    outcome = ensure_present(store_for(fake, wait_timeout=30), params(wait_timeout=30), NOW, False, NOW + datetime.timedelta(days=180))
    assert outcome["result"]["secret"] == fake.secrets[0]
    assert "did not show up in %d consecutive reads within wait_timeout=30 s" % SIGHTINGS in outcome["warnings"][0]
    assert fake.clock.now - 1000.0 <= 30


def test_a_failure_after_adding_never_loses_the_value():
    fake = FakeApps()
    store = store_for(fake)

    def broken():
        raise GraphError("forbidden", status=403)
    store._read_credentials = broken
    outcome = ensure_present(store, params(), NOW, False, NOW + datetime.timedelta(days=180))
    assert outcome["result"]["secret"] == fake.secrets[0]
    assert "waiting for it to replicate failed (GraphError)" in outcome["warnings"][0]


def test_a_lost_add_answer_is_sent_again_and_the_orphan_removed():
    fake = FakeApps()
    fake.lose_add_answers = 1
    outcome = ensure_present(store_for(fake), params(), NOW, False, NOW + datetime.timedelta(days=180))
    assert len(fake.secrets) == 2
    assert outcome["result"]["secret"] == fake.secrets[1]
    assert fake.key_ids("smarttrace") == [outcome["result"]["key_id"]]
    assert [item["key_id"] for item in outcome["result"]["credentials"]] == [outcome["result"]["key_id"]]
    assert "did not answer an addPassword request but created the secret anyway" in outcome["warnings"][0]


def test_add_refused_by_a_policy_carries_an_explanation():
    fake = FakeApps()
    fake.max_lifetime_days = 90
    with pytest.raises(GraphError) as caught:
        ensure_present(store_for(fake), params(), NOW, False, NOW + datetime.timedelta(days=180))
    assert caught.value.explanation.startswith("expires_in_days=180 is longer than the tenant allows")
    assert fake.key_ids() == []


def test_app_not_visible_yet_is_waited_for_then_reported():
    fake = FakeApps()
    fake.app_hidden_reads = 2
    assert store_for(fake).read() == []
    assert len(fake.calls) == 3
    missing = AppSecrets(fake.graph, app_id="00000000-0000-0000-0000-00000000dead", wait_timeout=5, sleep=fake.clock.sleep, clock=fake.clock)
    with pytest.raises(SecretOptionError) as caught:
        missing.read()
    assert str(caught.value).startswith("there is no application with app_id 00000000-0000-0000-0000-00000000dead in this tenant (waited 5 s): "
                                        "check app_id, the Application (client) ID.")
    quick = AppSecrets(fake.graph, object_id="00000000-0000-0000-0000-00000000dead", wait_timeout=0, sleep=fake.clock.sleep, clock=fake.clock)
    with pytest.raises(SecretOptionError, match="tenant: check app_object_id"):
        quick.read()


def test_retire_keeps_one_and_removes_the_rest_in_one_batch():
    fake = FakeApps()
    old1, old2, new, other = fake.add("s", 3), fake.add("s", 5), fake.add("s", 180, started_days_ago=0), fake.add("other", 2)
    outcome = ensure_absent(store_for(fake), params(state="absent", display_name="s", keep_key_id=new["keyId"]), NOW, False)
    assert outcome["changed"] is True and outcome["error"] is None
    assert sorted(outcome["result"]["removed_key_ids"]) == sorted([old1["keyId"], old2["keyId"]])
    assert fake.key_ids() == [new["keyId"], other["keyId"]]
    assert [call[1] for call in fake.calls[1:]] == ["/applications/%s/removePassword" % fake.app["id"]] * 2
    assert fake.http == 2  # one GET, one $batch
    assert outcome["result"]["key_id"] == new["keyId"] and outcome["warnings"] == []


def test_absent_in_check_mode_and_when_nothing_is_left():
    fake = FakeApps()
    old = fake.add("s", 3)
    outcome = ensure_absent(store_for(fake), params(state="absent", display_name="s"), NOW, True)
    assert outcome["changed"] and outcome["result"]["removed_key_ids"] == [old["keyId"]] and fake.key_ids() == [old["keyId"]]
    assert "key_id" not in outcome["result"] and outcome["after"]["secrets"] == []
    outcome = ensure_absent(store_for(fake), params(state="absent", display_name="s", key_id=old["keyId"]), NOW, False)
    assert outcome["changed"] and fake.key_ids() == [] and fake.http == 3
    outcome = ensure_absent(store_for(fake), params(state="absent", display_name="s", key_id=old["keyId"]), NOW, False)
    assert not outcome["changed"] and outcome["result"]["removed_key_ids"] == [] and fake.http == 4


def test_absent_tolerates_a_secret_already_gone():
    fake = FakeApps()
    first, second = fake.add("s", 3), fake.add("s", 4)
    store = store_for(fake)
    store.read()
    fake.app["passwordCredentials"].remove(first)  # removed by someone else meanwhile
    assert store.remove([first["keyId"], second["keyId"]]) == ([second["keyId"]], [first["keyId"]], [])
    assert store.remove([first["keyId"]]) == ([], [first["keyId"]], [])
    assert store.remove([]) == ([], [], [])


def test_partial_failure_is_reported_with_what_was_removed():
    fake = FakeApps()
    first, second = fake.add("s", 3), fake.add("s", 4)
    store = store_for(fake)
    original_route = fake.route

    def deny_second(method, rest, query, body):
        if rest == "/removePassword" and body["keyId"] == second["keyId"]:
            return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        return original_route(method, rest, query, body)
    fake.route = deny_second
    outcome = ensure_absent(store, params(state="absent", display_name="s"), NOW, False)
    assert outcome["error"].status == 403
    assert outcome["result"]["removed_key_ids"] == [first["keyId"]]
    assert [item["key_id"] for item in outcome["result"]["credentials"]] == [second["keyId"]]


def test_keep_key_id_not_visible_says_it_may_be_replicating():
    fake = FakeApps()
    fake.add("s", 3)
    with pytest.raises(SecretOptionError, match="may still be replicating it: run again in a minute"):
        ensure_absent(store_for(fake), params(state="absent", display_name="s", keep_key_id=KEY), NOW, False)
    assert fake.http == 1


def test_module_level_now_has_whole_seconds():
    assert _dates.utc_now().microsecond == 0


# ---------------------------------------------------------------------------------------------- verification at the token endpoint
def _token_reply(code=None, status=401):
    from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import Reply
    if code is None:
        return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0eXAi.eyJ0b2tlbiI.sig"})
    return Reply(status, {"error": "invalid_client", "error_codes": [code],
                          "error_description": "AADSTS%d: refused.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2026" % code})


def _verifier(fake, replies, timeout=120):
    from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth import build_session
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_verify import SecretVerifier
    from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import mount, scripted
    session = build_session()
    server = mount(session, scripted(*replies))
    return SecretVerifier(session, "https://login.example/tenant/oauth2/v2.0/token", "https://graph.microsoft.com/.default", timeout=timeout,
                          sleep=fake.clock.sleep, clock=fake.clock), server


def test_verification_waits_out_replication_then_returns_the_secret():
    fake = FakeApps()
    verifier, server = _verifier(fake, [_token_reply(7000215), _token_reply(7000215), _token_reply()])
    outcome = ensure_present(store_for(fake), params(), NOW, False, NOW + datetime.timedelta(days=180), verifier=verifier)
    result = outcome["result"]
    assert result["secret"] == fake.secrets[0] and result["verification"]["verified"] is True and result["verification"]["attempts"] == 3
    assert [request.method for request in server.requests] == ["POST"] * 3  # no discovery, no msal
    form = server.requests[0].body
    assert "grant_type=client_credentials" in form and "client_id=%s" % fake.app["appId"] in form
    assert "verification" in json.dumps(dict(result, secret=None)) and fake.secrets[0] not in json.dumps(dict(result, secret=None))


def test_a_secret_that_never_works_is_removed_and_the_code_named():
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_verify import SecretVerificationError
    fake = FakeApps()
    old = fake.add("smarttrace", 10)
    verifier, server = _verifier(fake, [_token_reply(7000215)], timeout=20)
    with pytest.raises(SecretVerificationError) as caught:
        ensure_present(store_for(fake), params(), NOW, False, NOW + datetime.timedelta(days=180), verifier=verifier)
    error = caught.value
    assert "AADSTS7000215" in str(error) and "raise verify_timeout" in str(error) and "removed again" in str(error)
    assert fake.key_ids() == [old["keyId"]]  # the new one is gone, the old one untouched
    assert error.result["removed_key_ids"] == [error.key_id] and error.result["verification"]["aadsts"] == "7000215"
    assert fake.secrets[0] not in str(error) and fake.secrets[0] not in json.dumps(error.result)
    assert sum(fake.clock.sleeps) <= 20 + SIGHTINGS


def test_a_refusal_other_than_replication_is_the_verdict_at_once():
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_verify import SecretVerificationError
    fake = FakeApps()
    verifier, server = _verifier(fake, [_token_reply(53003, status=400)])
    with pytest.raises(SecretVerificationError) as caught:
        ensure_present(store_for(fake), params(), NOW, False, NOW + datetime.timedelta(days=180), verifier=verifier)
    assert len(server.requests) == 1 and "AADSTS53003" in str(caught.value) and "Conditional Access" in str(caught.value)
    assert fake.key_ids() == []


def test_no_verification_in_check_mode_or_without_a_new_secret():
    fake = FakeApps()
    fake.add("smarttrace", 100)
    verifier, server = _verifier(fake, [_token_reply()])
    outcome = ensure_present(store_for(fake), params(), NOW, False, NOW + datetime.timedelta(days=180), verifier=verifier)
    assert outcome["changed"] is False and server.requests == []
    outcome = ensure_present(store_for(fake), params(force=True), NOW, True, NOW + datetime.timedelta(days=180), verifier=verifier)
    assert outcome["changed"] is True and server.requests == []


def test_verify_is_an_option_of_state_present_only():
    with pytest.raises(SecretOptionError, match="verify is used only with state=present"):
        check_options(params(state="absent", verify=True), NOW)


# ---------------------------------------------------------------------------------------------- check mode's placeholder, fewer reads
def test_the_placeholder_app_id_is_accepted_in_check_mode_only():
    assert check_options(params(app_id=KNOWN_AFTER_RUN), NOW, check_mode=True) == NOW + datetime.timedelta(days=180)
    for option in ("app_id", "app_object_id"):
        with pytest.raises(SecretOptionError) as caught:
            check_options(params(**{option: KNOWN_AFTER_RUN}), NOW)
        assert str(caught.value).startswith("%s is '(known after the real run)', check mode's placeholder" % option)


def test_an_app_check_mode_would_create_is_predicted_without_a_request():
    fake = FakeApps()
    store = AppSecrets(fake.graph, app_id=KNOWN_AFTER_RUN, sleep=fake.clock.sleep, clock=fake.clock)
    outcome = ensure_present(store, params(app_id=KNOWN_AFTER_RUN, force=True), NOW, True, NOW + datetime.timedelta(days=180))
    assert fake.calls == [] and outcome["changed"] is True
    assert outcome["result"]["key_id"] == KNOWN_AFTER_RUN and outcome["result"]["secret"] == KNOWN_AFTER_RUN
    assert outcome["before"]["secrets"] == [] and [item["key_id"] for item in outcome["after"]["secrets"]] == [KNOWN_AFTER_RUN]
    assert outcome["before"]["application"] == "the application entra_app would create"
    outcome = ensure_absent(AppSecrets(fake.graph, app_id=KNOWN_AFTER_RUN), params(app_id=KNOWN_AFTER_RUN, state="absent"), NOW, True)
    assert fake.calls == [] and outcome["changed"] is False and outcome["result"]["removed_key_ids"] == []


def test_the_placeholder_keep_key_id_is_accepted_in_check_mode_only():
    assert check_options(params(state="absent", keep_key_id=KNOWN_AFTER_RUN), NOW, check_mode=True) is None
    with pytest.raises(SecretOptionError) as caught:
        check_options(params(state="absent", keep_key_id=KNOWN_AFTER_RUN), NOW)
    assert str(caught.value).startswith("keep_key_id is '(known after the real run)', check mode's placeholder for a secret")
    with pytest.raises(SecretOptionError, match="key_id must be a GUID"):  # only keep_key_id stands for a secret to add
        check_options(params(state="absent", key_id=KNOWN_AFTER_RUN), NOW, check_mode=True)


def test_retiring_against_a_secret_check_mode_would_add_predicts_the_real_run():
    fake = FakeApps()
    old1, old2, other = fake.add("s", 3), fake.add("s", 100, started_days_ago=0), fake.add("other", 2)
    wanted = params(state="absent", display_name="s", keep_key_id=KNOWN_AFTER_RUN, in_flight_timeout=3600)
    outcome = ensure_absent(store_for(fake), wanted, NOW, True)
    # the newest secret of the name goes too: the one to add is newer, so no secret is in flight ahead of it
    assert outcome["changed"] is True and sorted(outcome["result"]["removed_key_ids"]) == sorted([old1["keyId"], old2["keyId"]])
    assert fake.key_ids() == [old1["keyId"], old2["keyId"], other["keyId"]] and fake.http == 1  # one read, no write
    assert [item["key_id"] for item in outcome["before"]["secrets"]] == [old1["keyId"], old2["keyId"], KNOWN_AFTER_RUN]
    assert [item["key_id"] for item in outcome["after"]["secrets"]] == [KNOWN_AFTER_RUN]
    assert outcome["result"]["key_id"] == KNOWN_AFTER_RUN and outcome["warnings"] == []
    # none of the name: nothing to retire, as in the real run
    outcome = ensure_absent(store_for(fake), params(state="absent", display_name="t", keep_key_id=KNOWN_AFTER_RUN), NOW, True)
    assert outcome["changed"] is False and outcome["result"]["removed_key_ids"] == []


def test_retiring_on_an_app_check_mode_would_create_reads_nothing():
    fake = FakeApps()
    wanted = params(app_id=KNOWN_AFTER_RUN, state="absent", keep_key_id=KNOWN_AFTER_RUN)
    assert check_options(wanted, NOW, check_mode=True) is None
    outcome = ensure_absent(AppSecrets(fake.graph, app_id=KNOWN_AFTER_RUN), wanted, NOW, True)
    assert fake.calls == [] and outcome["changed"] is False and outcome["result"]["removed_key_ids"] == []


def test_a_verified_secret_is_read_once_after_adding():
    fake = FakeApps()
    verifier, dummy = _verifier(fake, [_token_reply()])
    outcome = ensure_present(store_for(fake), params(), NOW, False, NOW + datetime.timedelta(days=180), verifier=verifier)
    assert outcome["result"]["verification"]["verified"] is True
    assert [call[0] for call in fake.calls] == ["GET", "POST", "GET"]  # read, addPassword, one sighting


def test_current_secrets_that_are_not_secrets_are_named():
    with pytest.raises(SecretOptionError) as caught:
        check_options(params(current_secrets=[{"key_id": "x", "display_name": "smarttrace"}]), NOW)
    assert str(caught.value).startswith("current_secrets[0] must be a secret")
    with pytest.raises(SecretOptionError) as caught:
        check_options(params(state="absent", current_secrets=[]), NOW)
    assert "current_secrets is used only with state=present" in str(caught.value)


def test_the_wait_for_a_new_secret_ends_by_the_tasks_budget():
    from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import Deadline
    fake = FakeApps()
    started = fake.clock()
    original_route = fake.route

    def hide_forever(method, rest, query, body):
        reply = original_route(method, rest, query, body)
        if rest == "/addPassword":
            fake.hidden[reply.body["keyId"]] = 10 ** 6
        return reply
    fake.route = hide_forever
    store = store_for(fake, wait_timeout=120, deadline=Deadline(5, fake.clock))
    outcome = ensure_present(store, params(wait_timeout=120), NOW, False, NOW + datetime.timedelta(days=180))
    assert outcome["result"]["secret"] == fake.secrets[0] and fake.clock() - started <= 5
