"""Replay of real Microsoft Graph traffic (``recordings/``, from Azure CLI's tests) against the sandbox, over HTTPS.

Each recorded request is sent to the sandbox with the ids real Graph assigned replaced by the ids the sandbox
assigned (learnt by walking each recorded answer and the sandbox's answer side by side: a GUID at the same place
in both is the same object), and the recorded tenant's domain replaced by the sandbox's. Then the answers must agree:

- the status; for errors the code and the message (ids and domain mapped back);
- every key real Graph returned is there (``OLDER_PROPERTIES`` lists the ones the sandbox lacks, with the reason),
  and every key the sandbox adds is a property Graph added after 2022 (``NEWER_PROPERTIES``, with the reason);
- the JSON type of every value; lists have the recorded length (except tenant-wide lists, ``TENANT_WIDE``);
- every value, ids mapped, except those that differ by nature (``VARYING``: creation times, random hints);
  so the behaviour-bearing values (signInAudience, requestedAccessTokenVersion, the order of secrets, flags, names)
  are compared exactly, and an id seen twice must map to the same sandbox id each time.

Refusals that come from the sandbox identity's narrower permissions (the recordings were made by an administrator)
are asserted as such in ``REFUSED``: 403 ``Authorization_RequestDenied``; then the part of the write the identity
may do is sent so that the rest of the recording still applies.
"""
from __future__ import annotations

import json
import pathlib
import re
import urllib.parse

import pytest
import yaml

RECORDINGS = pathlib.Path(__file__).parent / "recordings"
REAL_GRAPH = "https://graph.microsoft.com"
REAL_DOMAIN = "AzureSDKTeam.onmicrosoft.com"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)

# Values that differ between any two tenants or runs by nature; their type and presence are still compared.
VARYING = {"createdDateTime": "the moment of creation", "renewedDateTime": "the moment of creation or renewal",
           "hint": "the first characters of a random secret", "secretText": "a random secret",
           "securityIdentifier": "derived from the tenant and object", "@odata.nextLink": "a paging token"}
# Properties the sandbox returns that the 2022 recordings do not have: Graph v1.0 added them since.
NEWER_PROPERTIES = {
    "createdByAppId": "application, servicePrincipal: the app that created the object; in today's v1.0 resource, not in 2022",
    "nativeAuthenticationApisEnabled": "application: native authentication (External ID), in v1.0 since after 2022",
    "oauth2RequirePostResponse": "application: in today's v1.0 default properties, not in the 2022 answers",
    "uniqueName": "application, group: the alternate key for upserts (PATCH .../(uniqueName=...)), added to v1.0 after 2022",
    "samlMetadataUrl": "application: in today's v1.0 default properties, not in the 2022 answers",
    "servicePrincipalLockConfiguration": "application: app instance property lock, added to v1.0 after 2022",
    "requestSignatureVerification": "application: added to v1.0 after 2022",
    "redirectUriSettings": "application.web: redirect URIs with an index, added to v1.0 after 2022",
}
# Properties real Graph returned in 2022 that the sandbox does not show, with the reason.
OLDER_PROPERTIES: dict[str, str] = {}
# Lists real Graph does not keep in one order: compared as multisets.
UNORDERED = {"servicePrincipalNames": "real Graph answered [appId, identifierUri] on create and [identifierUri, appId] on every read after"}
# Lists whose length is the size of the recorded tenant (ours is smaller): only each entry's shape is compared.
TENANT_WIDE = {("GET", "/v1.0/users"): "every user of the recorded tenant (more than a page: it also has @odata.nextLink)"}
# (recording, interaction index): why the sandbox identity is refused, and what it may send instead (None: nothing).
REFUSED = {
    ("test_user_scenario_prefix", 1): ("User-PasswordProfile.ReadWrite.All: app-only identities may not reset another user's password",
                                       lambda body: {k: v for k, v in body.items() if k != "passwordProfile"}),
    ("test_user_scenario_prefix", 5): ("GroupMember.ReadWrite.All: the automation identity reads groups but does not change them", "grant"),
    ("test_special_characters_in_upn", 1): ("User-PasswordProfile.ReadWrite.All: app-only identities may not reset another user's password",
                                            None),
}
GRANT = ["Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.Read.All", "Group.ReadWrite.All",
         "DelegatedPermissionGrant.ReadWrite.All"]
# Objects the recorded tenant had before the recording started.
SETUP = {"test_user_scenario_prefix": [("group", {"displayName": "graphusertest_g", "mailNickname": "graphusertest_g",
                                                  "description": "graphusertest_g"})],
         "test_app_owner": [("user", {"displayName": "rolelivetest", "userPrincipalName": "example@example.com", "mailNickname": "example"})]}
# (recording, interaction index): what the recorded caller's identity did that the sandbox's cannot, done after that interaction.
CALLER = {("test_app_owner", 2): "the recorded caller is a signed-in user, whom Graph makes the first owner of an app they create; "
                                 "the sandbox's caller is an app (with Application.ReadWrite.All it becomes no owner): the user is made owner"}


def _recordings():
    return sorted(path.stem for path in RECORDINGS.glob("*.yaml"))


class Replay:
    """One recording replayed against the sandbox: id map, request rewriting, answer comparison."""

    def __init__(self, name, sandbox, session):
        self.name = name
        self.sandbox = sandbox
        self.session = session
        self.url = sandbox.endpoint["url"]
        self.domain = sandbox.directory.verified_domains()[0]
        self.ids: dict[str, str] = {}
        self.token = self._token()
        self.compared = 0

    def _token(self):
        endpoint = self.sandbox.endpoint
        answer = self.session.post("%s/%s/oauth2/v2.0/token" % (self.url, endpoint["tenant_id"]),
                                   data={"grant_type": "client_credentials", "client_id": endpoint["client_id"],
                                         "client_secret": endpoint["client_secret"], "scope": "https://graph.microsoft.com/.default"})
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def grant(self, roles):
        answer = self.session.post(self.url + "/_sandbox/directory/set-graph-roles", json={"client_id": self.sandbox.endpoint["client_id"], "roles": roles})
        assert answer.status_code == 200, answer.text
        self.token = self._token()

    # ---- rewriting
    def to_sandbox(self, text):
        text = GUID.sub(lambda m: self.ids.get(m.group(0).lower(), m.group(0)), text)
        return re.sub(re.escape(REAL_DOMAIN), self.domain, text, flags=re.I)

    def from_sandbox(self, text):
        back = {v: k for k, v in self.ids.items()}
        text = GUID.sub(lambda m: back.get(m.group(0).lower(), m.group(0)), text)
        return text.replace(self.url, REAL_GRAPH).replace(self.domain, REAL_DOMAIN)

    def send(self, method, uri, body):
        assert uri.startswith(REAL_GRAPH)
        url = self.to_sandbox(self.url + uri[len(REAL_GRAPH):])
        data = None if body is None else self.to_sandbox(body if isinstance(body, str) else json.dumps(body)).encode()
        headers = {"Authorization": "Bearer " + self.token}
        if data is not None:
            headers["Content-Type"] = "application/json"
        answer = self.session.request(method, url, data=data, headers=headers)
        parsed = answer.json() if answer.content else None
        return answer.status_code, parsed

    # ---- comparison
    def learn(self, recorded, actual):
        """Map the GUIDs real Graph assigned to the sandbox's, at the same places; a GUID mapped before must map the same."""
        if isinstance(recorded, dict) and isinstance(actual, dict):
            for key in recorded:
                if key in actual:
                    self.learn(recorded[key], actual[key])
        elif isinstance(recorded, list) and isinstance(actual, list):
            for one, other in zip(recorded, actual):
                self.learn(one, other)
        elif isinstance(recorded, str) and isinstance(actual, str) and GUID.fullmatch(recorded) and GUID.fullmatch(actual):
            self.ids.setdefault(recorded.lower(), actual.lower())

    def compare(self, recorded, actual, where, problems, tenant_wide=False):
        if isinstance(recorded, dict):
            if not isinstance(actual, dict):
                problems.append("%s: an object in real Graph, %s here" % (where, type(actual).__name__))
                return
            for key in recorded:
                if key == "x_truncated":
                    continue
                if key not in actual:
                    if key not in OLDER_PROPERTIES and not (tenant_wide and key == "@odata.nextLink"):
                        problems.append("%s.%s: missing (real Graph returned it)" % (where, key))
                    continue
                if key in VARYING:
                    if type(recorded[key]) is not type(actual[key]) and recorded[key] is not None:
                        problems.append("%s.%s: %s in real Graph, %s here" % (where, key, type(recorded[key]).__name__, type(actual[key]).__name__))
                    elif key == "hint" and recorded[key] is not None and len(recorded[key]) != len(actual[key]):
                        problems.append("%s.hint: %d characters in real Graph, %d here" % (where, len(recorded[key]), len(actual[key])))
                    continue
                if key in UNORDERED and isinstance(recorded[key], list) and isinstance(actual[key], list):
                    mine = sorted(self.from_sandbox(item) if isinstance(item, str) else json.dumps(item) for item in actual[key])
                    if sorted(item if isinstance(item, str) else json.dumps(item) for item in recorded[key]) != mine:
                        problems.append("%s.%s: %r in real Graph, %r here (in any order)" % (where, key, recorded[key], mine))
                    continue
                self.compare(recorded[key], actual[key], "%s.%s" % (where, key), problems, tenant_wide)
            for key in actual:
                if key not in recorded and key not in NEWER_PROPERTIES and not key.startswith("@odata.") and not tenant_wide:
                    problems.append("%s.%s: the sandbox returns it, real Graph did not (and it is not listed as newer)" % (where, key))
        elif isinstance(recorded, list):
            if not isinstance(actual, list):
                problems.append("%s: a list in real Graph, %s here" % (where, type(actual).__name__))
                return
            if tenant_wide:
                for index, item in enumerate(actual):
                    if recorded and isinstance(recorded[0], dict):
                        missing = [k for k in recorded[0] if k not in item and k != "x_truncated"]
                        if missing:
                            problems.append("%s[%d]: missing %s" % (where, index, missing))
                return
            if len(recorded) != len(actual):
                problems.append("%s: %d entries in real Graph, %d here" % (where, len(recorded), len(actual)))
                return
            for index, (one, other) in enumerate(zip(recorded, actual)):
                self.compare(one, other, "%s[%d]" % (where, index), problems)
        else:
            shown = self.from_sandbox(actual) if isinstance(actual, str) else actual
            if type(recorded) is not type(actual):
                problems.append("%s: %r (%s) in real Graph, %r (%s) here" % (where, recorded, type(recorded).__name__, shown, type(actual).__name__))
            elif isinstance(recorded, str) and GUID.fullmatch(recorded):
                if self.ids.get(recorded.lower()) != actual.lower():
                    problems.append("%s: id %s in real Graph maps to %s, here %s" % (where, recorded, self.ids.get(recorded.lower()), actual))
            elif shown != recorded:
                problems.append("%s: %r in real Graph, %r here" % (where, recorded, shown))


def _setup(box, name):
    directory = box.directory
    for kind, props in SETUP.get(name, []):
        with directory.lock:
            if kind == "group":
                directory.register(directory.groups, directory.new_group(props["displayName"], props["mailNickname"], description=props["description"]))
            else:
                directory.register(directory.users, directory.new_user(props["userPrincipalName"], props["displayName"], props["mailNickname"]))


def _as_recorded_caller(box, name, actual):
    """CALLER: the user of the recording's SETUP becomes an owner of the object the sandbox just created."""
    directory = box.directory
    upn = next(props["userPrincipalName"] for kind, props in SETUP[name] if kind == "user")
    with directory.lock:
        directory.owners(actual["id"]).append(directory.user_by_upn(upn)["id"])


@pytest.mark.parametrize("name", _recordings())
def test_replay(fresh_sandbox, session, name):
    recording = yaml.safe_load((RECORDINGS / (name + ".yaml")).read_text(encoding="utf-8"))
    _setup(fresh_sandbox, name)
    replay = Replay(name, fresh_sandbox, session)
    problems: list[str] = []
    for index, interaction in enumerate(recording["interactions"]):
        request, response = interaction["request"], interaction["response"]
        method, uri, body = request["method"], request["uri"], request["body"]
        status, actual = replay.send(method, uri, body)
        where = "%s #%d %s %s" % (name, index, method, uri[len(REAL_GRAPH):])
        if (name, index) in REFUSED:
            reason, instead = REFUSED[name, index]
            assert status == 403 and actual["error"]["code"] == "Authorization_RequestDenied", (where, reason, status, actual)
            if instead == "grant":
                replay.grant(GRANT)
                status, actual = replay.send(method, uri, body)
            elif instead is not None:
                status, actual = replay.send(method, uri, instead(json.loads(body)))
            else:
                continue
        expected_status = response["status"]["code"]
        text = response["body"]["string"]
        recorded = json.loads(text) if text else None
        if status != expected_status:
            problems.append("%s: status %s in real Graph, %s here (%s)" % (where, expected_status, status, actual))
            continue
        if recorded is None:
            continue
        if status >= 400:
            assert actual["error"]["code"] == recorded["error"]["code"], where
            assert replay.from_sandbox(actual["error"]["message"]) == recorded["error"]["message"], where
            continue
        replay.learn(recorded, actual)
        if (name, index) in CALLER:
            _as_recorded_caller(fresh_sandbox, name, actual)
        path = urllib.parse.urlsplit(uri).path
        tenant_wide = (method, path) in TENANT_WIDE and not urllib.parse.urlsplit(uri).query
        replay.compare(recorded, actual, where, problems, tenant_wide=tenant_wide)
    assert not problems, "\n".join(problems)


def test_every_exception_has_a_reason():
    for table in (VARYING, NEWER_PROPERTIES, OLDER_PROPERTIES, TENANT_WIDE, UNORDERED):
        assert all(isinstance(reason, str) and reason for reason in table.values())
    names = set(_recordings())
    assert all(name in names for name, _index in list(REFUSED) + list(CALLER)) and all(name in names for name in SETUP)
    assert all(isinstance(reason, str) and reason for reason in CALLER.values())
    assert len(names) >= 6
