# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of the Microsoft Graph application permissions the automation identity needs.

``PERMISSIONS`` says which permissions, when and why; ``CALLS`` says, for every Graph request the modules make (method
and path), which of them allows it. Tests hold the rest to this table: every Graph path the module code builds is in
``CALLS`` (tests/unit/plugins/module_utils/test_permissions.py scans the code), and README.md, docs/automation-identity.md,
playbooks/create_automation_identity.yml and the role's preflight check name exactly these permissions.
"""

import re

# (permission, needed when, alternatives that also do (more privilege), why) - in the order the docs list them.
PERMISSIONS = (
    ("Application.ReadWrite.OwnedBy", "always", ("Application.ReadWrite.All",),
     "create the SmartTrace app registration and its service principal, change them, add and remove its client secrets; "
     "only apps the identity owns (it owns the apps it creates)"),
    ("Directory.Read.All", "always", ("Directory.ReadWrite.All",),
     "read the tenant, its verified domains, apps, service principals, users and groups (by name)"),
    ("AppRoleAssignment.ReadWrite.All", "assignments (smarttrace_sso_assign_users, smarttrace_sso_assign_groups)", (),
     "assign users and groups to the SmartTrace enterprise application"),
    ("User.ReadWrite.All", "test users (smarttrace_sso_test_users)", ("Directory.ReadWrite.All",),
     "create, update and delete test users such as B.Simon"),
    ("DelegatedPermissionGrant.ReadWrite.All", "admin consent (smarttrace_sso_admin_consent: true)", ("Directory.ReadWrite.All",),
     "grant tenant-wide consent to openid, profile, email and User.Read"),
    ("Application.ReadWrite.All", "owners (smarttrace_sso_owners, entra_app owners)", ("Directory.ReadWrite.All",),
     "add and remove owners of the app registration and its enterprise application (Application.ReadWrite.OwnedBy cannot "
     "add another owner)"),
)

# (methods, path pattern, permission): the first row that matches a request gives its permission. A path is the part
# after the version (/v1.0), without the query. $batch carries requests that each need their own permission.
_ID = r"(/[^/()?]+|\([^)]*\))"
CALLS = (
    (("GET",), r"^/organization$", "Directory.Read.All"),
    (("GET",), r"^/domains$", "Directory.Read.All"),
    (("GET",), r"^/applicationTemplates" + _ID + r"?$", "Directory.Read.All"),
    (("POST",), r"^/applicationTemplates" + _ID + r"/instantiate$", "Application.ReadWrite.OwnedBy"),
    (("GET",), r"^/applications" + _ID + r"?$", "Directory.Read.All"),
    (("POST",), r"^/applications$", "Application.ReadWrite.OwnedBy"),
    (("PATCH", "DELETE"), r"^/applications" + _ID + r"$", "Application.ReadWrite.OwnedBy"),
    (("POST",), r"^/applications" + _ID + r"/(addPassword|removePassword)$", "Application.ReadWrite.OwnedBy"),
    (("GET", "POST"), r"^/applications" + _ID + r"/federatedIdentityCredentials$", "Application.ReadWrite.OwnedBy"),
    (("PATCH",), r"^/applications" + _ID + r"/federatedIdentityCredentials" + _ID + r"$", "Application.ReadWrite.OwnedBy"),
    (("GET",), r"^/directory/deletedItems/microsoft\.graph\.application$", "Directory.Read.All"),
    (("GET",), r"^/servicePrincipals" + _ID + r"?$", "Directory.Read.All"),
    (("POST",), r"^/servicePrincipals$", "Application.ReadWrite.OwnedBy"),
    (("PATCH",), r"^/servicePrincipals" + _ID + r"$", "Application.ReadWrite.OwnedBy"),
    (("GET",), r"^/servicePrincipals" + _ID + r"/(appRoleAssignedTo|appRoleAssignments|oauth2PermissionGrants)$", "Directory.Read.All"),
    (("POST",), r"^/servicePrincipals" + _ID + r"/appRoleAssignedTo$", "AppRoleAssignment.ReadWrite.All"),
    (("DELETE",), r"^/servicePrincipals" + _ID + r"/appRoleAssignedTo" + _ID + r"$", "AppRoleAssignment.ReadWrite.All"),
    (("GET",), r"^/oauth2PermissionGrants" + _ID + r"?$", "Directory.Read.All"),
    (("POST",), r"^/oauth2PermissionGrants$", "DelegatedPermissionGrant.ReadWrite.All"),
    (("PATCH", "DELETE"), r"^/oauth2PermissionGrants" + _ID + r"$", "DelegatedPermissionGrant.ReadWrite.All"),
    (("GET",), r"^/users" + _ID + r"?(/appRoleAssignments)?$", "Directory.Read.All"),
    (("POST",), r"^/users$", "User.ReadWrite.All"),
    (("PATCH", "DELETE"), r"^/users" + _ID + r"$", "User.ReadWrite.All"),
    (("GET",), r"^/groups" + _ID + r"?$", "Directory.Read.All"),
    (("GET",), r"^/(applications|servicePrincipals)" + _ID + r"/owners(/\$ref)?$", "Directory.Read.All"),
    (("POST",), r"^/(applications|servicePrincipals)" + _ID + r"/owners/\$ref$", "Application.ReadWrite.All"),
    (("DELETE",), r"^/(applications|servicePrincipals)" + _ID + r"/owners" + _ID + r"/\$ref$", "Application.ReadWrite.All"),
    (("POST",), r"^/\$batch$", None),
)
_COMPILED = tuple((methods, re.compile(pattern), permission) for methods, pattern, permission in CALLS)


def names():
    """The permissions of the table, in its order."""
    return [row[0] for row in PERMISSIONS]


def permission_for(method, path):
    """``(True, permission)`` for the first row of ``CALLS`` matching the request (permission None for ``$batch``),
    ``(False, None)`` when no row does. ``path`` may carry /v1.0 and a query."""
    path = re.sub(r"^(https://[^/]+)?/(v1\.0|beta)(?=/)", "", path.split("?", 1)[0])
    for methods, pattern, permission in _COMPILED:
        if method.upper() in methods and pattern.match(path):
            return True, permission
    return False, None
