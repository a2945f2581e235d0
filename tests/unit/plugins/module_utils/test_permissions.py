# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One table of required Microsoft Graph permissions (_graph/permissions.py): the code's Graph paths map to it, and README.md,
docs/automation-identity.md, playbooks/create_automation_identity.yml and the role's preflight check agree with it."""

import glob
import os
import re

import pytest
import yaml

from ansible_collections.smarttrace.sso.plugins.module_utils._graph.permissions import CALLS, PERMISSIONS, names, permission_for
from ansible_collections.smarttrace.sso.plugins.module_utils._plan.decisions import NEEDS, any_of

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
PERMISSION_RE = re.compile(r"\b[A-Z][A-Za-z]+\.(?:Read|ReadWrite)\.(?:All|OwnedBy)\b")
ALTERNATIVES = dict((row[0], list(row[2])) for row in PERMISSIONS)
SAMPLE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read()


def code_paths():
    """Every Graph path the module code builds, as a sample path: literals, entity_path and key_path calls."""
    paths = set()
    sources = glob.glob(os.path.join(ROOT, "plugins", "module_utils", "**", "*.py"), recursive=True)
    for path in sources + glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")):
        if path.endswith("_smarttrace/client.py") or path.endswith("_graph/permissions.py"):
            continue  # SmartTrace's API, and the table itself
        text = read(path)
        for collection, rest in re.findall(r'entity_path\("(/[A-Za-z0-9]+)", ([^\n]*)', text):
            segments = re.findall(r'"([A-Za-z0-9$]+)"\)', rest)
            paths.add("%s/%s%s" % (collection, SAMPLE_ID, "".join("/" + s for s in segments)))
        for collection, key in re.findall(r'key_path\("(/[A-Za-z0-9]+)", "([A-Za-z]+)"', text):
            paths.add("%s(%s='x')" % (collection, key))
        for literal in re.findall(r'"(/(?:applications|applicationTemplates|servicePrincipals|users|groups|organization|domains|'
                                  r'oauth2PermissionGrants|directory|\$batch)[A-Za-z./$]*)', text):
            paths.add(literal)
        for action in re.findall(r'"/(addPassword|removePassword|instantiate)"', text):
            paths.add("/applications/%s/%s" % (SAMPLE_ID, action) if action != "instantiate" else "/applicationTemplates/x/instantiate")
    return sorted(paths)


def test_the_code_builds_graph_paths_and_each_is_in_the_table():
    paths = code_paths()
    assert len(paths) >= 20 and "/servicePrincipals/%s/appRoleAssignedTo" % SAMPLE_ID in paths
    assert "/servicePrincipals/%s/oauth2PermissionGrants" % SAMPLE_ID in paths and "/oauth2PermissionGrants/%s" % SAMPLE_ID in paths
    unmatched = [path for path in paths if not any(permission_for(method, path)[0] for method in ("GET", "POST", "PATCH", "DELETE"))]
    assert unmatched == []


def test_every_row_names_a_permission_of_the_table():
    assert set(permission for _methods, _pattern, permission in CALLS if permission) == set(names())


@pytest.mark.parametrize("method, path, permission", [
    ("GET", "https://graph.microsoft.com/v1.0/servicePrincipals(appId='x')?$select=id", "Directory.Read.All"),
    ("POST", "/v1.0/applications/%s/addPassword" % SAMPLE_ID, "Application.ReadWrite.OwnedBy"),
    ("POST", "/servicePrincipals/%s/appRoleAssignedTo" % SAMPLE_ID, "AppRoleAssignment.ReadWrite.All"),
    ("DELETE", "/servicePrincipals/%s/appRoleAssignedTo/abc-_x" % SAMPLE_ID, "AppRoleAssignment.ReadWrite.All"),
    ("PATCH", "/users/b.simon%40contoso.example", "User.ReadWrite.All"),
    ("POST", "/oauth2PermissionGrants", "DelegatedPermissionGrant.ReadWrite.All"),
    ("GET", "/groups?$filter=displayName eq 'SmartTrace Users'", "Directory.Read.All"),
    ("POST", "/$batch", None),
    ("POST", "/applications/%s/owners/$ref" % SAMPLE_ID, "Application.ReadWrite.All"),
    ("DELETE", "/servicePrincipals/%s/owners/%s/$ref" % (SAMPLE_ID, SAMPLE_ID), "Application.ReadWrite.All"),
    ("GET", "/applications/%s/owners/$ref" % SAMPLE_ID, "Directory.Read.All"),
])
def test_requests_map_to_their_least_privileged_permission(method, path, permission):
    assert permission_for(method, path) == (True, permission)


def test_a_request_outside_the_table_is_not_mapped():
    assert permission_for("POST", "/applications/%s/extensionProperties" % SAMPLE_ID) == (False, None)
    assert permission_for("DELETE", "/groups/%s" % SAMPLE_ID) == (False, None)


def section(text, heading):
    start = text.index(heading)
    end = text.find("\n#", start + len(heading))
    return text[start:end if end >= 0 else len(text)]


def first_column(table_text):
    return [PERMISSION_RE.findall(line.split("|")[1])[0] for line in table_text.splitlines()
            if line.startswith("| `") and PERMISSION_RE.search(line.split("|")[1])]


def test_readme_names_exactly_the_table():
    rows = first_column(section(read("README.md"), "## What the automation identity needs"))
    assert rows == names()


def test_automation_identity_doc_names_exactly_the_table():
    rows = first_column(section(read("docs", "automation-identity.md"), "## What it needs"))
    assert rows == names()


def test_create_automation_identity_grants_exactly_the_table():
    play = yaml.safe_load(read("playbooks", "create_automation_identity.yml"))
    expression = [item for item in play if "automation_permissions" in (item.get("vars") or {})][0]["vars"]["automation_permissions"]
    granted = set(PERMISSION_RE.findall(expression))
    assert granted == set(names()) | {"Application.ReadWrite.All"}  # OwnedBy, or All with smarttrace_sso_automation_all_apps


def test_the_role_checks_the_table():
    # the role's plan (smarttrace.sso.entra_sso_plan) checks every permission of the table but Directory.Read.All, which its own
    # reads prove, each with the table's alternatives
    assert sorted(permission for permission, _purpose in NEEDS) == sorted(set(names()) - {"Directory.Read.All"})
    for permission, _purpose in NEEDS:
        assert any_of(permission) == [permission] + ALTERNATIVES[permission]
