# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_plan/summary.py: the role's summary (smarttrace_sso_summary) for each path of a run, and the guard against the results an
earlier instance left behind (include_role in a loop)."""

import copy

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.plugins.module_utils._plan.summary import run_summary

APP = {"changed": True, "app_id": "11111111-1111-1111-1111-111111111111", "object_id": "22222222-2222-2222-2222-222222222222",
       "service_principal_id": "33333333-3333-3333-3333-333333333333"}
HELD = {"key_id": "44444444-4444-4444-4444-444444444444", "display_name": "SmartTrace SSO", "end_date": "2027-06-01T00:00:00Z", "days_left": 178}
OLDER = {"key_id": "55555555-5555-5555-5555-555555555555", "display_name": "SmartTrace SSO", "end_date": "2027-01-01T00:00:00Z", "days_left": 27}
NEW_KEY = "66666666-6666-6666-6666-666666666666"
ASSIGNED = [{"name": "B.Simon@contoso.com", "principal_type": "User"}, {"name": "SmartTrace Users", "principal_type": "Group"}]


def plan(**changes):
    base = {"app_found": False, "our_secrets": [], "healthy_secrets": [], "held_key_id": "", "verification": None,
            "test_upns": ["B.Simon@contoso.com"], "known_after_run": KNOWN_AFTER_RUN}
    base.update(changes)
    return base


def fresh_run(**changes):
    """The demo's fresh run: app created, B.Simon created, user and group assigned, a secret minted, SmartTrace saved and tested."""
    run = {"instance": "acme", "state": "present", "check_mode": False, "configure_smarttrace": True,
           "tenant_id": "77777777-7777-7777-7777-777777777777", "app_display_name": "SmartTrace", "unique_name": "smarttrace-sso-acme",
           "redirect_uri": "https://api.smarttrace.ai/v1/auth/callback/azure/acme",
           "logout_url": "https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme", "secret_display_name": "SmartTrace SSO",
           "app_role": "", "handover_file": "/home/me/.smarttrace-sso/acme.json", "mint": True, "plan": plan(),
           "app": dict(APP), "users": {"users": [{"user_principal_name": "B.Simon@contoso.com", "changed": True, "action": "created"}]},
           "assignments": {"changed": True, "assignments": ASSIGNED, "added": ASSIGNED, "removed": []},
           "saved_integration": {"changed": True, "verification": {"ok": True}}, "handover_written": {}, "retired": {"skipped": True},
           "secret": {"key_id": NEW_KEY, "end_date": "2027-12-05T10:00:00Z", "days_left": 365}}
    run.update(changes)
    return run


def test_a_fresh_run_says_what_it_created_and_that_the_test_passed():
    summary = run_summary(fresh_run())
    assert summary["application"]["app_id"] == APP["app_id"]
    assert summary["client_secret"] == {"display_name": "SmartTrace SSO", "key_id": NEW_KEY, "expires": "2027-12-05T10:00:00Z", "days_left": 365,
                                        "minted_in_this_run": True, "retired_key_ids": []}
    assert summary["assigned"] == {"users": ["B.Simon@contoso.com"], "groups": ["SmartTrace Users"], "app_role": "Default Access"}
    assert summary["changed"] == ["app registration created", "test users created: B.Simon@contoso.com",
                                  "assigned: B.Simon@contoso.com, SmartTrace Users", "client secret minted: " + NEW_KEY,
                                  "SmartTrace integration saved with the new secret"]
    assert summary["smarttrace"] == {"configured_by_this_role": True, "test": "passed"}
    assert summary["test_users"] == ["B.Simon@contoso.com"]


def test_an_unchanged_rerun_reports_the_secret_smarttrace_holds_and_changes_nothing():
    run = fresh_run(mint=False, plan=plan(app_found=True, our_secrets=[OLDER, HELD], healthy_secrets=[HELD], held_key_id=HELD["key_id"],
                                          verification={"ok": True}),
                    app=dict(APP, changed=False), users={"users": [{"user_principal_name": "B.Simon@contoso.com", "changed": False}]},
                    assignments={"changed": False, "assignments": ASSIGNED, "added": [], "removed": []}, saved_integration={"skipped": True},
                    secret={"key_id": None, "end_date": None, "days_left": None})
    summary = run_summary(run)
    assert summary["client_secret"]["key_id"] == HELD["key_id"] and summary["client_secret"]["minted_in_this_run"] is False
    assert summary["client_secret"]["days_left"] == 178
    assert summary["changed"] == []
    assert summary["smarttrace"]["test"] == "passed"  # the plan's test of the secret SmartTrace holds


def test_check_mode_predicts_the_new_secret_and_does_not_run_the_test():
    run = fresh_run(check_mode=True, secret={"key_id": KNOWN_AFTER_RUN, "end_date": None, "days_left": None}, saved_integration={"changed": False})
    summary = run_summary(run)
    assert "client secret minted: " + KNOWN_AFTER_RUN in summary["changed"]
    assert "SmartTrace integration saved with the new secret" in summary["changed"]
    assert summary["smarttrace"]["test"] == "not run (check mode)"


def test_a_secret_key_id_the_module_did_not_return_is_known_after_the_run():
    summary = run_summary(fresh_run(secret={"key_id": None, "end_date": None, "days_left": None}))
    assert summary["client_secret"]["key_id"] == KNOWN_AFTER_RUN


def test_a_failed_smarttrace_test_is_reported():
    assert run_summary(fresh_run(saved_integration={"changed": True, "verification": {"ok": False}}))["smarttrace"]["test"] == "failed"
    assert run_summary(fresh_run(saved_integration={"changed": True, "verification": None}))["smarttrace"]["test"] == "failed"


def test_retired_secrets_are_listed():
    summary = run_summary(fresh_run(retired={"changed": True, "removed_key_ids": [OLDER["key_id"]]}))
    assert summary["changed"][-1] == "client secrets retired: " + OLDER["key_id"]
    assert summary["client_secret"]["retired_key_ids"] == [OLDER["key_id"]]


def test_offboarding_reports_what_it_removed_and_nothing_of_the_configure_steps():
    run = fresh_run(state="absent", mint=False, plan=plan(app_found=True, verification=None),
                    app={"changed": True}, users={"users": [{"user_principal_name": "B.Simon@contoso.com", "changed": True, "action": "deleted"}]},
                    # results an earlier instance registered (include_role in a loop): not this run's
                    assignments={"changed": True, "assignments": ASSIGNED, "added": ASSIGNED, "removed": []},
                    retired={"changed": True, "removed_key_ids": [OLDER["key_id"]]},
                    saved_integration={"changed": True})
    summary = run_summary(run)
    assert summary["application"] == {} and summary["client_secret"] == {} and summary["assigned"] == {}
    assert summary["changed"] == ["app registration deleted", "test users deleted: B.Simon@contoso.com", "SmartTrace integration removed"]
    assert summary["smarttrace"] == {"configured_by_this_role": True, "test": "not run (offboarded)"}


def test_without_smarttrace_api_access_the_summary_names_the_handover_file_and_what_to_paste():
    run = fresh_run(configure_smarttrace=False, saved_integration={}, handover_written={"changed": True})
    summary = run_summary(run)
    assert summary["smarttrace"] == {
        "configured_by_this_role": False, "handover_file": "/home/me/.smarttrace-sso/acme.json",
        "paste": {"APPLICATION ID": APP["app_id"], "TENANT ID": "77777777-7777-7777-7777-777777777777",
                  "APPLICATION (CLIENT) SECRET": "in /home/me/.smarttrace-sso/acme.json"}}
    assert "hand-over file written: /home/me/.smarttrace-sso/acme.json" in summary["changed"]
    assert not any(text.startswith("SmartTrace integration") for text in summary["changed"])


def test_without_smarttrace_api_access_and_no_new_secret_the_latest_healthy_secret_is_in_use():
    run = fresh_run(configure_smarttrace=False, mint=False, plan=plan(app_found=True, healthy_secrets=[OLDER, HELD]), app=dict(APP, changed=False),
                    users={}, assignments={}, saved_integration={}, handover_written={"skipped": True})
    summary = run_summary(run)
    assert summary["client_secret"]["key_id"] == HELD["key_id"]
    assert summary["smarttrace"]["handover_file"] is None
    assert summary["smarttrace"]["paste"]["APPLICATION (CLIENT) SECRET"] == "unchanged: SmartTrace keeps the secret it has"
    assert summary["assigned"]["users"] is None  # nothing read the assignments of an app that was there


@pytest.mark.parametrize("app_found,expected", [(False, []), (True, None)])
def test_assignments_not_read_are_none_unless_the_app_is_new(app_found, expected):
    run = fresh_run(plan=plan(app_found=app_found), assignments={"skipped": True})
    assert run_summary(run)["assigned"]["users"] == expected


def test_an_app_role_is_named():
    assert run_summary(fresh_run(app_role="Reader"))["assigned"]["app_role"] == "Reader"


def test_the_input_is_not_changed():
    run = fresh_run()
    before = copy.deepcopy(run)
    run_summary(run)
    assert run == before
