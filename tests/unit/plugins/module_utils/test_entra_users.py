# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_entra_users: input rules, plans, batched writes, lost answers, and per-user explanations of Entra ID's refusals."""

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import Waiter
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import mask_secrets
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.user_rules import (
    NICKNAME_RULE,
    PASSWORD_RULE,
    UPN_RULE,
    nickname_problem,
    password_problem,
    upn_problem,
    validate_user,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.users import PASSWORD_PERMISSION, UserSync
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fake_directory import FakeDirectory
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import graph_error

PASSWORD = "Kq7#st-sso-it-Lw2!Vz"


def entry(upn, **options):
    base = dict(user_principal_name=upn, display_name=None, mail_nickname=None, password=None, update_password="on_create",
                force_change_password_next_sign_in=True, account_enabled=None, given_name=None, surname=None, usage_location=None, state="present")
    base.update(options)
    return base


@pytest.fixture
def directory():
    return FakeDirectory()


def sync(directory, check_mode=False):
    return UserSync(directory.graph, Waiter(sleep=directory.clock.sleep, clock=directory.clock), check_mode)


# ---------------------------------------------------------------------------------------------- input rules
@pytest.mark.parametrize("upn", ["B.Simon@contoso.onmicrosoft.com", "o'brien_#x~^!-1@contoso.example", "a@b.co",
                                 "$user#000001@contoso.example", "back`tick@contoso.example"])
def test_good_upns(upn):
    assert upn_problem(upn) is None


@pytest.mark.parametrize("upn, text", [
    ("b simon@contoso.example", "the part before @"),
    ("jörg@contoso.example", "the part before @"),
    ("b%simon@contoso.example", "the part before @"),
    ("b+simon@contoso.example", "the part before @"),
    (".bsimon@contoso.example", "the part before @"),
    ("b..simon@contoso.example", "the part before @"),
    ("bsimon", "exactly one @"),
    ("a@b@contoso.example", "exactly one @"),
    ("bsimon@contoso", "not a domain name"),
    ("x" * 65 + "@contoso.example", "the part before @"),
])
def test_bad_upns_name_the_rule(upn, text):
    assert text in upn_problem(upn)


def test_password_rule_never_shows_the_password():
    assert password_problem(PASSWORD) is None
    for weak in ("short1A", "alllowercase", "ALLUPPER123", "Ünïcode-Passw0rd", "x" * 257 + "A1"):
        problem = password_problem(weak)
        assert problem.startswith("does not meet the complexity rule of Entra ID")
        assert weak not in problem
    assert "it has 7 characters" in password_problem("short1A")
    assert "only 1 of the 4 kinds" in password_problem("alllowercase")
    assert "outside printable ASCII" in password_problem("Ünïcode-Passw0rd")


def test_nickname_and_other_fields():
    assert nickname_problem("b.simon") is None
    assert "none of @" in nickname_problem("b simon")
    problems = validate_user(entry("x@contoso.example", mail_nickname="a@b", usage_location="USA", display_name="  ", update_password="always"))
    assert len(problems) == 4
    assert any(problem.startswith("mail_nickname 'a@b'") for problem in problems)
    assert any("usage_location 'USA'" in problem for problem in problems)
    assert "display_name must have 1 to 256 characters, not only spaces" in problems
    assert "update_password set to always needs password" in problems


# ---------------------------------------------------------------------------------------------- plans and writes
def test_create_update_unchanged_delete_absent_in_one_lookup_and_one_batch(directory):
    same = directory.add_user("same@contoso.example", displayName="Same")
    changing = directory.add_user("changing@contoso.example", displayName="Old", usageLocation="US")
    leaving = directory.add_user("leaving@contoso.example")
    entries = [entry("new@contoso.example", password=PASSWORD, display_name="New", usage_location="de"),
               entry("SAME@contoso.example", display_name="Same", password=PASSWORD),
               entry("changing@contoso.example", display_name="New name", usage_location="US", account_enabled=False),
               entry("leaving@contoso.example", state="absent"),
               entry("never@contoso.example", state="absent")]
    results, (before, after) = sync(directory).run(entries)
    assert [result["action"] for result in results] == ["created", "unchanged", "updated", "deleted", "absent"]
    assert [result["changed"] for result in results] == [True, False, True, True, False]
    assert directory.http == 2
    created = next(user for user in directory.users.values() if user["userPrincipalName"] == "new@contoso.example")
    assert results[0]["id"] == created["id"]
    assert created["displayName"] == "New" and created["usageLocation"] == "DE" and created["mailNickname"] == "new" and created["accountEnabled"]
    assert results[1]["id"] == same["id"] and results[1]["user_principal_name"] == "same@contoso.example"
    assert results[2]["changes"] == ["display_name", "account_enabled"]
    assert directory.users[changing["id"]]["displayName"] == "New name" and directory.users[changing["id"]]["accountEnabled"] is False
    assert leaving["id"] in directory.deleted_users
    assert sorted(before) == ["changing@contoso.example", "leaving@contoso.example"]
    assert sorted(after) == ["changing@contoso.example", "new@contoso.example"]
    assert after["changing@contoso.example"]["display_name"] == "New name" and before["changing@contoso.example"]["display_name"] == "Old"


def test_the_password_is_sent_on_create_only_unless_always(directory):
    user = directory.add_user("bsimon@contoso.example")
    results, _diff = sync(directory).run([entry("bsimon@contoso.example", password=PASSWORD)])
    assert results[0]["action"] == "unchanged"
    assert [call[0] for call in directory.calls] == ["GET"]
    results, (_before, after) = sync(directory).run([entry("bsimon@contoso.example", password=PASSWORD, update_password="always",
                                                           force_change_password_next_sign_in=False)])
    assert results[0]["action"] == "updated" and results[0]["changes"] == ["password"]
    assert after["bsimon@contoso.example"]["password"] == "(changed)"
    assert directory.calls[-1][:2] == ("PATCH", "/users/%s" % user["id"])


def test_check_mode_writes_nothing_and_predicts_refusals(directory):
    directory.add_user("same@contoso.example")
    results, (_before, after) = sync(directory, check_mode=True).run([
        entry("new@contoso.example", password=PASSWORD),
        entry("x@fabrikam.example", password=PASSWORD),
        entry("nopassword@contoso.example"),
        entry("same@contoso.example", state="absent")])
    assert [result["action"] for result in results] == ["created", "failed", "failed", "deleted"]
    assert results[0]["id"] == KNOWN_AFTER_RUN
    assert "not a verified domain of the tenant: use one of contoso.example, contoso.onmicrosoft.com" in results[1]["error"]
    assert results[2]["error"].startswith("password is required to create the user")
    assert not [call for call in directory.calls if call[0] != "GET"]
    assert directory.http == 2      # the users, then the domains
    assert not [call for call in directory.calls if "deletedItems" in call[1]]  # a deleted user holds no name: not looked for
    assert sorted(after) == ["new@contoso.example"]


def test_refusals_are_explained_per_user_and_the_others_still_happen(directory):
    directory.add_user("taken@contoso.example")
    directory.young.add(next(iter(directory.users)))     # a user created a moment ago by someone else: not found, but its name is taken
    results, _diff = sync(directory).run([
        entry("ok@contoso.example", password=PASSWORD),
        entry("x@fabrikam.example", password=PASSWORD),
        entry("taken@contoso.example", password=PASSWORD),
        entry("weak@contoso.example", password="Aa1!")])
    assert [result["action"] for result in results] == ["created", "failed", "failed", "failed"]
    assert "use one of contoso.example, contoso.onmicrosoft.com, or verify fabrikam.example first" in results[1]["error"]
    assert "is already used by another object" in results[2]["error"] and "a deleted user does not hold it" in results[2]["error"]
    assert "refused by the password policy" in results[3]["error"] and "Aa1!" not in results[3]["error"]
    assert results[0]["changed"] and not any(result["changed"] for result in results[1:])
    assert not [call for call in directory.calls if "deletedItems" in call[1]]


def test_created_by_is_written_on_create_only(directory):
    directory.add_user("old@contoso.example")   # made before the mark existed, or by someone else
    entries = [entry("new@contoso.example", password=PASSWORD, created_by="smarttrace-sso:acme"),
               entry("old@contoso.example", created_by="smarttrace-sso:acme")]
    results, (_before, after) = sync(directory).run(entries)
    assert [result["action"] for result in results] == ["created", "unchanged"]
    assert results[0]["employee_type"] == "smarttrace-sso:acme" and results[1]["employee_type"] is None
    assert directory.users[results[0]["id"]]["employeeType"] == "smarttrace-sso:acme"
    assert "employeeType" not in next(user for user in directory.users.values() if user["userPrincipalName"] == "old@contoso.example")
    assert [call[0] for call in directory.calls if call[0] != "GET"] == ["POST"]   # the old user is never marked
    assert sorted(after) == ["new@contoso.example"]


def test_absent_with_created_by_deletes_only_the_users_carrying_the_mark(directory):
    mine = directory.add_user("mine@contoso.example", employeeType="smarttrace-sso:acme")
    directory.add_user("theirs@contoso.example", employeeType="smarttrace-sso:globex")
    directory.add_user("unmarked@contoso.example")
    for check_mode in (True, False):
        results, (before, after) = sync(directory, check_mode).run(
            [entry(upn, state="absent", created_by="smarttrace-sso:acme")
             for upn in ("mine@contoso.example", "theirs@contoso.example", "unmarked@contoso.example", "none@contoso.example")])
        assert [result["action"] for result in results] == ["deleted", "kept", "kept", "absent"]
        assert [result["changed"] for result in results] == [True, False, False, False]
        assert "not created by smarttrace-sso:acme (its employeeType is 'smarttrace-sso:globex')" in results[1]["reason"]
        assert "not created by smarttrace-sso:acme (its employeeType is empty)" in results[2]["reason"]
        assert sorted(before) == ["mine@contoso.example"] and after == {}
    assert [call[:2] for call in directory.calls if call[0] != "GET"] == [("DELETE", "/users/%s" % mine["id"])]
    assert sorted(user["userPrincipalName"] for user in directory.users.values()) == ["theirs@contoso.example", "unmarked@contoso.example"]


def test_an_empty_created_by_is_refused():
    assert "created_by must not be empty" in " ".join(validate_user(entry("a@contoso.example", created_by=" ")))


def test_a_create_whose_answer_was_lost_is_looked_for_not_repeated(directory):
    directory.lose_answer.add("POST")
    results, _diff = sync(directory).run([entry("bsimon@contoso.example", password=PASSWORD), entry("other@contoso.example", password=PASSWORD)])
    assert [result["action"] for result in results] == ["created", "created"]
    assert len(directory.users) == 2
    assert all(result["id"] in directory.users for result in results)
    assert len([call for call in directory.calls if call[0] == "POST"]) == 2


def test_a_create_lost_before_it_happened_is_sent_again(directory):
    directory.fail_next[("POST", "/users")] = [graph_error(504, "UnknownError", "The gateway did not receive a timely response.")]
    results, _diff = sync(directory).run([entry("bsimon@contoso.example", password=PASSWORD)])
    assert results[0]["action"] == "created" and results[0]["id"] in directory.users
    assert len([call for call in directory.calls if call[0] == "POST"]) == 2


def test_denied_password_change_names_the_permission(directory):
    directory.add_user("adele@contoso.example")
    directory.fail_next[("PATCH", "/users")] = [graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")]
    results, (before, after) = sync(directory).run([entry("adele@contoso.example", password=PASSWORD, update_password="always")])
    assert results[0]["action"] == "failed" and not results[0]["changed"]
    assert "User-PasswordProfile.ReadWrite.All" in results[0]["error"] and "update_password set to on_create" in results[0]["error"]
    assert before == {} and after == {}


def test_explanations_survive_secret_masking():
    """Failures go through mask_secrets: no explanation may look like ``password=value`` and lose its advice."""
    texts = [PASSWORD_PERMISSION, PASSWORD_RULE, UPN_RULE, NICKNAME_RULE, password_problem("short")]
    texts += validate_user(entry("x@contoso.example", update_password="always", usage_location="x", mail_nickname="@"))
    for text in texts:
        assert mask_secrets(text) == text
