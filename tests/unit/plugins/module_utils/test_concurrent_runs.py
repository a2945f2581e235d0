# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs that overlap take turns by the client secret they add (_concurrent_runs, entra_secret's in_flight_timeout)."""

import datetime
import json

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.concurrent_runs import ConcurrentRunError, ahead_of, in_flight, spared
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_options import SecretOptionError, check_options
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secrets import AppSecrets, ensure_absent, ensure_present
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fake_apps import NOW, FakeApps, credential, iso

END = NOW + datetime.timedelta(days=180)
MINUTE = 1.0 / 24 / 60
NAME = "SmartTrace SSO"


def params(**overrides):
    base = dict(app_id=None, app_object_id=None, display_name=NAME, state="present", expires_in_days=None, end_date=None,
                rotate_before_days=30, force=False, key_id=None, keep_key_id=None, wait_timeout=120, in_flight_timeout=900, held_key_id="")
    base.update(overrides)
    return base


def store_for(fake):
    return AppSecrets(fake.graph, app_id=fake.app["appId"], sleep=fake.clock.sleep, clock=fake.clock)


def added_by_another_run(fake, seconds_ago, hidden_reads=0):
    """A secret another run added ``seconds_ago`` (as Graph stamps it), invisible for ``hidden_reads`` reads (replication)."""
    item = credential(NAME, 180, started_days_ago=seconds_ago / 86400.0)
    fake.app["passwordCredentials"].append(item)
    if hidden_reads:
        fake.hidden[item["keyId"]] = hidden_reads
    return item


# ---------------------------------------------------------------------------------------------- which secrets are in flight
def test_in_flight_is_newer_than_the_held_one_recent_and_of_this_name():
    held = credential(NAME, 170, started_days_ago=10)
    older = credential(NAME, 100, started_days_ago=80)
    fresh = credential(NAME, 180, started_days_ago=2 * MINUTE)
    fresher = credential(NAME, 180, started_days_ago=1 * MINUTE)
    abandoned = credential(NAME, 180, started_days_ago=30 * MINUTE)
    other_name = credential("someone else", 180, started_days_ago=MINUTE)
    credentials = [fresher, held, abandoned, other_name, older, fresh]  # Graph's order promises nothing
    assert in_flight(credentials, NAME, held["keyId"].upper(), NOW, 900) == [fresh, fresher]
    assert in_flight(credentials, NAME, held["keyId"], NOW, 3600) == [abandoned, fresh, fresher]
    # nothing held (or a key id that is not this app's): every recent secret of the name is in flight
    assert in_flight(credentials, NAME, "", NOW, 900) == [fresh, fresher]
    assert in_flight(credentials, NAME, "00000000-0000-0000-0000-000000000000", NOW, 900) == [fresh, fresher]
    # a secret the consumer holds is never in flight, however new
    assert in_flight([fresh, fresher], NAME, fresher["keyId"], NOW, 900) == []


def test_the_run_whose_secret_graph_added_first_goes_first():
    first = credential(NAME, 180, started_days_ago=2 * MINUTE, key_id="bbbbbbbb-0000-0000-0000-000000000000")
    second = credential(NAME, 180, started_days_ago=1 * MINUTE, key_id="aaaaaaaa-0000-0000-0000-000000000000")
    same_moment = dict(second, keyId="cccccccc-0000-0000-0000-000000000000")
    everyone = [same_moment, second, first]
    assert ahead_of(everyone, NAME, "", NOW, 900, first["keyId"]) == []
    assert ahead_of(everyone, NAME, "", NOW, 900, second["keyId"]) == [first]
    assert ahead_of(everyone, NAME, "", NOW, 900, same_moment["keyId"]) == [first, second]  # a tie goes by key id


def test_retiring_spares_only_newer_secrets_in_flight():
    keep = credential(NAME, 170, started_days_ago=10)
    older = credential(NAME, 20, started_days_ago=160)
    newer = credential(NAME, 180, started_days_ago=MINUTE)
    abandoned = credential(NAME, 180, started_days_ago=2)  # newer than keep, but added longer than in_flight_timeout ago
    assert spared([older, newer, abandoned], keep, NAME, NOW, 900) == [newer]


# ---------------------------------------------------------------------------------------------- entra_secret
def test_no_secret_is_added_while_another_runs_is_in_flight_also_in_check_mode():
    for check_mode in (True, False):
        fake = FakeApps()
        held = fake.add(NAME, 5)
        theirs = added_by_another_run(fake, seconds_ago=20)
        with pytest.raises(ConcurrentRunError) as caught:
            ensure_present(store_for(fake), params(force=True, held_key_id=held["keyId"]), NOW, check_mode, END)
        message = str(caught.value)
        assert message.startswith("Another run is configuring this instance: it added the client secret key id %s" % theirs["keyId"])
        assert "This run added nothing." in message and "in_flight_timeout" in message
        assert [call[0] for call in fake.calls] == ["GET"]  # one read, no write
        assert fake.key_ids() == [held["keyId"], theirs["keyId"]]


def test_of_two_secrets_added_at_the_same_moment_the_second_is_removed_again():
    fake = FakeApps()
    held = fake.add(NAME, 5)
    theirs = added_by_another_run(fake, seconds_ago=0, hidden_reads=1)  # added a moment before ours, not visible to our first read
    fake.now = NOW + datetime.timedelta(seconds=1)
    with pytest.raises(ConcurrentRunError) as caught:
        ensure_present(store_for(fake), params(force=True, held_key_id=held["keyId"]), NOW, False, END)
    message = str(caught.value)
    assert theirs["keyId"] in message and "This run removed the secret it had added at the same moment" in message
    assert fake.key_ids() == [held["keyId"], theirs["keyId"]]  # ours is gone, theirs and the held one stay
    assert fake.secrets and not any(value in message or value[:8] in message for value in fake.secrets)
    assert ("POST", "/applications/%s/removePassword" % fake.app["id"]) in [call[:2] for call in fake.calls]


def test_the_first_of_two_goes_on_and_returns_its_secret():
    fake = FakeApps()
    held = fake.add(NAME, 5)
    store = store_for(fake)
    original_route = fake.route

    def another_run_adds_right_after(method, rest, query, body):
        reply = original_route(method, rest, query, body)
        if rest == "/addPassword":
            fake.app["passwordCredentials"].append(dict(credential(NAME, 180, started_days_ago=0), startDateTime=iso(NOW + datetime.timedelta(seconds=2))))
        return reply
    fake.route = another_run_adds_right_after
    outcome = ensure_present(store, params(force=True, held_key_id=held["keyId"]), NOW, False, END)
    assert outcome["changed"] is True and outcome["result"]["secret"] == fake.secrets[0]
    assert outcome["result"]["key_id"] == fake.key_ids()[1]
    assert len(fake.key_ids()) == 3  # the later run removes its own


def test_without_in_flight_timeout_nothing_changes():
    fake = FakeApps()
    fake.add(NAME, 5)
    added_by_another_run(fake, seconds_ago=20)
    outcome = ensure_present(store_for(fake), params(force=True, in_flight_timeout=0, held_key_id=None), NOW, False, END)
    assert outcome["changed"] is True and len(fake.key_ids()) == 3


def test_retire_keeps_a_newer_secret_in_flight_and_removes_older_and_abandoned_ones():
    fake = FakeApps()
    older = fake.add(NAME, 20, started_days_ago=160)
    keep = fake.add(NAME, 170, started_days_ago=10)
    abandoned = fake.add(NAME, 180, started_days_ago=2)
    theirs = added_by_another_run(fake, seconds_ago=30)
    absent = dict(params(state="absent", keep_key_id=keep["keyId"]), held_key_id=None)
    outcome = ensure_absent(store_for(fake), absent, NOW, False)
    assert sorted(outcome["result"]["removed_key_ids"]) == sorted([older["keyId"], abandoned["keyId"]])
    assert fake.key_ids() == [keep["keyId"], theirs["keyId"]]
    assert outcome["warnings"] and theirs["keyId"] in outcome["warnings"][0]
    # without in_flight_timeout, keep_key_id removes every other secret of the name, as documented
    fake.add(NAME, 30, started_days_ago=100)
    outcome = ensure_absent(store_for(fake), dict(absent, in_flight_timeout=0), NOW, False)
    assert fake.key_ids() == [keep["keyId"]]
    assert json.dumps(outcome["result"])  # plain data


@pytest.mark.parametrize("overrides, message", [
    ({"held_key_id": "nope"}, "held_key_id must be a GUID"),
    ({"in_flight_timeout": 0, "held_key_id": ""}, "held_key_id is used only with in_flight_timeout"),
    ({"in_flight_timeout": -1}, "in_flight_timeout must be 0 (off) to 86400 seconds"),
    ({"in_flight_timeout": 10 ** 30}, "in_flight_timeout must be 0 (off) to 86400 seconds"),
    ({"state": "absent", "held_key_id": ""}, "held_key_id is used only with state=present"),
])
def test_overlap_options_that_cannot_work_are_named(overrides, message):
    with pytest.raises(SecretOptionError) as caught:
        check_options(params(**overrides), NOW)
    assert message in str(caught.value)


def test_an_empty_held_key_id_means_the_consumer_holds_none():
    assert check_options(params(held_key_id=""), NOW) == END


# ---------------------------------------------------------------------------------------------- the caller's read (current_secrets)
def _known(*credentials):
    return [dict(item) for item in credentials]


@pytest.mark.parametrize("wait_timeout, reads", [(120, 3), (0, 1)])
def test_with_the_callers_secrets_a_secret_added_since_is_seen_after_adding(wait_timeout, reads):
    fake = FakeApps()
    held = fake.add(NAME, 5)
    theirs = added_by_another_run(fake, seconds_ago=5)  # after the caller's read: not in its list
    fake.now = NOW + datetime.timedelta(seconds=10)
    store = AppSecrets(fake.graph, app_id=fake.app["appId"], sleep=fake.clock.sleep, clock=fake.clock, wait_timeout=wait_timeout, known=_known(held))
    with pytest.raises(ConcurrentRunError) as caught:
        ensure_present(store, params(force=True, held_key_id=held["keyId"], wait_timeout=wait_timeout), NOW, False, END)
    assert theirs["keyId"] in str(caught.value) and "This run removed the secret it had added at the same moment" in str(caught.value)
    assert fake.key_ids() == [held["keyId"], theirs["keyId"]]
    # the app's id only (addPassword is defined on the object id's path), not its secrets, before the write
    assert fake.calls[1][:2] == ("POST", "/applications/%s/addPassword" % fake.app["id"])
    # add, the sightings (without wait_timeout one read all the same: the turn is taken on it), remove ours
    assert [call[0] for call in fake.calls] == ["GET", "POST"] + ["GET"] * reads + ["POST"]


def test_with_the_callers_secrets_and_none_in_flight_the_run_reads_only_after_adding():
    fake = FakeApps()
    held = fake.add(NAME, 5)
    store = AppSecrets(fake.graph, app_id=fake.app["appId"], sleep=fake.clock.sleep, clock=fake.clock, known=_known(held))
    outcome = ensure_present(store, params(force=True, held_key_id=held["keyId"]), NOW, False, END)
    assert outcome["changed"] is True and outcome["result"]["secret"] == fake.secrets[0]
    assert [item["key_id"] for item in outcome["before"]["secrets"]] == [held["keyId"]]
    assert [call[0] for call in fake.calls] == ["GET", "POST", "GET", "GET", "GET"]  # the app's id, add, then the 3 sightings (no verify)
