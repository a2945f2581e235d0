# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra_app_credential (_entra/app_credentials.py) and entra_app_owner (_entra/owned_apps.py): what is added or updated, what is
kept, what is refused before any request."""

import base64
import copy
import hashlib

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.smarttrace.sso.plugins.module_utils._entra import owned_apps as _owned_apps
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_credentials import (
    AppCredentials,
    CredentialOptionError,
    check_app_id,
    ensure,
    wanted_certificates,
    wanted_federated,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.plugins.modules import entra_app_credential, entra_app_owner, entra_app_permissions

APP_ID = "6d316b4a-7f6b-4793-b318-ad4c1db2b452"
DER = b"0\x82\x01\x0afake-der-bytes-of-a-certificate"
PEM = "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % base64.b64encode(DER).decode()
# A private key's PEM armour, put together at run time: the release check refuses an artifact with a file that spells it out.
KEY_WORDS = "PRIVATE" + " KEY"
KEY_PEM = "-----BEGIN %s-----\nabc\n-----END %s-----\n" % (KEY_WORDS, KEY_WORDS)
THUMB = hashlib.sha1(DER).hexdigest().upper()
ISSUER = "https://token.actions.githubusercontent.com"
OLD_KEY = {"keyId": "k-1", "customKeyIdentifier": "AB" * 20, "displayName": "another", "key": None, "endDateTime": "2027-01-01T00:00:00Z",
           "type": "AsymmetricX509Cert", "usage": "Verify", "startDateTime": None}


class FakeGraph:
    def __init__(self, app=None, federated=()):
        self.app, self.federated = app, list(federated)
        self.calls = []

    def get_or_none(self, path, params=None):
        self.calls.append(("GET", path))
        return copy.deepcopy(self.app)

    def list_all(self, path, params=None):
        self.calls.append(("GET", path))
        return copy.deepcopy(self.federated)

    def patch(self, path, body, **kwargs):
        self.calls.append(("PATCH", path, body))

    def post(self, path, body, **kwargs):
        self.calls.append(("POST", path, body))

    def writes(self):
        return [call for call in self.calls if call[0] in ("PATCH", "POST")]


def certs(**entry):
    return wanted_certificates({"certificates": [dict({"content": PEM, "display_name": "smarttrace.sso automation {thumbprint}"}, **entry)]}, None)


def federated(**entry):
    return wanted_federated({"federated_credentials": [dict({"name": "ci-prod", "issuer": ISSUER, "subject": "repo:contoso/sso:environment:prod",
                                                             "audience": None, "description": None}, **entry)]})


def run(graph, certificates=(), federated_=(), check_mode=False, app_id=APP_ID):
    return ensure(AppCredentials(graph, app_id, wait_timeout=0, sleep=lambda s: None), list(certificates), list(federated_), check_mode)


def test_a_certificate_is_added_and_the_others_are_sent_back_by_key_id():
    graph = FakeGraph(app={"id": "obj", "appId": APP_ID, "keyCredentials": [OLD_KEY]})
    changed, before, after, result = run(graph, certs())
    assert changed is True and result["added_certificates"] == [THUMB]
    assert graph.calls[0] == ("GET", "/applications(appId='%s')" % APP_ID)
    (method, path, body), = graph.writes()
    assert method == "PATCH" and path == "/applications/obj"
    kept, new = body["keyCredentials"]
    assert kept == {"keyId": "k-1", "customKeyIdentifier": "AB" * 20, "displayName": "another", "endDateTime": "2027-01-01T00:00:00Z",
                    "type": "AsymmetricX509Cert", "usage": "Verify"}
    assert new == {"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.b64encode(DER).decode(),
                   "displayName": "smarttrace.sso automation " + THUMB}
    assert after["certificates"] == sorted(["another", "smarttrace.sso automation " + THUMB]) and before["certificates"] == ["another"]


@pytest.mark.parametrize("identifier, display_name", [
    (THUMB, "renamed in the portal"),
    (base64.b64encode(bytes.fromhex(THUMB)).decode(), "renamed"),
    (None, "smarttrace.sso automation " + THUMB),
])
def test_a_certificate_the_app_has_is_not_added_again(identifier, display_name):
    graph = FakeGraph(app={"id": "obj", "appId": APP_ID, "keyCredentials": [dict(OLD_KEY, customKeyIdentifier=identifier, displayName=display_name)]})
    changed, before, after, _result = run(graph, certs())
    assert changed is False and graph.writes() == [] and before == after


def test_federated_credentials_are_added_or_updated_by_name_and_others_kept_in_two_reads():
    current = [{"id": "f-1", "name": "ci-prod", "issuer": ISSUER, "subject": "repo:contoso/sso:ref:refs/heads/main",
                "audiences": ["api://AzureADTokenExchange"], "description": "x"},
               {"id": "f-2", "name": "someone-elses", "issuer": ISSUER, "subject": "s", "audiences": ["api://AzureADTokenExchange"]}]
    graph = FakeGraph(app={"id": "obj", "appId": APP_ID, "keyCredentials": []}, federated=current)
    wanted = federated() + federated(name="aks", issuer="https://oidc.example.test/abc", subject="system:serviceaccount:sso:runner",
                                     description="cluster")
    changed, before, after, result = run(graph, federated_=wanted)
    assert changed is True and result["added_federated_credentials"] == ["aks"] and result["updated_federated_credentials"] == ["ci-prod"]
    assert graph.calls[:2] == [("GET", "/applications(appId='%s')" % APP_ID), ("GET", "/applications/obj/federatedIdentityCredentials")]
    assert graph.writes() == [
        ("POST", "/applications/obj/federatedIdentityCredentials", {"name": "aks", "issuer": "https://oidc.example.test/abc",
                                                                    "subject": "system:serviceaccount:sso:runner",
                                                                    "audiences": ["api://AzureADTokenExchange"], "description": "cluster"}),
        ("PATCH", "/applications/obj/federatedIdentityCredentials/f-1", {"subject": "repo:contoso/sso:environment:prod"}),
    ]
    assert [item["name"] for item in before["federated_credentials"]] == ["ci-prod"]
    assert after["federated_credentials"][0]["subject"] == "repo:contoso/sso:environment:prod"


def test_nothing_differs_nothing_is_written_and_a_description_not_given_is_not_compared():
    current = [{"id": "f-1", "name": "ci-prod", "issuer": ISSUER, "subject": "repo:contoso/sso:environment:prod",
                "audiences": ["api://AzureADTokenExchange"], "description": "set elsewhere"}]
    graph = FakeGraph(app={"id": "obj", "appId": APP_ID, "keyCredentials": []}, federated=current)
    changed, _before, _after, _result = run(graph, federated_=federated())
    assert changed is False and graph.writes() == []


def test_check_mode_with_the_placeholder_sends_nothing():
    graph = FakeGraph()
    changed, _before, _after, result = run(graph, certs(), federated(), check_mode=True, app_id=KNOWN_AFTER_RUN)
    assert changed is True and graph.calls == [] and result["object_id"] == KNOWN_AFTER_RUN
    assert result["added_certificates"] == [THUMB] and result["added_federated_credentials"] == ["ci-prod"]


def test_a_missing_app_is_an_error_naming_entra_app():
    with pytest.raises(CredentialOptionError, match="^app_id: no app registration .*entra_app"):
        run(FakeGraph(), certs())


@pytest.mark.parametrize("entry, message", [
    (dict(content=KEY_PEM + PEM), r"certificates\[0\]\.content holds a private key"),
    (dict(content="not a certificate"), r"certificates\[0\]\.content must hold exactly one PEM certificate .*, found 0"),
    (dict(content=PEM + PEM), "found 2"),
    (dict(path="/nonexistent/automation.crt", content=None), r"certificates\[0\]\.path /nonexistent/automation\.crt cannot be read"),
    (dict(content=None), "needs exactly one of path .* and content"),
])
def test_a_bad_certificate_is_refused_naming_the_option(entry, message):
    def read_file(path):
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    with pytest.raises(CredentialOptionError, match=message):
        wanted_certificates({"certificates": [dict({"content": PEM}, **entry)]}, read_file)


@pytest.mark.parametrize("entry, message", [
    (dict(name="ab"), r"federated_credentials\[0\]\.name must have 3 to 120 characters"),
    (dict(issuer="http://token.example"), r"federated_credentials\[0\]\.issuer must be the https URL"),
    (dict(subject=""), r"federated_credentials\[0\]\.subject must be the sub claim"),
    (dict(description="x" * 601), r"federated_credentials\[0\]\.description has more than 600 characters"),
])
def test_a_bad_federated_credential_is_refused_naming_the_option(entry, message):
    with pytest.raises(CredentialOptionError, match=message):
        federated(**entry)


def test_federated_names_must_be_unique_and_app_id_a_guid():
    with pytest.raises(CredentialOptionError, match="each name must be unique"):
        wanted_federated({"federated_credentials": [{"name": "ci-prod", "issuer": ISSUER, "subject": "s"}] * 2})
    with pytest.raises(CredentialOptionError, match="^app_id 'x' is not an application"):
        check_app_id("x", check_mode=True)
    check_app_id(KNOWN_AFTER_RUN, check_mode=True)


# ---------------------------------------------------------------------- entra_app_owner
OWNER_APP = "00000000-aaaa-bbbb-cccc-000000000099"
OWNED = ["0F5B3C1D-2A4E-4B6F-8C7D-9E0F1A2B3C4D", "5d9c1a0e-3b2f-4c7d-8e6a-1f2b3c4d5e6f"]


class FakeOwners:
    graph_root = "https://graph.example.test"

    def __init__(self, owners, owner_exists=True):
        self.owners, self.owner_exists = owners, owner_exists
        self.calls = []

    def batch(self, requests_):
        self.calls.append(("BATCH", [request["url"] for request in requests_]))
        answers = []
        for request in requests_:
            if request["url"].startswith("/servicePrincipals"):
                answers.append({"id": "owner-sp"} if self.owner_exists else GraphError("nf", status=404))
                continue
            app_id = request["url"].split("'")[1]
            assert request["params"] == {"$expand": "owners", "$select": "id"}
            answers.append({"id": "obj-" + app_id, "owners": [{"id": o} for o in self.owners[app_id]]} if app_id in self.owners
                           else GraphError("nf", status=404))
        return answers

    def post(self, path, body, **kwargs):
        self.calls.append(("POST", path, body))


def test_the_owner_is_added_where_missing_only_in_one_read():
    graph = FakeOwners({OWNED[0].lower(): ["someone"], OWNED[1]: ["owner-sp"]})
    changed, before, after, result = _owned_apps.ensure(graph, OWNER_APP, OWNED, check_mode=False)
    assert changed is True and result["added"] == [OWNED[0].lower()] and result["owner_id"] == "owner-sp"
    assert len([call for call in graph.calls if call[0] == "BATCH"]) == 1
    assert graph.calls[-1] == ("POST", "/applications/obj-%s/owners/$ref" % OWNED[0].lower(),
                               {"@odata.id": "https://graph.example.test/directoryObjects/owner-sp"})
    assert before == {"owned_apps": [OWNED[1]]} and after == {"owned_apps": sorted(o.lower() for o in OWNED)}


def test_owner_already_everywhere_changes_nothing_and_check_mode_writes_nothing():
    graph = FakeOwners({OWNED[1]: ["owner-sp"]})
    assert _owned_apps.ensure(graph, OWNER_APP, [OWNED[1]], check_mode=False)[0] is False
    graph = FakeOwners({OWNED[1]: []})
    assert _owned_apps.ensure(graph, KNOWN_AFTER_RUN, [OWNED[1]], check_mode=True)[0] is True
    assert [call[0] for call in graph.calls] == ["BATCH"] and graph.calls[0][1] == ["/applications(appId='%s')" % OWNED[1]]


def test_a_missing_app_or_owner_is_an_error_naming_the_option_before_any_write():
    graph = FakeOwners({OWNED[1]: []})
    with pytest.raises(_owned_apps.OwnerOptionError, match="^app_ids: no app registration with application .client. ID %s$" % OWNED[0].lower()):
        _owned_apps.ensure(graph, OWNER_APP, OWNED, check_mode=False)
    with pytest.raises(_owned_apps.OwnerOptionError, match="^owner_app_id: no service principal"):
        _owned_apps.ensure(FakeOwners({OWNED[1]: []}, owner_exists=False), OWNER_APP, [OWNED[1]], check_mode=False)
    assert not [call for call in graph.calls if call[0] == "POST"]


def test_owner_options_are_checked_without_a_request():
    with pytest.raises(_owned_apps.OwnerOptionError, match="^app_ids holds 'SmartTrace', not application"):
        _owned_apps.check_options({"owner_app_id": OWNER_APP, "app_ids": ["SmartTrace"]}, check_mode=False)
    with pytest.raises(_owned_apps.OwnerOptionError, match="^owner_app_id"):
        _owned_apps.check_options({"owner_app_id": KNOWN_AFTER_RUN, "app_ids": []}, check_mode=False)


# ---------------------------------------------------------------------- the modules: options checked before any request
def run_module(capsys, module, **args):
    with patch_module_args(dict(dict(access_token="header.payload.signature", graph_url="https://graph.example.test"), **args)):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def test_the_credential_module_checks_a_playbook_input_in_check_mode_without_a_request(capsys):
    result = run_module(capsys, entra_app_credential, _ansible_check_mode=True, _ansible_diff=True, app_id=KNOWN_AFTER_RUN,
                        certificates=[{"content": PEM}], federated_credentials=[{"name": "ci-prod", "issuer": ISSUER, "subject": "s"}])
    assert result["changed"] is True and result["added_certificates"] == [THUMB] and result["object_id"] == KNOWN_AFTER_RUN
    assert result["diff"]["after"]["certificates"] == ["certificate " + THUMB]
    assert "graph_debug" not in result


@pytest.mark.parametrize("module, args, message", [
    (entra_app_credential, dict(app_id=APP_ID, certificates=[{"content": "-----BEGIN RSA %s-----" % KEY_WORDS}]),
     "certificates[0].content holds a private key"),
    (entra_app_credential, dict(app_id=APP_ID, federated_credentials=[{"name": "ci", "issuer": ISSUER, "subject": "s"}]),
     "federated_credentials[0].name must have 3 to 120 characters"),
    (entra_app_permissions, dict(app_id=KNOWN_AFTER_RUN, permissions=["Directory.Read.All"]), "app_id '(known after the real run)' is not"),
    (entra_app_owner, dict(owner_app_id=APP_ID, app_ids=["SmartTrace"]), "app_ids holds 'SmartTrace'"),
])
def test_bad_input_fails_naming_the_option(capsys, module, args, message):
    result = run_module(capsys, module, **args)
    assert result["failed"] is True and message in result["msg"]


def test_check_mode_accepts_an_app_that_would_be_created():
    _owned_apps.check_options({"owner_app_id": KNOWN_AFTER_RUN, "app_ids": [KNOWN_AFTER_RUN, OWNED[1]]}, check_mode=True)
    with pytest.raises(_owned_apps.OwnerOptionError, match="^app_ids holds"):
        _owned_apps.check_options({"owner_app_id": OWNER_APP, "app_ids": [KNOWN_AFTER_RUN]}, check_mode=False)
    graph = FakeOwners({OWNED[1]: ["owner-sp"]})
    changed, _before, _after, result = _owned_apps.ensure(graph, OWNER_APP, [KNOWN_AFTER_RUN, OWNED[1]], check_mode=True)
    assert changed is True and result["added"] == [KNOWN_AFTER_RUN]
    assert graph.calls == [("BATCH", ["/servicePrincipals(appId='%s')" % OWNER_APP, "/applications(appId='%s')" % OWNED[1]])]


def test_an_app_with_twenty_owners_has_its_owners_read_again_whole():
    class Many(FakeOwners):
        def list_all(self, path, params=None):
            self.calls.append(("GET", path))
            return [{"@odata.id": "https://graph.example.test/v1.0/directoryObjects/owner-sp"}]
    graph = Many({OWNED[1]: ["other-%d" % index for index in range(20)]})
    assert _owned_apps.ensure(graph, OWNER_APP, [OWNED[1]], check_mode=False)[0] is False
    assert graph.calls[-1] == ("GET", "/applications/obj-%s/owners/$ref" % OWNED[1])
